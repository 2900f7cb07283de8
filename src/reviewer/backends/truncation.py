"""The context window and the answer cap, checked the same way for every backend.

Preflight: `--num-ctx` must not exceed the context the server reports for the model.

A prompt the server cut to fit its window: newer servers refuse an over-long prompt (Ollama
with `truncate: false`, llama.cpp), which arrives as an HTTP 400 and fails the chunk. Older
Ollama servers cut it silently. Two checks catch that, and neither misfires when the server
reuses a cached prefix (which only makes the reported prompt count smaller):

1. Before sending: when the server can count tokens (llama.cpp, vLLM: backends/tokens.py), a
   request it counts over `num_ctx - num_predict` is not sent. In any case, if our estimate of
   the prompt (deliberately high: see prompt.py's estimate_tokens, scaled by the model's
   calibration, chunks/calibration.py) exceeds `num_ctx`, the prompt is not sent. This also
   covers servers that cut a long prompt to about half the window, which no after-the-fact
   count could tell from a short prompt.
2. After the answer: if the server reports a prompt of at least `num_ctx - TRUNCATION_MARGIN`
   tokens, the prompt filled the whole window: it was cut to fit (or left no room to answer).

An answer that stopped at `num_predict` is cut off: invalid, whatever it holds.
"""

from __future__ import annotations

from typing import Any

from reviewer.backends.interface import ChunkFailedError
from reviewer.errors import ConfigError, InvalidAnswerError

TRUNCATION_MARGIN = 32

_HINT = "raise --num-ctx (within the model's limit) or review a smaller diff"


def check_fits(estimated_prompt_tokens: int, num_ctx: int) -> None:
    """Refuse to send a prompt that by our estimate cannot fit."""
    if estimated_prompt_tokens > num_ctx:
        raise ChunkFailedError(
            f"the prompt (about {estimated_prompt_tokens} tokens) does not fit the context "
            f"window (num_ctx {num_ctx})",
            _HINT,
            kind="prompt_too_long",
        )


def check_counted_fits(counted: int, num_ctx: int, num_predict: int) -> None:
    """Refuse to send a request the server itself counted (backends/tokens.py) too long for the
    context less the answer's room: exact, so the bound is the one the chunks were cut to."""
    room = num_ctx - num_predict
    if counted > room:
        raise ChunkFailedError(
            f"the prompt is {counted} tokens by the server's count, over the {room} that "
            f"num_ctx {num_ctx} leaves beside the {num_predict}-token answer",
            _HINT,
            kind="prompt_too_long",
        )


def check_not_truncated(reported_prompt_tokens: int, num_ctx: int) -> None:
    """Fail the chunk when the server's prompt count shows the window was filled."""
    if reported_prompt_tokens >= num_ctx - TRUNCATION_MARGIN:
        raise ChunkFailedError(
            f"the server evaluated {reported_prompt_tokens} prompt tokens of a {num_ctx}-token "
            "window: the prompt was truncated",
            _HINT,
            kind="truncated_prompt",
        )


def check_context_length(num_ctx: int, model: str, context_length: int | None) -> None:
    """Preflight: refuse a `--num-ctx` above the model's context as the server reports it."""
    if context_length is not None and num_ctx > context_length:
        raise ConfigError(
            f"--num-ctx {num_ctx} is above {model}'s context length {context_length}",
            f"use --num-ctx {context_length} or less",
        )


def answer_cut_off(
    num_predict: int, prompt_tokens: int, completion_tokens: int
) -> InvalidAnswerError:
    """The error for an answer that stopped at the `num_predict` cap (its tokens still count)."""
    return InvalidAnswerError(
        f"the answer was cut off at --num-predict {num_predict} tokens",
        kind="answer_cut_off",
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def reported_count(data: Any, key: str) -> int:
    """A token count from a server's JSON (`usage.prompt_tokens`, `eval_count`...): a
    non-negative integer, else 0 (missing, null, a bool, a string or negative)."""
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
