"""The repository config file (`.reviewer.toml` or `[tool.reviewer]` in `pyproject.toml`), the
option enums, and the defaults the settings slices (settings/slices.py) fall back to."""

from __future__ import annotations

import tomllib
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from reviewer.errors import ConfigError, first_problem

TRUE_WORDS = frozenset({"1", "true", "yes"})


def env_flag(value: str | None) -> bool:
    """`LOCAL_LLM_OPTIONAL` and friends: true for 1/true/yes (any case), false otherwise."""
    return value is not None and value.strip().lower() in TRUE_WORDS


class Backend(StrEnum):
    OLLAMA = "ollama"
    OPENAI = "openai"


class FilterMode(StrEnum):
    """Which diff lines a finding may point at (reviewdog's names)."""

    ADDED = "added"
    DIFF_CONTEXT = "diff_context"


DEFAULT_MAX_FILE_LINES = 20_000
DEFAULT_MODEL = "qwen2.5-coder:7b"
DEFAULT_NUM_CTX = 8192
DEFAULT_NUM_PREDICT = 1024
DEFAULT_OLLAMA_URL = "http://localhost:11434"
# The OpenAI-compatible backend's server root (it adds /v1/models, /v1/chat/completions): where
# llama.cpp's `llama-server` listens unless told otherwise. vLLM's default is port 8000.
DEFAULT_OPENAI_URL = "http://127.0.0.1:8080"
DEFAULT_RETRIES = 3
# `reviewer post`: seconds spent waiting on rate limits and retries, in total.
DEFAULT_POST_MAX_WAIT = 60.0


def default_url(backend: Backend) -> str:
    """The server URL a backend uses when none is given."""
    return DEFAULT_OPENAI_URL if backend is Backend.OPENAI else DEFAULT_OLLAMA_URL


def openai_root(url: str) -> str:
    """An OpenAI-compatible server's root from the URL a user gives. vLLM's and llama.cpp's
    documentation write base URLs ending in /v1 (`http://127.0.0.1:8080/v1`), and the backend
    adds /v1/... itself, so one trailing /v1 (or /v1/) is dropped rather than doubled. A URL
    that does not parse is left as it is, for the URL check to name."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = parts.path.rstrip("/")
    if not path.endswith("/v1"):
        return url
    return urlunsplit(parts._replace(path=path.removesuffix("/v1")))
# The answer is capped by the schema: at most --max-findings findings (default and ceiling), each
# field bounded, so that a whole answer can fit in --num-predict.
MAX_FINDINGS_PER_CHUNK = 20
DEFAULT_MAX_FINDINGS = 10
# Unchanged lines shown around each change, chosen by measurement (docs/performance.md, part 5):
# on real releases the enclosing line of a change is visible for a median 43% of changes at 0,
# 72% at 1, 88% at 2 and 90% at 3, for +9%, +18% and +24% prompt tokens: past 2, a token buys
# less than a third as much.
DEFAULT_CONTEXT_LINES = 2
MAX_CONTEXT_LINES = 20
# Whether hunk headers name the enclosing definitions (chunks/sections.py), chosen by the same
# measurement (docs/performance.md, part 5).
DEFAULT_DEFINITIONS = True
# The chunks one run may send. Measured (docs/performance.md, part 3): about 30 s a chunk for a
# small model on 2 CPU cores, several times that for a 7B model; 100 chunks is then about 50
# minutes to a few hours, the most a CI job is usually given. Over it, a run fails at once.
DEFAULT_MAX_CHUNKS = 100
SECONDS_PER_CHUNK = 30


# Reasons a trusted option may accept as reviewed-by-policy: every filter reason the pull
# request could create. A failed chunk never: the model was asked and did not answer.
ACCEPTABLE_REASONS = frozenset(
    {
        "binary",
        "generated",
        "vendored",
        "lockfile",
        "minified",
        "too_large",
        "submodule",
    }
)


DEFAULT_BASELINE = ".reviewer/baseline"  # the config's `baseline` key names another file
class RuleEntry(BaseModel):
    """`[[rules]]`: review text for the files matching `paths` (globs, as --include takes)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: tuple[str, ...] = Field(min_length=1)
    text: str = Field(min_length=1)


class RepoConfig(BaseModel):
    """The repository's own review settings. Read from the base revision in CI."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_lines: int = Field(default=DEFAULT_MAX_FILE_LINES, ge=1)
    skip_generated: bool = True
    skip_vendored: bool = True
    skip_lockfiles: bool = True
    skip_minified: bool = True
    # Reasons whose unreviewed files count as left out by policy (see diff/policy.py).
    accept_unreviewed: tuple[str, ...] = ()
    # Accepted findings, by fingerprint, not reported again (see findings/baseline.py).
    baseline: str = Field(default=DEFAULT_BASELINE, min_length=1, max_length=200)
    # Review rules for every chunk (with .reviewer/rules.md, in the system prompt) and for the
    # chunks holding matching files (plan/rules.py). AGENTS.md is read only when asked for:
    # it is written for coding agents and would cost its tokens in every request.
    instructions: str = ""
    rules: tuple[RuleEntry, ...] = ()
    agents_md: bool = False

    @field_validator("accept_unreviewed")
    @classmethod
    def _known_reasons(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(value) - ACCEPTABLE_REASONS)
        if unknown:
            raise ValueError(
                f"unknown reason {unknown[0]!r}; accepted: {', '.join(sorted(ACCEPTABLE_REASONS))}"
            )
        return value


def parse_repo_config(text: str, source: str) -> RepoConfig:
    """Parse `.reviewer.toml` (top level) or `pyproject.toml` (`[tool.reviewer]`)."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{source} is not valid TOML: {e}") from e
    if source.endswith("pyproject.toml"):
        data = data.get("tool", {}).get("reviewer", {})
    try:
        return RepoConfig.model_validate(data)
    except ValidationError as e:
        raise ConfigError(
            f"{source}: {first_problem(e, RepoConfig)}",
            hint="see the README section 'Configuration file' for the accepted keys",
        ) from e
