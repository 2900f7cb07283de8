"""The report as a person reads it at the end of `reviewer eval`: one table (overall, per
defect class, per language) and a line of what the run cost."""

from __future__ import annotations

from typing import TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text

from reviewer.eval.report import EvalReport, Scores
from reviewer.formats.common import plural
from reviewer.security import neutralise_terminal

_COLUMNS = ("cases", "defects", "found", "findings", "false +", "recall", "precision", "F1",
            "clean flagged")  # fmt: skip


def print_report(report: EvalReport, out: TextIO) -> None:
    # Not a terminal (a CI log, a file): wide enough that the table never wraps.
    console = Console(file=out, width=None if out.isatty() else 120, highlight=False)
    console.print(scores_table(report))
    out.write(cost_line(report) + "\n")  # one line for a log to grep, never wrapped


def scores_table(report: EvalReport) -> Table:
    table = Table(title="reviewer eval", title_justify="left")
    table.add_column("group", no_wrap=True)
    for name in _COLUMNS:
        table.add_column(name, justify="right")
    table.add_row("overall", *_cells(report.overall), end_section=True)
    groups = (("class", report.by_class), ("language", report.by_language))
    for title, by in groups:
        for i, (name, s) in enumerate(by.items()):
            # Names come from the corpus: plain text, never rich markup or terminal codes.
            label = Text(f"{title} {neutralise_terminal(name)}")
            table.add_row(label, *_cells(s), end_section=i == len(by) - 1)
    return table


def _cells(s: Scores) -> list[str]:
    flagged = f"{s.clean_cases_flagged}/{s.clean_cases}" if s.clean_cases else "-"
    return [
        str(s.cases),
        str(s.defects),
        str(s.defects_found),
        str(s.findings),
        str(s.false_positives),
        _ratio(s.recall),
        _ratio(s.precision),
        _ratio(s.f1),
        flagged,
    ]


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def cost_line(report: EvalReport) -> str:
    c, m = report.cost, report.model
    digest = f" ({m.digest[:12]})" if m.digest else ""
    dropped = sum(case.findings_dropped for case in report.cases)
    # Findings the validation refused (outside the lines shown) score nothing: say how many.
    refused = f"; {plural(dropped, 'finding')} dropped outside the lines shown" if dropped else ""
    return neutralise_terminal(
        f"{m.name}{digest} on {report.corpus.cases} cases (corpus {report.corpus.sha256[:12]}): "
        f"{c.model_calls} model calls, {c.prompt_tokens} prompt + {c.completion_tokens} answer "
        f"tokens, {c.duration_s:.1f} s{refused}"
    )
