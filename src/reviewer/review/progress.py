"""What a person sees while a review runs, all on stderr: a progress bar on a terminal, plain
periodic log lines in CI (CI=true) or when stderr is not a terminal, and a closing summary.
The chunk being reviewed is shown from the moment it is sent: on a CPU the first answer can
take minutes, and silence until then reads as a hang."""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import Counter
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from reviewer.chunks.prompt import prompt_overhead_tokens
from reviewer.formats.common import plural
from reviewer.models import Chunk, FindingsDocument, Severity, Stats
from reviewer.security import neutralise_terminal
from reviewer.settings.config import env_flag

LOG_INTERVAL_S = 10.0


def use_bar(stream: TextIO) -> bool:
    """A live bar only for a person at a terminal; CI logs get plain lines."""
    return stream.isatty() and not env_flag(os.environ.get("CI"))


class LiveBar:
    """A started, transient rich bar with one task: the label, the bar and "n/m", then the
    caller's own columns. The one bar setup `reviewer run` and `reviewer eval` share."""

    def __init__(
        self, stream: TextIO, label: str, total: int, *tail: ProgressColumn, **fields: str
    ) -> None:
        self._progress = Progress(
            TextColumn(label),
            BarColumn(),
            MofNCompleteColumn(),
            *tail,
            console=Console(file=stream),
            transient=True,
        )
        columns: dict[str, Any] = dict(fields)  # rich's **fields are untyped
        self._task: TaskID = self._progress.add_task(label, total=total, **columns)
        self._progress.start()

    def update(self, *, advance: int = 0, **fields: str) -> None:
        columns: dict[str, Any] = dict(fields)
        self._progress.update(self._task, advance=advance, **columns)

    def print(self, line: str) -> None:
        """A line of its own above the bar, as written (no markup)."""
        self._progress.console.print(line, markup=False, highlight=False)

    def stop(self) -> None:
        self._progress.stop()


def open_bar(
    total: int, stream: TextIO, label: str, *tail: ProgressColumn, **fields: str
) -> LiveBar | None:
    """A live bar on `stream` when there is work and a person watches, else None."""
    if not total or not use_bar(stream):
        return None
    return LiveBar(stream, label, total, *tail, **fields)


class ReviewProgress:
    """Counts chunks as they finish and shows it. Thread-safe (--concurrency N)."""

    def __init__(
        self,
        total: int,
        stream: TextIO | None = None,
        interval: float = LOG_INTERVAL_S,
        *,
        overhead: int | None = None,
    ) -> None:
        self.total = total
        # Tokens each request spends beside its chunk (the run's prompt, intent and rules).
        self._overhead = prompt_overhead_tokens() if overhead is None else overhead
        self.done = 0
        self.tokens = 0
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._last_log = float("-inf")  # the last "done" line (throttled)
        self._last_line = self._started  # the last line of any kind (for the heartbeat)
        self._reading: tuple[int, int, float] | None = None  # chunk number, tokens, since
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        self._bar: LiveBar | None = None

    def __enter__(self) -> ReviewProgress:
        self._bar = open_bar(
            self.total,
            self._stream,
            "reviewing",
            TextColumn("chunks  {task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[reading]}"),
            TimeElapsedColumn(),
            rate="",
            reading="",
        )
        if self._bar is None and self.total and self._interval > 0:
            self._heartbeat = threading.Thread(target=self._beat, daemon=True)
            self._heartbeat.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join()  # no waiting line may follow the run's last line
        if self._bar is not None:
            self._bar.stop()

    def sending(self, chunk: Chunk) -> None:
        """A chunk is on its way to the model. The first is announced at once (with its
        estimated prompt size); while an answer is awaited, a line every interval says so."""
        number = chunk.index + 1
        tokens = chunk.estimated_tokens + self._overhead
        with self._lock:
            first = self._reading is None
            self._reading = (number, tokens, time.monotonic())
            if self._bar is not None:
                shown = f"now #{number} ~{tokens} tokens"  # short: it shares the bar's line
                self._bar.update(reading=shown)
            elif first:
                self._write(
                    f"reviewer: reviewing chunk {number}/{self.total} "
                    f"(~{plural(tokens, 'prompt token')}); the first answer can take minutes "
                    "on a CPU"
                )

    def _beat(self) -> None:
        while not self._stop.wait(self._interval):
            with self._lock:
                now = time.monotonic()
                reading = self._reading
                if reading is None or self.done >= self.total or self._stop.is_set():
                    continue  # nothing sent yet, or the run is over
                if now - self._last_line < self._interval:
                    continue
                number, tokens, since = reading
                self._write(
                    f"reviewer: waiting for the answer to chunk {number}/{self.total} "
                    f"(~{plural(tokens, 'prompt token')}), {now - since:.0f} s so far; "
                    f"{self.done}/{self.total} done"
                )

    def _write(self, line: str) -> None:
        self._last_line = time.monotonic()
        self._stream.write(line + "\n")
        self._stream.flush()

    def advance(self, completion_tokens: int) -> None:
        with self._lock:
            self.done += 1
            self.tokens += completion_tokens
            if self._bar is not None:
                self._bar.update(advance=1, rate=self._rate())
            else:
                self._log()

    def note(self, line: str) -> None:
        """A line of its own (a server taken out of the rotation), above the bar if shown."""
        with self._lock:
            if self._bar is not None:
                self._bar.print(line)
            else:
                self._write(line)

    def _rate(self) -> str:
        elapsed = time.monotonic() - self._started
        return f"{self.tokens / elapsed:.1f} tokens/s" if elapsed > 0 and self.tokens else ""

    def _log(self) -> None:
        now = time.monotonic()
        if self.done < self.total and now - self._last_log < self._interval:
            return
        self._last_log = now
        elapsed = now - self._started
        left = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        rate = self._rate()
        parts = [f"reviewer: chunk {self.done}/{self.total} done"]
        if rate:
            parts.append(rate)
        if self.done < self.total:
            parts.append(f"about {left:.0f} s left")
        self._write(", ".join(parts))


def summary(doc: FindingsDocument) -> str:
    """One line for the end of a run, and one more naming the rules applied, if any."""
    s = doc.stats
    counts = Counter(f.severity for f in doc.findings)
    by_severity = ", ".join(f"{counts[sev]} {sev.value}" for sev in Severity if counts[sev])
    findings = plural(len(doc.findings), "finding")
    if by_severity:
        findings += f" ({by_severity})"
    findings += _dropped_part(s)
    return (
        f"reviewer: {doc.status.value}: {plural(s.files_reviewed, 'file')} reviewed, "
        f"{len(doc.skipped)} skipped; {findings}; {plural(s.model_calls, 'model call')}"
        f"{_cache_part(s)}, {s.prompt_tokens} prompt{_estimate_part(s)} + "
        f"{s.completion_tokens} completion tokens; {s.duration_s:.1f} s\n"
    ) + rules_line(doc)


def rules_line(doc: FindingsDocument) -> str:
    """One line naming the repository rules the model was given, or "" when none."""
    if not doc.rules:
        return ""
    total = doc.stats.chunks
    parts = [
        f"{r.source} ({'every chunk' if not r.paths else f'{r.chunks} of {total} chunks'})"
        for r in doc.rules
    ]
    return f"reviewer: rules applied: {neutralise_terminal('; '.join(parts))}\n"


def _dropped_part(s: Stats) -> str:
    """The findings the model gave that were not kept, by reason (--debug shows each)."""
    if not s.findings_dropped:
        return ""
    from reviewer.findings.answer import Drop

    reasons = ", ".join(
        f"{n} {Drop[name].value if name in Drop.__members__ else name}"
        for name, n in s.findings_dropped_by.items()
    )
    return f", {s.findings_dropped} dropped" + (f" ({reasons})" if reasons else "")


def _cache_part(s: Stats) -> str:
    if not s.cache_hits and not s.cache_misses:
        return ""
    return f" ({plural(s.cache_hits, 'cached answer')} reused)"


def _estimate_part(s: Stats) -> str:
    """The pre-send estimate beside what the server counted, as their ratio (the calibrated
    estimate aims at 1.0 to 1.1; Ollama leaves out what its prompt cache reused, which makes
    the ratio look higher)."""
    if not s.prompt_tokens or not s.estimated_prompt_tokens:
        return ""
    ratio = s.estimated_prompt_tokens / s.prompt_tokens
    return f" (estimated {s.estimated_prompt_tokens}, {ratio:.2f}x)"
