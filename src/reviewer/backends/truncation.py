"""Detecting a prompt the server cut to fit its context window.

Newer servers refuse an over-long prompt (Ollama with `truncate: false`, llama.cpp): that
arrives as an HTTP 400 and fails the chunk. Older Ollama servers cut it silently. Two checks
catch that, and neither misfires when the server reuses a cached prefix (which only makes the
reported prompt count smaller):

1. Before sending: if our estimate of the prompt (deliberately high: about 3 characters a token)
   exceeds `num_ctx`, the prompt is not sent. This also covers servers that cut a long prompt
   to about half the window, which no after-the-fact count could tell from a short prompt.
2. After the answer: if the server reports a prompt of at least `num_ctx - TRUNCATION_MARGIN`
   tokens, the prompt filled the whole window: it was cut to fit (or left no room to answer).
"""

from __future__ import annotations

from reviewer.backends.interface import ChunkFailedError

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


def check_not_truncated(reported_prompt_tokens: int, num_ctx: int) -> None:
    """Fail the chunk when the server's prompt count shows the window was filled."""
    if reported_prompt_tokens >= num_ctx - TRUNCATION_MARGIN:
        raise ChunkFailedError(
            f"the server evaluated {reported_prompt_tokens} prompt tokens of a {num_ctx}-token "
            "window: the prompt was truncated",
            _HINT,
            kind="truncated_prompt",
        )
