"""What a person sees while `reviewer eval` runs, on stderr: a bar of cases done and time left
on a terminal, one plain line per case in CI or when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.progress import TextColumn, TimeElapsedColumn, TimeRemainingColumn

from reviewer.formats.common import plural
from reviewer.review.progress import LiveBar, open_bar
from reviewer.security import neutralise_terminal


class EvalProgress:
    """Counts the cases as they are reviewed and shows it."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._started = time.monotonic()
        self._bar: LiveBar | None = None

    def __enter__(self) -> EvalProgress:
        self._bar = open_bar(
            self.total,
            self._stream,
            "evaluating",
            TextColumn("cases"),
            TimeRemainingColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[case]}"),
            case="",
        )
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def starting(self, case_id: str) -> None:
        if self._bar is not None:
            self._bar.update(case=neutralise_terminal(case_id))

    def finished(self, case_id: str, findings: int) -> None:
        self.done += 1
        if self._bar is not None:
            self._bar.update(advance=1)
            return
        line = (
            f"reviewer: eval: case {self.done}/{self.total} {neutralise_terminal(case_id)}: "
            f"{plural(findings, 'finding')}"
        )
        if self.done < self.total:
            elapsed = time.monotonic() - self._started
            line += f"; about {elapsed / self.done * (self.total - self.done):.0f} s left"
        self._stream.write(line + "\n")
        self._stream.flush()
