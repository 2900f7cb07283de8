"""Publishing a findings document on a pull or merge request (`reviewer post`'s core) as a
readable sequence: read the document, pick the host and its token, decide, write, report, exit
code."""

from __future__ import annotations

import secrets
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from reviewer.ci.environment import Host as HostKind
from reviewer.errors import ExitCode
from reviewer.findings.document import load_document
from reviewer.findings.verdict import at_or_above
from reviewer.formats import render
from reviewer.formats.common import plural
from reviewer.formats.summary import Placed, Where, summary_body
from reviewer.models import FindingsDocument, Severity
from reviewer.post.check import CheckRun, check_run
from reviewer.post.host import HostForbidden
from reviewer.post.hosts import HostOpener, open_host
from reviewer.post.identity import post_author
from reviewer.post.placement import place
from reviewer.post.poster import Outcome, Plan, Poster, describe
from reviewer.post.target import DEFAULT_CHECK_NAME, Target, post_host, resolve_target
from reviewer.post.token import annotations_refused, missing_token, token_for, token_names
from reviewer.security import neutralise_terminal
from reviewer.settings.config import DEFAULT_POST_MAX_WAIT, env_flag


@dataclass(frozen=True)
class PostSettings:
    findings: Path
    host: str | None = None  # github, gitlab or gitea; default: the CI that runs the job
    repo: str | None = None
    pr: int | None = None
    api_url: str | None = None
    dry_run: bool = False
    annotations_fallback: bool = False
    fail_on: Severity | None = None
    min_severity: Severity | None = None  # lower findings go to the summary, not inline
    max_wait: float = DEFAULT_POST_MAX_WAIT
    author: str | None = None  # the login our comments are written by; default: detected
    check_run: bool = True
    check_name: str = DEFAULT_CHECK_NAME


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def fail_code(document: FindingsDocument, fail_on: Severity | None) -> ExitCode:
    """Post's exit code: 1 when findings at or above --fail-on exist, else 0, whatever the
    document's status (the check run, not this code, carries an incomplete review's verdict)."""
    return ExitCode.FINDINGS if at_or_above(document, fail_on) else ExitCode.OK


def post_command(
    settings: PostSettings,
    env: Mapping[str, str],
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    now: Callable[[], str] = utc_now,
    connect: HostOpener = open_host,
) -> ExitCode:
    out, err = out or sys.stdout, err or sys.stderr
    document = load_document(settings.findings)
    kind = post_host(settings.host, env)
    if kind is HostKind.GITLAB and settings.annotations_fallback:
        raise annotations_refused()
    token = token_for(kind, env)
    if not token:
        return _without_token(document, settings, kind, env, out, err)
    target = resolve_target(env, settings.repo, settings.pr, settings.api_url, kind)
    host = connect(target, token, env, max_wait=settings.max_wait, sleep=sleep)
    try:
        author = post_author(host, env, settings.author)
        poster = Poster(host, author, settings.min_severity)
        plan = poster.plan(document)
        check = _check_for(document, plan, settings, env, target, err)
        if settings.dry_run:
            _show_plan(document, plan, env, out, check)
            return fail_code(document, settings.fail_on)
        outcome = poster.apply(document, plan, now())
        if check is not None:
            host.set_status(check)
    except HostForbidden as e:
        if not settings.annotations_fallback:
            raise
        err.write(f"reviewer: {e.message}; printing annotations instead\n")
        out.write(render(document, "github"))
        return fail_code(document, settings.fail_on)
    finally:
        host.close()
    _append_step_summary(env, outcome.summary)
    err.write(_author_warning(outcome, author))
    err.write(_resolve_warning(outcome))
    report = _report(outcome, target.reference, host.name)
    if check is not None:
        what = "check run" if kind is HostKind.GITHUB else "commit status"
        report += f"; {what} {check.name!r} on {check.head_sha[:12]}: {check.conclusion}"
    err.write(report + "\n")
    return fail_code(document, settings.fail_on)


def _author_warning(outcome: Outcome, author: str) -> str:
    """Re-runs would not recognise comments by another account as ours, and post them again."""
    real = outcome.author_mismatch(author)
    if real is None:
        return ""
    return (
        f"reviewer: warning: the token posts as {real!r}, not {author!r}: pass "
        f"--author {real!r} (or set REVIEWER_POST_AUTHOR) so re-runs find their comments\n"
    )


def _resolve_warning(outcome: Outcome) -> str:
    """One line when the host would not resolve threads: nothing is lost, but the user can fix
    it (the refusal's hint names the permission)."""
    refusal = outcome.threads.refusal if outcome.threads else None
    if refusal is None:
        return ""
    hint = f"; {refusal.hint}" if refusal.hint else ""
    return f"reviewer: warning: {neutralise_terminal(refusal.message)}{hint}\n"


def _check_for(
    document: FindingsDocument,
    plan: Plan,
    settings: PostSettings,
    env: Mapping[str, str],
    target: Target,
    err: TextIO,
) -> CheckRun | None:
    """The check run for the pull request's head, or None: turned off, or the head is not the
    commit that was reviewed (a verdict on it would be about other code; the review of the
    new head sets the check instead, and until then a required check stays pending)."""
    if not settings.check_run:
        return None
    if plan.head_note or not plan.head_sha:
        err.write("reviewer: the change request's head is not the reviewed commit: no check run\n")
        return None
    return check_run(
        document,
        name=settings.check_name,
        head_sha=plan.head_sha,
        number=target.number,
        fail_on=settings.fail_on,
        optional=env_flag(env.get("LOCAL_LLM_OPTIONAL")),
    )


def _without_token(
    document: FindingsDocument,
    settings: PostSettings,
    kind: HostKind,
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
) -> ExitCode:
    """No token (a fork's pull request gets none): dry run, annotations, or a clear error."""
    if settings.dry_run:
        placed = place(document.findings, None, {}, settings.min_severity)
        _guarded(env, out, lambda: _dry_run_text(document, placed, None, None, ""))
        return fail_code(document, settings.fail_on)
    if not settings.annotations_fallback:
        raise missing_token(kind, env)
    err.write(f"reviewer: {token_names(kind)} is not set; printing annotations instead\n")
    out.write(render(document, "github"))
    _append_step_summary(env, summary_body(document))
    return fail_code(document, settings.fail_on)


def _guarded(env: Mapping[str, str], out: TextIO, text: Callable[[], str]) -> None:
    """Print untrusted text with workflow commands switched off, so model output in the log
    cannot issue `::` commands to the runner."""
    if env.get("GITHUB_ACTIONS") != "true":
        out.write(text())
        return
    stop = secrets.token_hex(16)
    out.write(f"::stop-commands::{stop}\n{text()}::{stop}::\n")


def _show_plan(
    document: FindingsDocument,
    plan: Plan,
    env: Mapping[str, str],
    out: TextIO,
    check: CheckRun | None,
) -> None:
    body = summary_body(document, plan.placed, updated_at=utc_now(), head_note=plan.head_note)
    note = (
        "no check run"
        if check is None
        else (
            f"would set check run {check.name!r} on {check.head_sha[:12]}: {check.conclusion} "
            f"({check.title})"
        )
    )
    if plan.stale_threads:
        note += f"\nwould resolve {plural(len(plan.stale_threads), 'thread')} of fixed findings"
    _guarded(
        env,
        out,
        lambda: (
            _dry_run_text(document, plan.placed, plan.head_sha, plan.summary_id, body) + note + "\n"
        ),
    )


def _dry_run_text(
    document: FindingsDocument,
    placed: Sequence[Placed],
    head_sha: str | None,
    summary_id: int | None,
    body: str,
) -> str:
    from reviewer.security import neutralise_lines

    new_inline = sum(1 for p in placed if p.where is Where.INLINE and not p.already_posted)
    lines = ["dry run: nothing is posted."]
    if head_sha is None:
        lines.append("no token: the change request was not read, so every finding is shown")
        lines.append("as it would appear in the summary.")
    else:
        comments = plural(new_inline, "inline comment")
        lines.append(f"would post a review with {comments} on {head_sha[:12]}")
    lines.append(describe(placed) if placed else "  (no findings)")
    action = "would create" if summary_id is None else f"would update comment {summary_id}"
    lines.append(f"summary comment ({action}):")
    lines.append(neutralise_lines(body or summary_body(document)))
    return "\n".join(lines) + "\n"


def _append_step_summary(env: Mapping[str, str], body: str) -> None:
    path = env.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as f:
            f.write(body + "\n")
    except OSError as e:
        sys.stderr.write(f"reviewer: warning: cannot write GITHUB_STEP_SUMMARY: {e.strerror}\n")


def _report(outcome: Outcome, reference: str, host: str) -> str:
    inline = outcome.count(Where.INLINE)
    review = outcome.count(Where.REVIEW)
    summary = outcome.count(Where.SUMMARY)
    already = sum(1 for p in outcome.placed if p.already_posted)
    verb = "created" if outcome.summary_created else "updated"
    text = (
        f"reviewer: {reference}: {plural(inline, 'inline comment')} posted, "
        f"{plural(summary, 'finding')} only in the summary, {already} already present"
    )
    if review:
        text += f", {review} in the review body ({host} refused them inline)"
    text += f"; summary comment {verb}"
    if outcome.threads is not None:
        text += f"; {plural(outcome.threads.resolved, 'thread')} of fixed findings resolved"
        if outcome.threads.refused:
            text += f", {outcome.threads.refused} could not be"
    return text
