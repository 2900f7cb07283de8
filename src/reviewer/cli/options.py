"""Option declarations shared by the commands (`run`, `eval` and `doctor`; `post` and `report`),
so they read the same flags and environment variables the same way: among them the model
server's options, one group (`model_options`) that every command taking them reads alike."""

from __future__ import annotations

import functools
import inspect
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
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

_MODEL = ModelSettings()

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




# --- the model server's option group ----------------------------------------------------------

_URLS_HELP = "repeat it, or comma-separate the variable, for several servers"
_MODEL_OPTIONS: dict[str, tuple[Any, Any]] = {
    # name: (annotation, default); the defaults are ModelSettings' own.
    "backend": (
        Annotated[
            Backend,
            typer.Option(
                "--backend",
                envvar="REVIEWER_BACKEND",
                metavar="API",
                parser=choice(Backend),
                help=f"Model server API: {choices(Backend)} (any case).",
            ),
        ],
        _MODEL.backend,
    ),
    "model": (
        Annotated[
            str,
            typer.Option("--model", envvar="OLLAMA_MODEL", metavar="NAME", help="Model name."),
        ],
        _MODEL.model,
    ),
    "ollama_url": (
        Annotated[
            list[str] | None,
            typer.Option(
                "--ollama-url",
                envvar="OLLAMA_BASE_URL",
                metavar="URL",
                help=f"Ollama server URL; {_URLS_HELP} (one request at a time each).",
            ),
        ],
        None,
    ),
    "base_url": (
        Annotated[
            list[str] | None,
            typer.Option(
                "--base-url",
                envvar="REVIEWER_BASE_URL",
                metavar="URL",
                help="OpenAI-compatible server URL, without /v1 "
                f"(default: {DEFAULT_OPENAI_URL}, llama.cpp's); {_URLS_HELP} "
                "(--concurrency requests each).",
            ),
        ],
        None,
    ),
    "model_digest": (
        Annotated[
            str | None,
            typer.Option(
                "--model-digest",
                envvar="OLLAMA_MODEL_DIGEST",
                metavar="DIGEST",
                help="Refuse a model with another digest.",
            ),
        ],
        _MODEL.model_digest,
    ),
    "allow_remote_model": (
        Annotated[
            bool,
            typer.Option(
                "--allow-remote-model",
                envvar="REVIEWER_ALLOW_REMOTE_MODEL",
                help="Allow a model URL outside loopback and private networks.",
            ),
        ],
        _MODEL.allow_remote_model,
    ),
    "num_ctx": (
        Annotated[
            int,
            typer.Option(
                "--num-ctx",
                parser=whole(512),
                metavar="TOKENS",
                help="Context size to ask for (tokens), at least 512.",
            ),
        ],
        _MODEL.num_ctx,
    ),
    "num_predict": (
        Annotated[
            int,
            typer.Option(parser=whole(16), metavar="TOKENS", help="Cap on answer tokens, 16+."),
        ],
        _MODEL.num_predict,
    ),
    "timeout": (
        Annotated[
            float,
            typer.Option(
                "--timeout",
                parser=seconds(1),
                metavar="SECONDS",
                help="Per-request timeout, 1 or more.",
            ),
        ],
        _MODEL.timeout,
    ),
    "retries": (
        Annotated[
            int,
            typer.Option(
                parser=whole(0, 10), metavar="N", help="Retries after a failure, 0 to 10."
            ),
        ],
        _MODEL.retries,
    ),
    "lock_timeout": (
        Annotated[
            float | None,
            typer.Option(
                parser=seconds(0),
                envvar="REVIEWER_LOCK_TIMEOUT",
                metavar="SECONDS",
                help="Most seconds to wait for another run's turn at the model server "
                "(default: 3 x --timeout).",
            ),
        ],
        _MODEL.lock_timeout,
    ),
    "concurrency": (
        Annotated[
            int,
            typer.Option(
                parser=whole(1),
                metavar="N",
                help="Requests in flight per server (OpenAI backend only; Ollama servers take "
                "one at a time each).",
            ),
        ],
        _MODEL.concurrency,
    ),
}
# What every command taking a model reads; a command adds its own from the rest.
SERVER_OPTIONS = (
    "backend",
    "model",
    "ollama_url",
    "base_url",
    "model_digest",
    "allow_remote_model",
    "num_ctx",
    "timeout",
)


@dataclass(frozen=True)
class ModelOptions:
    """The model options a command was given, as typer parsed them."""

    values: dict[str, Any]

    def settings(self, **more: Any) -> ModelSettings:
        """The options into ModelSettings; `more` are what the command fixes itself (doctor's
        retries). An empty --model-digest pins nothing."""
        given = {**self.values, **more}
        backend = given.pop("backend")
        urls = model_urls(backend, given.pop("ollama_url"), given.pop("base_url"))
        return ModelSettings(
            backend=backend,
            base_url=urls[0],
            servers=urls if len(urls) > 1 else (),
            model_digest=given.pop("model_digest") or None,
            **given,
        )


# The default of a command's `model_flags` placeholder; `model_options` passes the real one.
MODEL_FLAGS = ModelOptions({})


def model_options(
    *names: str, **defaults: Any
) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Declare the model option group on a command: the shared SERVER_OPTIONS and `names`,
    with `defaults` replacing the settings' own (doctor's shorter --timeout). The command takes
    a parameter `model_flags: ModelOptions` in their place: the options take its position
    in --help, and the command calls `.settings()` inside its error handler."""
    chosen = [n for n in _MODEL_OPTIONS if n in SERVER_OPTIONS or n in names]

    def declare(command: Callable[..., None]) -> Callable[..., None]:
        own = inspect.signature(command, eval_str=True)
        group = [
            inspect.Parameter(
                name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=_MODEL_OPTIONS[name][0],
                default=defaults.get(name, _MODEL_OPTIONS[name][1]),
            )
            for name in chosen
        ]
        params: list[inspect.Parameter] = []
        for param in own.parameters.values():
            params += group if param.name == "model_flags" else [param]

        @functools.wraps(command)
        def with_group(**given: Any) -> None:
            values = {name: given.pop(name) for name in chosen}
            command(**given, model_flags=ModelOptions(values))

        signature = own.replace(
            parameters=[p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in params]
        )
        with_group.__signature__ = signature  # type: ignore[attr-defined]
        with_group.__annotations__ = {p.name: p.annotation for p in params}
        return with_group

    return declare


def url_list(values: list[str] | None) -> tuple[str, ...]:
    """Repeated URL flags and comma-separated variables alike, blanks around a comma ignored."""
    found = (url.strip() for value in values or () for url in value.split(","))
    return tuple(url for url in found if url)


def model_urls(
    backend: Backend, ollama_url: list[str] | None, base_url: list[str] | None
) -> tuple[str, ...]:
    """The server URLs for the backend: --base-url for openai, --ollama-url for ollama, either
    one when only the other is set, else the backend's own default."""
    ollama, openai = url_list(ollama_url), url_list(base_url)
    preferred = openai if backend is Backend.OPENAI else ollama
    return preferred or openai or ollama or (default_url(backend),)
