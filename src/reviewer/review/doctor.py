"""`reviewer doctor`: checks everything a review needs, before a review fails. Each check says
ok, warning or failed, and what to do about it."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator, Mapping
from enum import StrEnum
from pathlib import Path

from reviewer.backends import check_distinct_servers, make_backend
from reviewer.backends.http import display_url
from reviewer.backends.interface import ModelBackend, ServerInfo
from reviewer.backends.pool import Server, check_same_model
from reviewer.chunks.prompt import SYSTEM_PROMPT, findings_schema
from reviewer.diff.sources import ensure_repo, resolve_commit
from reviewer.errors import (
    ConfigError,
    ExitCode,
    InvalidAnswerError,
    ModelError,
    PolicyError,
    ReviewerError,
)
from reviewer.models import Frozen
from reviewer.plan.build import find_repo_config
from reviewer.security import check_model_url, credential_names, git_env, neutralise_terminal
from reviewer.settings.slices import WARM_UP_NUM_PREDICT, ModelSettings

# Model errors that prove the server itself answered: the problem is the model.
_MODEL_KINDS = frozenset({"model_missing", "digest_mismatch", "digest_unverifiable"})


class Outcome(StrEnum):
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"


class Check(Frozen):
    name: str
    outcome: Outcome
    detail: str
    fix: str | None = None


def _ok(name: str, detail: str) -> Check:
    return Check(name=name, outcome=Outcome.OK, detail=detail)


def _failed(name: str, error: ReviewerError) -> Check:
    return Check(name=name, outcome=Outcome.FAILED, detail=error.message, fix=error.hint)


def check_credentials(environ: Mapping[str, str]) -> Check:
    """`reviewer run` removes these before anything else; git never sees any of them."""
    present = credential_names(environ)
    leaked = credential_names(git_env(environ))
    if leaked:
        return Check(
            name="credentials",
            outcome=Outcome.FAILED,
            detail=f"would reach git: {', '.join(leaked)}",
            fix="report this as a bug",
        )
    if not present:
        return _ok("credentials", "no credential variables set")
    return _ok("credentials", f"{', '.join(present)} set; removed before any review")


def check_egress(settings: ModelSettings) -> Check:
    try:
        check_model_url(settings.base_url, allow_remote=settings.allow_remote_model)
    except ReviewerError as e:
        return _failed("egress policy", e)
    note = (
        " (remote allowed by override)"
        if settings.allow_remote_model
        else "; its addresses are checked when connecting"
    )
    return _ok("egress policy", f"{settings.base_url} is allowed{note}")


class WorkTreeConfig:
    """Config files as they are on disk in the repository's work tree (what a local run on
    this checkout reads), for plan's find_repo_config."""

    def __init__(self, repo: Path) -> None:
        self.repo = repo

    def config_text(self, name: str) -> str | None:
        path = self.repo / name
        return _read(path) if path.is_file() else None

    def explicit_config(self, path: Path) -> str:
        if not path.is_file():
            raise ConfigError(f"{path} does not exist", hint="fix the --config path")
        return _read(path)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read {path}: {e}") from e


def check_config(repo: Path, config_path: Path | None) -> Check:
    """The config file a local run would use. In CI a git-range review reads it from the base
    revision instead, so a pull request cannot switch off its own review."""
    try:
        found, _ = find_repo_config(config_path, WorkTreeConfig(repo))
    except ReviewerError as e:
        return _failed("config", e)
    if found is None:
        return _ok("config", "no config file; defaults apply")
    return _ok("config", f"{config_path or repo / found} parses")


def check_git(repo: Path) -> Check:
    try:
        ensure_repo(repo)
        head = resolve_commit(repo, "HEAD")
    except ReviewerError as e:
        return Check(
            name="git",
            outcome=Outcome.WARNING,
            detail=e.message,
            fix="needed for --base/--staged reviews; --diff-file works without a repository",
        )
    return _ok("git", f"{repo.resolve()} at {head[:12]}")


def check_server(
    backend: ModelBackend, settings: ModelSettings, seen: list[ServerInfo] | None = None
) -> Iterator[Check]:
    """Server, model, digest and context length: what `reviewer run` checks before a chunk.
    What a server that answered reported is added to `seen`."""
    try:
        info = backend.preflight()
    except PolicyError as e:  # the host resolved to an address outside the policy
        yield _failed("egress policy", e)
        return
    except ModelError as e:
        if e.kind in _MODEL_KINDS:
            yield _ok("server", f"{settings.base_url} answers")
            yield _failed("digest" if e.kind.startswith("digest") else "model", e)
        else:
            yield _failed("server", e)
        return
    except ReviewerError as e:  # num_ctx above the model's context length
        yield _ok("server", f"{settings.base_url} answers")
        yield _ok("model", f"{settings.model} is present")
        yield _failed("context length", e)
        return
    if seen is not None:
        seen.append(info)
    yield from _server_checks(info, settings, backend.name)


def _server_checks(info: ServerInfo, settings: ModelSettings, backend: str) -> Iterator[Check]:
    version = f" (version {info.version})" if info.version else ""
    yield _ok("server", f"{backend} server at {settings.base_url}{version}")
    digest = f", digest {info.digest[:19]}" if info.digest else ""
    yield _ok("model", f"{settings.model} is present{digest}")
    if settings.model_digest:
        yield _ok("digest", "matches the pinned digest")
    if info.context_length is None:
        yield Check(
            name="context length",
            outcome=Outcome.WARNING,
            detail="the server does not report the model's context length",
            fix=f"make sure the model accepts --num-ctx {settings.num_ctx}",
        )
    else:
        yield _ok(
            "context length", f"{info.context_length} tokens >= --num-ctx {settings.num_ctx}"
        )


def check_warm_up(backend: ModelBackend) -> Check:
    """One short generation with the real system prompt: it loads the model and its prompt
    prefix, so the first chunk of the next review does not pay for either."""
    started = time.monotonic()
    try:
        body = backend.request_body(
            SYSTEM_PROMPT, "Answer with no findings.", schema=findings_schema()
        )
        backend.chat(body, estimated_prompt_tokens=0)
    except InvalidAnswerError:
        pass  # cut off at the small token cap: the model did generate
    except ModelError as e:
        return _failed("warm-up", e)
    return _ok("warm-up", f"generation works ({time.monotonic() - started:.1f} s)")


def all_checks(
    settings: ModelSettings, repo: Path, config_path: Path | None, environ: Mapping[str, str]
) -> Iterator[Check]:
    yield check_credentials(environ)
    urls = settings.server_urls
    egress = [check_egress(settings.for_server(url)) for url in urls]
    yield from egress
    yield check_config(repo, config_path)
    yield check_git(repo)
    if any(check.outcome is Outcome.FAILED for check in egress):
        return  # never connect to a URL the policy refuses
    try:
        check_distinct_servers(urls)
    except ReviewerError as e:
        yield _failed("servers", e)
        return
    answered: list[tuple[Server, ServerInfo]] = []
    for url in urls:
        checks = check_one_server(settings.for_server(url), answered)
        yield from (checks if len(urls) == 1 else (_on(url, c) for c in checks))
    if len(urls) > 1:
        yield check_same_models(answered, len(urls))


def check_one_server(
    settings: ModelSettings, answered: list[tuple[Server, ServerInfo]]
) -> Iterator[Check]:
    """Server, model, digest, context length and warm-up on one server; what it reported is
    added to `answered` for the comparison of the pool's models."""
    try:
        backend = make_backend(settings.model_copy(update={"num_predict": WARM_UP_NUM_PREDICT}))
    except ReviewerError as e:
        yield _failed("backend", e)
        return
    try:
        seen: list[ServerInfo] = []
        server = list(check_server(backend, settings, seen))
        yield from server
        if all(c.outcome is not Outcome.FAILED for c in server):
            answered.append((Server(display_url(settings.base_url), backend, 1), seen[0]))
            yield check_warm_up(backend)
    finally:
        backend.close()


def _on(url: str, check: Check) -> Check:
    """A check of one server of several names the server."""
    return check.model_copy(update={"detail": f"{display_url(url)}: {check.detail}"})


def check_same_models(answered: list[tuple[Server, ServerInfo]], total: int) -> Check:
    """A review must not mix models: every server that answered serves the same digest."""
    if len(answered) < 2:
        return Check(
            name="servers",
            outcome=Outcome.WARNING if answered else Outcome.FAILED,
            detail=f"{len(answered)} of {total} servers answered; nothing to compare",
            fix="fix the failed server checks above",
        )
    try:
        check_same_model(answered)
    except ModelError as e:
        return _failed("servers", e)
    return _ok("servers", f"all {len(answered)} serve the same model")


_MARK = {Outcome.OK: "ok", Outcome.WARNING: "warning", Outcome.FAILED: "FAILED"}


def print_check(check: Check) -> None:
    detail = neutralise_terminal(check.detail)
    sys.stdout.write(f"{_MARK[check.outcome]:<8} {check.name:<15} {detail}\n")
    if check.fix and check.outcome is not Outcome.OK:
        sys.stdout.write(f"{'':<8} {'':<15} fix: {neutralise_terminal(check.fix)}\n")


def doctor(
    settings: ModelSettings,
    *,
    repo: Path,
    config_path: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> ExitCode:
    """Print every check; exit 0 when a review can run, 3 otherwise."""
    failed = False
    checks = all_checks(settings, repo, config_path, os.environ if environ is None else environ)
    for check in checks:
        print_check(check)
        failed = failed or check.outcome is Outcome.FAILED
    sys.stdout.write("not ready: fix the failed checks above\n" if failed else "ready\n")
    return ExitCode.NOT_REVIEWED if failed else ExitCode.OK
