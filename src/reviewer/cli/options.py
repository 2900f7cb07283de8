"""Option declarations shared by the commands (`run` and `doctor`; `post` and `report`), so they
read the same flags and environment variables the same way."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from reviewer.settings.config import DEFAULT_OLLAMA_URL, Backend
from reviewer.settings.slices import ModelSettings

RepoOption = Annotated[Path, typer.Option("--repo", help="The git repository.")]
ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: .reviewer.toml).")
]
BackendOption = Annotated[
    Backend, typer.Option("--backend", envvar="REVIEWER_BACKEND", help="Model server API.")
]
ModelOption = Annotated[str, typer.Option("--model", envvar="OLLAMA_MODEL", help="Model name.")]
OllamaUrlOption = Annotated[
    str | None, typer.Option("--ollama-url", envvar="OLLAMA_BASE_URL", help="Ollama server URL.")
]
BaseUrlOption = Annotated[
    str | None,
    typer.Option("--base-url", envvar="REVIEWER_BASE_URL", help="OpenAI-compatible server URL."),
]
ModelDigestOption = Annotated[
    str | None,
    typer.Option(
        "--model-digest", envvar="OLLAMA_MODEL_DIGEST", help="Refuse a model with another digest."
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
    int, typer.Option("--num-ctx", min=512, help="Context size to ask for (tokens).")
]
TimeoutOption = Annotated[
    float, typer.Option("--timeout", min=1, help="Per-request timeout, seconds.")
]
DebugOption = Annotated[bool, typer.Option("--debug", help="Tracebacks and diagnostics.")]

FindingsOption = Annotated[
    Path, typer.Option("--findings", help="The findings document written by `reviewer run -o`.")
]


def model_url(backend: Backend, ollama_url: str | None, base_url: str | None) -> str:
    """The server URL for the backend: --base-url for openai, --ollama-url for ollama, either
    one when only the other is set, else Ollama's default."""
    preferred = base_url if backend is Backend.OPENAI else ollama_url
    return preferred or base_url or ollama_url or DEFAULT_OLLAMA_URL


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
