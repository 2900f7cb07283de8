"""No line reviewer prints in GitHub Actions can be read as a workflow command, whatever the
document or the model says: every format through the real CLI with GITHUB_ACTIONS=true, the
lines checked by the runner's own two rules (a leading `::` after whitespace; `##[` anywhere)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reviewer.formats import FORMAT_NAMES
from reviewer.models import ErrorEntry, Finding, Status
from tests.formats.format_docs import make_document
from tests.markdown_html import assert_inert
from tests.model_fakes import answer, finding, serve_ollama_chat, serve_ollama_preflight

COMMANDS = [
    "::error::pwned", "  ::add-mask::secret", "\t::set-output name=x::y", "::stop-commands::tok",
    "##[add-mask]secret", "x ##[stop-commands]tok", "::warning file=a::b",
]
HOSTILE = "\n".join(COMMANDS)
# Long words so that a wrapped table cell or status line starts with a command.
WRAPPED = " ".join(["w" * 30] * 3 + ["::error::wrapped"] * 8)
CODE = "```\n" + HOSTILE + "\n```"


def commands_in(output: str) -> list[str]:
    """The lines the runner would act on."""
    lines = re.split(r"\r\n|\r|\n", output)
    return [ln for ln in lines if ln.lstrip().startswith("::") or "##[" in ln]


def _document_file(tmp_path: Path) -> Path:
    base = make_document(Status.PARTIAL)
    f = Finding.model_validate(
        {
            **base.findings[0].model_dump(),
            "path": "::error::p.py",
            "title": f"{HOSTILE} {WRAPPED}",
            "message": f"{HOSTILE}\n{WRAPPED}\n{CODE}",
            "suggestion": HOSTILE,
        }
    )
    doc = base.model_copy(
        update={
            "findings": (f,),
            "errors": (ErrorEntry(kind="::error::k", message=f"{HOSTILE} {WRAPPED}"),),
            "tool": base.tool.model_copy(update={"version": "::error::v ##[add-mask]x"}),
        }
    )
    path = tmp_path / "doc.json"
    path.write_text(doc.model_dump_json())
    return path


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "reviewer", *args], cwd=cwd, capture_output=True, text=True,
        env={**env, "GITHUB_ACTIONS": "true"}, timeout=120, check=False,
    )


@pytest.mark.parametrize("name", FORMAT_NAMES)
def test_report_prints_no_workflow_command_in_any_format(
    name: str, env: dict[str, str], tmp_path: Path
) -> None:
    proc = _run(["report", "--findings", str(_document_file(tmp_path)), "--format", name], env, tmp_path)
    assert proc.returncode == 0, proc.stderr
    found = commands_in(proc.stdout) + commands_in(proc.stderr)
    if name == "github":
        # Ours, on purpose: one warning for the partial status and one annotation; the
        # untrusted parts are escaped as the runner unescapes them.
        assert [c.split(" ", 1)[0] for c in found] == ["::warning", "::error"]
        assert all("%0A" in c for c in found) and "p.py" in found[1]
        props = found[1].split("::")[1]
        assert "file=%3A%3Aerror%3A%3Ap.py" in props
    else:
        assert found == []
    if name in ("json", "sarif", "rdjson"):
        json.loads(proc.stdout)  # still valid JSON with the same values


def test_run_prints_no_workflow_command_from_model_text(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    diff = tmp_path / "pr.diff"
    diff.write_text(
        "diff --git a/a.py b/a.py\nnew file mode 100644\n--- /dev/null\n+++ b/a.py\n"
        "@@ -0,0 +1,2 @@\n+x = 1\n+y = 2\n"
    )
    serve_ollama_preflight(server)
    for name in ("markdown", "text"):
        serve_ollama_chat(
            server,
            answer(finding(path="a.py", line=1, title="::error::t ##[add-mask]x", message=f"{HOSTILE}\n{WRAPPED}\n{CODE}", suggestion=HOSTILE)),
        )
        proc = _run(
            [
                "run", "--diff-file", str(diff), "--ollama-url", server.url_for("/").rstrip("/"),
                "--no-cache", "--format", name, "--output", str(tmp_path / f"{name}.json"),
            ],
            env, tmp_path,
        )
        assert proc.returncode == 0, proc.stderr
        assert "error" in proc.stdout  # the text is there, shown
        assert commands_in(proc.stdout) == [] and commands_in(proc.stderr) == [], name


def test_the_step_summary_from_a_forged_document_is_inert(env: dict[str, str], tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    proc = _run(
        ["post", "--findings", str(_document_file(tmp_path)), "--annotations-fallback"],
        {**env, "GITHUB_STEP_SUMMARY": str(summary)}, tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert_inert(summary.read_text())
    assert [c.split(" ", 1)[0] for c in commands_in(proc.stdout)] == ["::warning", "::error"]
