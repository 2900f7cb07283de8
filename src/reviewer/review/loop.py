"""The review loop: preflight the model server, send each chunk (system prompt first, chunk
last), parse and validate the answers, and assemble the findings document. Model-side failures
become data (status, errors[]) so the document is still written; the exit code follows from it.

A review with no chunks makes no network request at all."""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import queue
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TextIO

from reviewer import __version__
from reviewer.backends import check_backend_settings
from reviewer.backends.interface import ChunkFailedError, ModelBackend
from reviewer.backends.pool import Server, ServerPool
from reviewer.backends.tokens import PromptCounter
from reviewer.chunks import prompt
from reviewer.chunks.scale import scaled
from reviewer.errors import InvalidAnswerError, ModelError
from reviewer.findings.answer import Dropped, merge, parse_answer, validate
from reviewer.findings.coverage import (
    UNREVIEWED_KIND,
    coverage,
    left_out_unreviewed,
    unreviewed_entry,
)
from reviewer.formats.common import plural
from reviewer.models import (
    NO_CONTEXT,
    Chunk,
    ChunkRecord,
    ErrorEntry,
    Finding,
    FindingsDocument,
    ModelInfo,
    PromptContext,
    ReviewPlan,
    ServerRecord,
    Stats,
    Status,
    ToolInfo,
)
from reviewer.plan.baseline import split_accepted
from reviewer.plan.build import check_chunk_budget
from reviewer.review.interrupt import Interrupted, hold
from reviewer.review.progress import ReviewProgress, summary
from reviewer.review.requests import PromptLog, applied_rules, chunk_request
from reviewer.settings.slices import ModelSettings, ReviewSettings

# The plan cut again for the model's calibration, and the server's exact counter if any.
Calibrate = Callable[[ReviewPlan], tuple[ReviewPlan, "PromptCounter | None"]]


class ResponseCache(Protocol):
    """The response cache's seam (reviewer.review.cache.ResponseCache). Never raises."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def put(self, key: str, value: dict[str, Any]) -> None: ...


def cache_key(
    *,
    backend: str,
    model: str,
    digest: str | None,
    options: dict[str, Any],
    chunk_text: str,
    schema: dict[str, Any] | None = None,
    system: str = prompt.SYSTEM_PROMPT,
) -> str:
    """Everything that determines an answer: server API, model and its digest, the prompt
    (version, the run's system prompt with its rules), the answer schema, the generation
    options and the user message as sent (`chunk_text`: the chunk with its intent and
    path-scoped rules)."""
    from reviewer.review.cache import make_key

    if schema is None:
        schema = prompt.findings_schema()
    return make_key(
        {
            "backend": backend,
            "model": model,
            "digest": digest,
            "prompt_version": prompt.PROMPT_VERSION,
            "system": hashlib.sha256(system.encode()).hexdigest(),
            "schema": schema,
            "options": options,
            "chunk": chunk_text,
        }
    )


log = logging.getLogger(__name__)
ANSWER_SHOWN = 2000  # characters of an invalid answer shown by --debug


def describe_drop(drop: Dropped) -> str:
    """A dropped finding for --debug, on one line: where the model said and why not."""
    from reviewer.security import neutralise_terminal

    end = "" if drop.end_line in (None, drop.line) else f"-{drop.end_line}"
    where = f"{drop.path[:200]}:{drop.line}{end} ({drop.side})"
    return neutralise_terminal(f"{where} {drop.title[:200]!r}: {drop.reason.value}")


def shown_answer(content: str) -> str:
    """An invalid answer for --debug: bounded, on one line, every control character escaped."""
    from reviewer.security import neutralise_terminal

    cut = content if len(content) <= ANSWER_SHOWN else content[:ANSWER_SHOWN] + "…"
    return neutralise_terminal(cut)


def estimate_prompt_tokens(
    chunk: Chunk, context: PromptContext = NO_CONTEXT, scale: float = 1.0
) -> int:
    # The chunker already estimated the chunk's text; only the rest of the prompt is added,
    # then the model's calibration the chunks were cut with.
    return scaled(prompt.prompt_overhead_tokens(context) + chunk.estimated_tokens, scale)


@dataclass
class ChunkResult:
    chunk: Chunk
    findings: tuple[Finding, ...] = ()
    drops: tuple[Dropped, ...] = ()
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    estimated_tokens: int = 0  # this chunk's prompt, estimated before sending
    estimated_sent: int = 0  # the estimate times the requests made: compares to prompt_tokens
    cache_hit: bool | None = None
    error: ModelError | None = None
    server: str | None = None  # who answered: a server's URL, or CACHE

    def carry(self, earlier: ChunkResult) -> None:
        """Count what an attempt on a server that then failed spent on this chunk too."""
        self.calls += earlier.calls
        self.prompt_tokens += earlier.prompt_tokens
        self.completion_tokens += earlier.completion_tokens
        self.cached_tokens += earlier.cached_tokens
        self.estimated_sent += earlier.estimated_sent


CACHE = "cache"  # the server record of a chunk answered from the response cache


@dataclass
class ChunkReviewer:
    """Reviews one chunk: cache, model call, strict parse, one retry of an invalid answer.
    What is asked (system prompt, user message, answer schema) is chosen here, not by the
    backend, so every backend asks the same; with --show-prompts each request body is
    recorded before it is sent."""

    model: str
    settings: ReviewSettings
    backend: ModelBackend
    digest: str | None
    cache: ResponseCache | None = None
    prompt_log: PromptLog | None = None
    context: PromptContext = NO_CONTEXT
    scale: float = 1.0  # the plan's token_scale
    counter: PromptCounter | None = None  # the server's exact count, checked before sending
    schema: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.schema = prompt.findings_schema(self.settings.max_findings)

    def __call__(self, chunk: Chunk) -> ChunkResult:
        estimated = estimate_prompt_tokens(chunk, self.context, self.scale)
        result = ChunkResult(chunk=chunk, estimated_tokens=estimated)
        try:
            self._review(result)
        except ModelError as e:
            result.error = e
        return result

    def _review(self, result: ChunkResult) -> None:
        chunk = result.chunk
        key = self._key(chunk)
        if key is not None and self._from_cache(key, result):
            return
        last: InvalidAnswerError | None = None
        for _ in range(2):  # an invalid answer is retried once with the same chunk
            content: str | None = None
            try:
                content = self._ask(chunk, result)
                self._accept(content, result)
            except InvalidAnswerError as e:
                result.prompt_tokens += e.prompt_tokens
                result.completion_tokens += e.completion_tokens
                last = e
                if content is not None:
                    log.debug("invalid answer (%s): %s", e.message, shown_answer(content))
                continue
            if key is not None:
                self._store(key, content, result)
            return
        assert last is not None  # noqa: S101 - the loop only falls through after an error
        # The kind says why (answer_cut_off, answer_too_large, invalid_answer).
        raise InvalidAnswerError(f"the answer was invalid twice: {last.message}", kind=last.kind)

    def _key(self, chunk: Chunk) -> str | None:
        if self.cache is None:
            return None
        return cache_key(
            backend=self.backend.name,
            model=self.model,
            digest=self.digest,
            options=self.backend.generation_options(),
            chunk_text=prompt.user_message(chunk, self.context),
            schema=self.schema,
            system=prompt.system_prompt(self.context),
        )

    def _ask(self, chunk: Chunk, result: ChunkResult) -> str:
        result.calls += 1
        result.estimated_sent += result.estimated_tokens
        user, body = chunk_request(self.backend, chunk, self.schema, self.context)
        if self.prompt_log is not None:
            self.prompt_log.record(chunk, user, body)
        if self.counter is not None:
            self._check_counted(user)
        reply = self.backend.chat(body, estimated_prompt_tokens=result.estimated_tokens)
        result.prompt_tokens += reply.prompt_tokens
        result.completion_tokens += reply.completion_tokens
        result.cached_tokens += reply.cached_tokens
        return reply.content

    def _check_counted(self, user: str) -> None:
        """Not sent when the server counts it over the room: the chunk fails, as a prompt too
        long does. A count that fails leaves the estimate's check (in `chat`) and the
        server's own refusal of an over-long prompt."""
        assert self.counter is not None  # noqa: S101 - only called with a counter
        try:
            self.counter.checked_count(prompt.system_prompt(self.context), user)
        except ChunkFailedError:
            raise
        except ModelError as e:
            from reviewer.security import neutralise_terminal

            log.debug("the server could not count the prompt: %s", neutralise_terminal(e.message))

    def _accept(self, content: str, result: ChunkResult) -> None:
        checked = validate(
            parse_answer(content),
            result.chunk,
            self.settings.filter_mode,
            self.settings.max_findings,
        )
        result.findings = checked.findings
        result.drops = checked.drops
        for drop in checked.drops:
            log.debug("dropped a finding: %s", describe_drop(drop))

    def _from_cache(self, key: str, result: ChunkResult) -> bool:
        assert self.cache is not None  # noqa: S101 - only called with a cache
        hit = self.cache.get(key)
        content = hit.get("content") if hit is not None else None
        if not isinstance(content, str):
            result.cache_hit = False
            return False
        try:
            self._accept(content, result)
        except InvalidAnswerError:
            result.cache_hit = False
            return False
        result.cache_hit = True
        return True

    def _store(self, key: str, content: str, result: ChunkResult) -> None:
        assert self.cache is not None  # noqa: S101 - only called with a cache
        result.cache_hit = False
        self.cache.put(
            key,
            {
                "content": content,
                "prompt_tokens": result.prompt_tokens,
                "completion_tokens": result.completion_tokens,
            },
        )


def open_cache(settings: ReviewSettings) -> ResponseCache | None:
    if settings.no_cache:
        return None
    from reviewer.review.cache import ResponseCache as DiskCache
    from reviewer.settings.paths import default_cache_dir

    return DiskCache(settings.cache_dir or default_cache_dir())


def review(
    model: ModelSettings,
    plan: ReviewPlan,
    settings: ReviewSettings | None = None,
    *,
    backend: ModelBackend | ServerPool | None = None,
    cache: ResponseCache | None = None,
    stream: TextIO | None = None,
    prompt_log: PromptLog | None = None,
    calibrate: Calibrate | None = None,
) -> FindingsDocument:
    """Review every chunk of the plan on the model's servers (or the one `backend`, or the
    pool, the caller made and closes) and return the findings document. Raises only usage and
    configuration errors; model-side failures are recorded in the document. `calibrate`: after
    the preflight, the plan cut again for the model's calibration and the server's exact
    token counter, when it has one (review/calibration.py), checked before each request."""
    settings = settings if settings is not None else ReviewSettings()
    out = stream if stream is not None else sys.stderr
    started = time.monotonic()
    check_backend_settings(model)
    check_chunk_budget(plan, settings.max_chunks)  # before any model call
    if not plan.chunks:
        doc = _document(model, settings, plan, [], None, [], started)
        out.write(summary(doc))
        _report_failure(doc, None, settings.optional, out)  # lines left out unreviewed
        return doc
    if backend is None:
        pool = ServerPool.open(model)
    else:
        pool = backend if isinstance(backend, ServerPool) else ServerPool.of(model, backend)
    try:
        doc, hint, interrupted = _review_with(
            model, settings, plan, pool, cache, out, started, prompt_log, calibrate
        )
    finally:
        if backend is None:  # a backend or pool the caller made, the caller closes
            pool.close()
    out.write(summary(doc))
    _report_failure(doc, hint, settings.optional, out)
    if interrupted is not None:
        # The caller writes the partial document, then exits with the signal's code.
        raise interrupted.with_document(doc)
    return doc


def _review_with(
    model: ModelSettings,
    settings: ReviewSettings,
    plan: ReviewPlan,
    pool: ServerPool,
    cache: ResponseCache | None,
    out: TextIO,
    started: float,
    prompt_log: PromptLog | None,
    calibrate: Calibrate | None = None,
) -> tuple[FindingsDocument, str | None, Interrupted | None]:
    counter: PromptCounter | None = None
    try:
        info = pool.preflight()
        if calibrate is not None:  # a signal while calibrating is handled as in the preflight
            plan, counter = calibrate(plan)
            check_chunk_budget(plan, settings.max_chunks)
    except ModelError as e:
        entry = ErrorEntry(kind=e.kind, message=e.message)
        doc = _document(model, settings, plan, [], None, [entry], started, pool=pool)
        return doc, e.hint, None
    except Interrupted as e:
        hold()  # from here the document is finished whole; the caller releases
        entry = _interrupted_entry(e, 0, len(plan.chunks))
        doc = _document(model, settings, plan, [], None, [entry], started, e, pool=pool)
        return doc, None, e
    for server in pool.servers:
        if server.dropped is not None:  # unreachable at preflight; the others review
            out.write(_dropped_line(server, server.dropped, True) + "\n")
    if cache is None:
        cache = open_cache(settings)
    first = pool.live[0].backend
    reviewer = ChunkReviewer(
        model.model,
        settings,
        first,
        info.digest,
        cache,
        prompt_log,
        plan.context,
        plan.token_scale,
        counter,
    )
    overhead = prompt.prompt_overhead_tokens(plan.context)
    with ReviewProgress(len(plan.chunks), out, overhead=overhead) as progress:
        results, interrupted = _review_chunks(reviewer, plan.chunks, pool, progress)
    errors, hint = _errors(results, len(plan.chunks), interrupted)
    doc = _document(
        model, settings, plan, results, info.digest, errors, started, interrupted, pool=pool
    )
    return doc, hint, interrupted


def _review_chunks(
    reviewer: ChunkReviewer,
    chunks: tuple[Chunk, ...],
    pool: ServerPool,
    progress: ReviewProgress,
) -> tuple[list[ChunkResult], Interrupted | None]:
    """Review the chunks over the pool's request slots (one worker per slot: one per Ollama
    server, --concurrency per OpenAI-compatible one; with a single slot, in order in this
    thread). A server-level failure (unreachable, 5xx after retries, timeout) takes that
    server out of the rotation and puts its chunk back for another; with no server left,
    sending stops: the remaining chunks would fail the same way. A signal (SIGINT, SIGTERM)
    stops it too, in the middle of a request: the chunks finished so far are kept, and
    signals are held from then on so the document is finished whole."""
    todo = _Chunks(len(chunks))
    results: list[ChunkResult | None] = [None] * len(chunks)
    spent: list[list[ChunkResult]] = [[] for _ in chunks]  # attempts on servers that failed
    for_server = {
        id(s): dataclasses.replace(reviewer, backend=s.backend) for s in pool.servers
    }

    def work(server: Server) -> None:
        while server.dropped is None:
            i = todo.take()
            if i is None:
                return
            progress.sending(chunks[i])
            result = for_server[id(server)](chunks[i])
            if result.error is not None and not isinstance(result.error, _CHUNK_LOCAL):
                if pool.drop(server, result.error):
                    progress.note(_dropped_line(server, result.error, bool(pool.live)))
                if pool.live:  # another server takes the chunk
                    spent[i].append(result)
                    todo.put_back(i)
                    return
                todo.stop()
            else:
                result.server = CACHE if result.cache_hit else server.url
            for earlier in spent[i]:
                result.carry(earlier)
            results[i] = result
            todo.done()
            progress.advance(result.completion_tokens)

    interrupted: Interrupted | None = None
    # Every slot gets a worker, even with fewer chunks: a failing server's chunk needs one.
    slots = _slots(pool.live)
    try:
        if len(slots) == 1:
            work(slots[0])
        else:
            _in_daemon_threads(work, slots)
    except Interrupted as e:
        interrupted = e
    finally:
        todo.stop()
        hold()  # the caller releases once the document is written
    return [r for r in results if r is not None], interrupted


def _slots(servers: list[Server]) -> list[Server]:
    """Each server once per request it may have in flight, taking turns, so the first chunks
    go to different servers."""
    most = max((s.slots for s in servers), default=0)
    return [s for k in range(most) for s in servers if k < s.slots]


class _Chunks:
    """The chunk numbers still to send, shared by the workers. A worker finding none waits
    while others are in flight: a failing server may put its chunk back."""

    def __init__(self, n: int) -> None:
        self._todo = deque(range(n))
        self._in_flight = 0
        self._stopped = False
        self._changed = threading.Condition()

    def take(self) -> int | None:
        with self._changed:
            while not self._todo and self._in_flight and not self._stopped:
                self._changed.wait()
            if self._stopped or not self._todo:
                return None
            self._in_flight += 1
            return self._todo.popleft()

    def put_back(self, i: int) -> None:
        with self._changed:
            self._todo.appendleft(i)
            self._in_flight -= 1
            self._changed.notify_all()

    def done(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._changed.notify_all()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify_all()


def _dropped_line(server: Server, error: ModelError, others: bool) -> str:
    from reviewer.security import neutralise_terminal

    then = "its chunk goes to another server" if others else "no model server is left"
    return neutralise_terminal(
        f"reviewer: warning: model server {server.url} taken out of the rotation: "
        f"{error.message}; {then}"
    )


def _in_daemon_threads(work: Callable[[Server], None], slots: list[Server]) -> None:
    """Call work(server) on a daemon thread for every slot and wait for them all. Daemon
    threads rather than a ThreadPoolExecutor, whose threads the interpreter waits for at
    exit: after a signal the process must not wait for requests still in flight (exiting
    closes their connections). An error in a worker is raised here, in the main thread."""
    finished: queue.SimpleQueue[BaseException | None] = queue.SimpleQueue()

    def run(server: Server) -> None:
        try:
            work(server)
        except BaseException as e:  # handed to the main thread, which raises it
            finished.put(e)
        else:
            finished.put(None)

    for server in slots:
        threading.Thread(target=run, args=(server,), name="reviewer-chunk", daemon=True).start()
    for _ in slots:
        error = finished.get()  # a signal interrupts this wait in the main thread
        if error is not None:
            raise error


# Failures of one chunk only; anything else means the server itself is failing.
_CHUNK_LOCAL = (ChunkFailedError, InvalidAnswerError)


def _interrupted_entry(e: Interrupted, done: int, total: int) -> ErrorEntry:
    return ErrorEntry(
        kind="interrupted",
        message=f"interrupted by {e} after {done} of {plural(total, 'chunk')}",
    )


def _errors(
    results: list[ChunkResult], total: int, interrupted: Interrupted | None = None
) -> tuple[list[ErrorEntry], str | None]:
    errors: list[ErrorEntry] = []
    hint: str | None = None
    if interrupted is not None:
        done = sum(1 for r in results if r.error is None)
        errors.append(_interrupted_entry(interrupted, done, total))
    for r in results:
        if r.error is not None:
            errors.append(
                ErrorEntry(
                    kind=r.error.kind, message=f"chunk {r.chunk.index + 1}: {r.error.message}"
                )
            )
            hint = hint or r.error.hint
    unsent = total - len(results)
    if unsent:
        message = (
            f"{plural(unsent, 'chunk')} not reviewed: the review was interrupted"
            if interrupted
            else f"{plural(unsent, 'chunk')} not sent after the model server failed"
        )
        errors.append(ErrorEntry(kind="not_sent", message=message))
    return errors, hint


def _status(
    ok: int, total: int, optional: bool, interrupted: bool = False, unreviewed: int = 0
) -> Status:
    if ok == total and not interrupted:
        # Every chunk answered; lines left out of the chunks unreviewed still make it partial.
        return Status.PARTIAL if unreviewed else Status.COMPLETE
    if ok == 0:
        # `skipped` means "the model was unavailable and that is allowed": never for a review
        # that was stopped by a signal.
        return Status.SKIPPED if optional and not interrupted else Status.FAILED
    return Status.PARTIAL


def _document(
    model: ModelSettings,
    settings: ReviewSettings,
    plan: ReviewPlan,
    results: list[ChunkResult],
    digest: str | None,
    errors: list[ErrorEntry],
    started: float,
    interrupted: Interrupted | None = None,
    *,
    pool: ServerPool | None = None,
) -> FindingsDocument:
    done = [r for r in results if r.error is None]
    cov = coverage(plan, [r.chunk for r in done])
    entry = unreviewed_entry(cov)
    if entry is not None:
        errors = [*errors, entry]
    stopped = interrupted is not None
    status = _status(len(done), len(plan.chunks), settings.optional, stopped, cov.files_unreviewed)
    reported, accepted = split_accepted(merge([f for r in done for f in r.findings]), plan.accepted)
    return FindingsDocument(
        status=status,
        coverage=cov,
        tool=ToolInfo(version=__version__),
        model=ModelInfo(
            backend=model.backend.value,
            name=model.model,
            digest=digest,
            servers=_server_records(pool),
        ),
        base=plan.base,
        head=plan.head,
        findings=reported,
        accepted=accepted,
        skipped=plan.skipped,
        stats=_stats(plan, results, done, started),
        errors=tuple(errors),
        rules=applied_rules(plan),
        chunks=tuple(
            ChunkRecord(chunk=r.chunk.index + 1, server=r.server)
            for r in sorted(done, key=lambda r: r.chunk.index)
            if r.server is not None
        ),
    )


def _server_records(pool: ServerPool | None) -> tuple[ServerRecord, ...]:
    if pool is None:
        return ()
    return tuple(
        ServerRecord(url=s.url, dropped=s.dropped.message if s.dropped else None)
        for s in pool.servers
    )


def _stats(
    plan: ReviewPlan, results: list[ChunkResult], done: list[ChunkResult], started: float
) -> Stats:
    return Stats(
        files_reviewed=len({f.path for r in done for f in r.chunk.files}),
        chunks=len(plan.chunks),
        chunks_failed=len(plan.chunks) - len(done),
        model_calls=sum(r.calls for r in results),
        prompt_tokens=sum(r.prompt_tokens for r in results),
        completion_tokens=sum(r.completion_tokens for r in results),
        findings_dropped=sum(len(r.drops) for r in done),
        findings_dropped_by=dict(
            sorted(Counter(d.reason.name for r in done for d in r.drops).items())
        ),
        duration_s=round(time.monotonic() - started, 3),
        cache_hits=sum(1 for r in results if r.cache_hit is True),
        cache_misses=sum(1 for r in results if r.cache_hit is False),
        cached_prompt_tokens=sum(r.cached_tokens for r in results),
        estimated_prompt_tokens=sum(r.estimated_sent for r in results),
    )


def _report_failure(
    doc: FindingsDocument, hint: str | None, optional: bool, out: TextIO
) -> None:
    """The one-line reason (and hint) on stderr when the review was not completed."""
    if doc.status is Status.COMPLETE or not doc.errors:
        return
    from reviewer.security import neutralise_terminal

    first = doc.errors[0]
    # LOCAL_LLM_OPTIONAL forgives an unavailable model, never lines left out unreviewed.
    left_out = any(left_out_unreviewed(doc.coverage))
    forgiven = first.kind not in ("interrupted", UNREVIEWED_KIND) and not left_out
    if optional and (forgiven or doc.status is Status.SKIPPED):
        out.write(
            f"reviewer: warning: review not completed ({doc.status.value}): "
            f"{neutralise_terminal(first.message)} (LOCAL_LLM_OPTIONAL is set, not failing)\n"
        )
    else:
        out.write(
            f"reviewer: error: review not completed ({doc.status.value}): "
            f"{neutralise_terminal(first.message)}\n"
        )
    if hint:
        out.write(f"hint: {neutralise_terminal(hint)}\n")
