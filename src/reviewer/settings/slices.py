"""What `reviewer run` and `reviewer doctor` were told, cut into one small slice per stage: each
stage takes only the slice it reads, and each default is written here once (the commands'
flags read their defaults from these fields)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from reviewer.models import Severity
from reviewer.settings.config import (
    DEFAULT_CONTEXT_LINES,
    DEFAULT_DEFINITIONS,
    DEFAULT_MAX_CHUNKS,
    DEFAULT_MAX_FINDINGS,
    DEFAULT_MODEL,
    DEFAULT_NUM_CTX,
    DEFAULT_NUM_PREDICT,
    DEFAULT_OLLAMA_URL,
    DEFAULT_RETRIES,
    MAX_CONTEXT_LINES,
    MAX_FINDINGS_PER_CHUNK,
    Backend,
    FilterMode,
    default_url,
    openai_root,
)


class _Slice(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DiffSettings(_Slice):
    """Which diff: exactly one of a git range, --staged or --diff-file (diff/select.py)."""

    repo: Path = Path(".")
    base: str | None = None  # None: the pull request's base in CI, else origin's HEAD
    head: str = "HEAD"  # HEAD: the pull request's head commit in CI
    staged: bool = False
    diff_file: str | None = None  # a path, or "-" for stdin
    context_lines: int = Field(default=DEFAULT_CONTEXT_LINES, ge=0, le=MAX_CONTEXT_LINES)
    definitions: bool = DEFAULT_DEFINITIONS  # hunk headers name their enclosing definitions


class PlanSettings(_Slice):
    """What the planner adds to the repository's config file (plan/build.py)."""

    config_path: Path | None = None  # explicit config file; else found in the repository
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    max_file_lines: int | None = None  # overrides the config file
    accept_unreviewed: tuple[str, ...] = ()  # added to the config file's
    no_description: bool = False  # --no-description: no title, description or commit subjects


class ModelSettings(_Slice):
    """The model server(s) and how to talk to them (backends/). `base_url` is the one server a
    backend talks to; `servers` is the pool a review spreads its chunks over (repeated
    --ollama-url/--base-url), the first of them being `base_url`."""

    backend: Backend = Backend.OLLAMA
    model: str = DEFAULT_MODEL
    base_url: str = DEFAULT_OLLAMA_URL  # unset with --backend openai: DEFAULT_OPENAI_URL
    servers: tuple[str, ...] = ()  # empty: base_url alone
    model_digest: str | None = None
    allow_remote_model: bool = False
    num_ctx: int = DEFAULT_NUM_CTX
    num_predict: int = DEFAULT_NUM_PREDICT
    seed: int = 42
    keep_alive: str = "30m"
    timeout: float = 600.0
    connect_timeout: float = 10.0
    lock_timeout: float | None = Field(default=None, ge=0)  # None: 3 x timeout
    retries: int = DEFAULT_RETRIES
    concurrency: int = 1  # per server, OpenAI-compatible only (Ollama: one at a time each)

    @property
    def server_urls(self) -> tuple[str, ...]:
        """Every model server of the review, in the order given."""
        return self.servers or (self.base_url,)

    def for_server(self, url: str) -> ModelSettings:
        """These settings for one server of the pool."""
        return self.model_copy(update={"base_url": url, "servers": ()})

    @model_validator(mode="before")
    @classmethod
    def _backend_default_url(cls, data: Any) -> Any:
        """No URL given: the first of the pool's, else the chosen backend's own default
        (settings.config.default_url)."""
        if isinstance(data, dict) and data.get("base_url") is None and data.get("servers"):
            return {**data, "base_url": tuple(data["servers"])[0]}
        if isinstance(data, dict) and data.get("base_url") is None and "backend" in data:
            try:
                backend = Backend(data["backend"])
            except ValueError:
                return data  # the field's own validation names the bad value
            return {**data, "base_url": default_url(backend)}
        return data

    @model_validator(mode="before")
    @classmethod
    def _openai_root(cls, data: Any) -> Any:
        """An OpenAI-compatible server's URL given with its /v1 means its root."""
        if isinstance(data, dict) and data.get("backend") == Backend.OPENAI:
            url = data.get("base_url")
            if isinstance(url, str):
                return {**data, "base_url": openai_root(url)}
        return data


class ReviewSettings(_Slice):
    """The review loop's own choices (review/loop.py)."""

    filter_mode: FilterMode = FilterMode.ADDED
    max_findings: int = Field(default=DEFAULT_MAX_FINDINGS, ge=1, le=MAX_FINDINGS_PER_CHUNK)
    max_chunks: int = Field(default=DEFAULT_MAX_CHUNKS, ge=1)
    optional: bool = False  # LOCAL_LLM_OPTIONAL
    cache_dir: Path | None = None  # None: settings.paths.default_cache_dir()
    no_cache: bool = False


class OutputSettings(_Slice):
    """Where the result goes and what it means (review/pipeline.py, review/dryrun.py)."""

    output: Path | None = None
    format: str | None = None
    fail_on: Severity | None = None
    dry_run: bool = False
    show_prompts: Path | None = None


class ReviewRequest(_Slice):
    """Everything one `reviewer run` asks for: one slice per stage."""

    diff: DiffSettings = DiffSettings()
    plan: PlanSettings = PlanSettings()
    model: ModelSettings = ModelSettings()
    review: ReviewSettings = ReviewSettings()
    output: OutputSettings = OutputSettings()


# `reviewer doctor` checks quickly and reports each failure once: a shorter timeout, no retries.
DOCTOR_TIMEOUT = 120.0
DOCTOR_RETRIES = 0
# Doctor's warm-up asks for a few tokens only: it proves generation works and loads the prompt.
WARM_UP_NUM_PREDICT = 16
