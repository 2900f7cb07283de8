"""What a person sees while `reviewer eval` runs, on stderr: a bar of cases done and time left
on a terminal, one plain line per case in CI or when stderr is not a terminal."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from reviewer.formats.common import plural
from reviewer.review.progress import use_bar
from reviewer.security import neutralise_terminal


class EvalProgress:
    """Counts the cases as they are reviewed and shows it."""

    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._started = time.monotonic()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> EvalProgress:
        if self.total and use_bar(self._stream):
            self._bar = Progress(
                TextColumn("evaluating"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("cases"),
                TimeRemainingColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[case]}"),
                console=Console(file=self._stream),
                transient=True,
            )
            self._task = self._bar.add_task("eval", total=self.total, case="")
            self._bar.start()
        return self

    def __exit__(self, *_: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def starting(self, case_id: str) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, case=neutralise_terminal(case_id))

    def finished(self, case_id: str, findings: int) -> None:
        self.done += 1
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, advance=1)
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
