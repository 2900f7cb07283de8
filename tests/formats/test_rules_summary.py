"""The Markdown summary names the repository's rules the model was given (the document's
`rules`: where each was read, the files it is scoped to): bounded, and inert however the
fields of a forged document are made."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from reviewer.formats.markdown import MarkdownFormat
from reviewer.formats.summary import RULES_LISTED, summary_body
from reviewer.models import AppliedRule
from tests.formats.format_docs import make_document
from tests.markdown_html import assert_inert, seen

HOSTILE = ("@octocat #1 <img src=x onerror=alert(1)> [click](https://evil.example) "
           "`` ` `` ![i](http://x/y.png) ::error::boom \u202e\u200b www.evil.example")  # fmt: skip


def test_the_summary_lists_each_rule_with_its_source_and_paths() -> None:
    rules = (
        AppliedRule(source=".reviewer/rules.md", chunks=3),
        AppliedRule(source=".reviewer.toml rules[1]", paths=("src/api/**", "lib/*.py"), chunks=1),
    )
    body = summary_body(make_document().model_copy(update={"rules": rules}))
    text = seen(body)
    assert "Rules applied (2)" in text
    assert ".reviewer/rules.md: every chunk (3 chunks)" in text
    assert ".reviewer.toml rules[1]: files matching src/api/**, lib/*.py (1 chunk)" in text
    assert_inert(body)


def test_no_rules_no_section() -> None:
    assert "Rules applied" not in summary_body(make_document())


def test_hostile_rule_fields_stay_inert_and_bounded() -> None:
    many = tuple(
        AppliedRule(source=f"{HOSTILE} {i} " + "x" * 10_000,
                    paths=tuple(f"{HOSTILE}/{j}/**" for j in range(20)), chunks=i)
        for i in range(RULES_LISTED + 12)
    )  # fmt: skip
    body = MarkdownFormat().render(make_document().model_copy(update={"rules": many}))
    assert_inert(body)
    section = body[body.index("#### Rules applied") :]
    assert f"Rules applied ({RULES_LISTED + 12})" in section
    assert "... and 12 more" in section and "and 15 more (" in section
    assert len(section) < RULES_LISTED * 6 * 700  # each name cut at 300 characters
    assert "\u202e" not in body and "\\u202e" in seen(body)


def test_report_prints_the_rules_of_a_document(tmp_path: Path) -> None:
    rules = (AppliedRule(source="AGENTS.md", chunks=2),)
    document = tmp_path / "findings.json"
    document.write_text(make_document().model_copy(update={"rules": rules}).model_dump_json())
    done = subprocess.run(
        [sys.executable, "-m", "reviewer", "report", "--findings", str(document), "-f", "markdown"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert "#### Rules applied (1)" in done.stdout and "AGENTS.md" in done.stdout
    assert_inert(done.stdout)
