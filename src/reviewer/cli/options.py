"""Option declarations shared by the commands (`run`, `eval` and `doctor`; `post` and `report`),
so they read the same flags and environment variables the same way."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from reviewer.settings.config import (
    DEFAULT_OPENAI_URL,
    MAX_FINDINGS_PER_CHUNK,
    Backend,
    default_url,
)
from reviewer.settings.slices import ModelSettings

# `-h` as well as `--help`, on the app and (inherited through the context) every command.
HELP_OPTIONS = {"help_option_names": ["-h", "--help"]}

E = TypeVar("E", bound=StrEnum)


def choice(kind: type[E]) -> Callable[[str | E], E]:
    """A parser for an enum option that takes any case (`High`, `HIGH`) and refuses anything
    else in our words: typer's own choice check answers "Value error, ... is not one of"."""
    by_name = {member.value.casefold(): member for member in kind}

    def parse(value: str | E) -> E:
        if isinstance(value, kind):
            return value
        found = by_name.get(str(value).casefold())
        if found is None:
            raise typer.BadParameter(f"{value!r} is not one of: {', '.join(by_name.values())}")
        return found

    return parse


def whole(low: int, high: int | None = None) -> Callable[[str | int], int]:
    """A parser for a whole-number option within bounds, refusing in plain words (typer's own
    check answers "Input should be a valid integer, unable to parse string as an integer")."""
    return _bounded(int, "a whole number", low, high)


def seconds(low: float) -> Callable[[str | float], float]:
    """A parser for a finite number of seconds, `low` or more (never `inf` or `nan`: a deadline
    must end)."""
    return _bounded(float, "a number of seconds", low, None)


N = TypeVar("N", int, float)


def _bounded(kind: type[N], what: str, low: N, high: N | None) -> Callable[[str | N], N]:
    def parse(value: str | N) -> N:
        if isinstance(value, kind) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = kind(str(value).strip())
            except ValueError:
                raise typer.BadParameter(f"{value!r} is not {what}") from None
        if not math.isfinite(number):
            raise typer.BadParameter(f"{value!r} is not {what}")
        shown = str(number) if isinstance(number, int) else f"{number:g}"
        if number < low:
            raise typer.BadParameter(f"must be at least {low:g}, not {shown}")
        if high is not None and number > high:
            raise typer.BadParameter(f"must be at most {high:g}, not {shown}")
        return number

    return parse


def choices(kind: type[StrEnum]) -> str:
    """The members of an enum option for its help text."""
    return ", ".join(member.value for member in kind)


RepoOption = Annotated[
    Path, typer.Option("--repo", metavar="PATH", help="The git repository.")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", metavar="PATH", help="Config file (default: .reviewer.toml)."),
]
BackendOption = Annotated[
    Backend,
    typer.Option(
        "--backend",
        envvar="REVIEWER_BACKEND",
        metavar="API",
        parser=choice(Backend),
        help=f"Model server API: {choices(Backend)} (any case).",
    ),
]
ModelOption = Annotated[
    str, typer.Option("--model", envvar="OLLAMA_MODEL", metavar="NAME", help="Model name.")
]
OllamaUrlOption = Annotated[
    str | None,
    typer.Option(
        "--ollama-url", envvar="OLLAMA_BASE_URL", metavar="URL", help="Ollama server URL."
    ),
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        envvar="REVIEWER_BASE_URL",
        metavar="URL",
        help="OpenAI-compatible server URL; a trailing /v1 is dropped (the backend adds it) "
        f"(default: {DEFAULT_OPENAI_URL}, llama.cpp's).",
    ),
]
ModelDigestOption = Annotated[
    str | None,
    typer.Option(
        "--model-digest",
        envvar="OLLAMA_MODEL_DIGEST",
        metavar="DIGEST",
        help="Refuse a model with another digest.",
    ),
]
AllowRemoteOption = Annotated[
    bool,
    typer.Option(
        "--allow-remote-model",
        envvar="REVIEWER_ALLOW_REMOTE_MODEL",
        help="Allow a model URL outside loopback and private networks.",
    ),
]
NumCtxOption = Annotated[
    int,
    typer.Option(
        "--num-ctx",
        parser=whole(512),
        metavar="TOKENS",
        help="Context size to ask for (tokens), at least 512.",
    ),
]
NumPredictOption = Annotated[
    int, typer.Option(parser=whole(16), metavar="TOKENS", help="Cap on answer tokens, 16+.")
]
RetriesOption = Annotated[
    int,
    typer.Option(parser=whole(0, 10), metavar="N", help="Retries after a failure, 0 to 10."),
]
TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout", parser=seconds(1), metavar="SECONDS", help="Per-request timeout, 1 or more."
    ),
]
MaxFindingsOption = Annotated[
    int,
    typer.Option(
        parser=whole(1, MAX_FINDINGS_PER_CHUNK),
        metavar="N",
        help=f"Most findings the model may report per chunk, 1 to {MAX_FINDINGS_PER_CHUNK}.",
    ),
]
DebugOption = Annotated[
    bool,
    typer.Option(
        "--debug",
        help="Tracebacks and diagnostics: each dropped finding and why, an invalid answer "
        "(escaped, bounded), the cache's decisions.",
    ),
]

FindingsOption = Annotated[
    Path,
    typer.Option(
        "--findings", metavar="PATH", help="The findings document written by `reviewer run -o`."
    ),
]


# One glob of a comma-separated list: a character class (`[,]`) keeps its comma.
_ONE_GLOB = re.compile(r"(?:\[[^\]]*\]|[^,])+")


def glob_list(values: list[str] | None) -> tuple[str, ...]:
    """--include/--exclude as given: repeated flags and comma-separated lists alike, blanks
    around a comma ignored (`--include 'src/**, tests/**'`)."""
    found = (glob.strip() for value in values or () for glob in _ONE_GLOB.findall(value))
    return tuple(glob for glob in found if glob)


def model_url(backend: Backend, ollama_url: str | None, base_url: str | None) -> str:
    """The server URL for the backend: --base-url for openai, --ollama-url for ollama, either
    one when only the other is set, else the backend's own default."""
    preferred = base_url if backend is Backend.OPENAI else ollama_url
    return preferred or base_url or ollama_url or default_url(backend)


def model_settings(
    *,
    backend: Backend,
    model: str,
    ollama_url: str | None,
    base_url: str | None,
    model_digest: str | None,
    allow_remote_model: bool,
    num_ctx: int,
    timeout: float,
    **more: Any,
) -> ModelSettings:
    """The model flags `run` and `doctor` share, into ModelSettings; `more` are a command's
    own (run's --num-predict, --retries...). An empty --model-digest pins nothing."""
    return ModelSettings(
        backend=backend,
        model=model,
        base_url=model_url(backend, ollama_url, base_url),
        model_digest=model_digest or None,
        allow_remote_model=allow_remote_model,
        num_ctx=num_ctx,
        timeout=timeout,
        **more,
    )
