"""Option declarations shared by the commands (`run` and `doctor`; `post` and `report`), so they
read the same flags and environment variables the same way."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from reviewer.settings.config import Backend

DEFAULT_OLLAMA_URL = "http://localhost:11434"
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
        help="OpenAI-compatible server URL.",
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
    typer.Option("--num-ctx", min=512, metavar="TOKENS", help="Context size to ask for (tokens)."),
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=1, metavar="SECONDS", help="Per-request timeout, seconds."),
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Tracebacks and diagnostics.")]

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
    one when only the other is set, else Ollama's default."""
    preferred = base_url if backend is Backend.OPENAI else ollama_url
    return preferred or base_url or ollama_url or DEFAULT_OLLAMA_URL
