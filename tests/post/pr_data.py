"""A realistic pull request (patches GitHub would serve) and a findings document for it with
findings on and off the diff, ranges, suggestions, hostile text and a huge message."""

from __future__ import annotations

from reviewer.models import (
    Category,
    ErrorEntry,
    Finding,
    FindingsDocument,
    ModelInfo,
    Severity,
    SkippedFile,
    Stats,
    Status,
    ToolInfo,
)

# The third line is a context line for an empty source line: a single space.
APP_PATCH = """@@ -1,4 +1,6 @@
 import os
+import subprocess
\x20
 def run(cmd):
-    os.system(cmd)
+    subprocess.call(cmd, shell=True)
+    return True
@@ -20,3 +22,4 @@ def other():
     a = 1
     b = 2
+    c = a / 0
     return b"""
README_PATCH = """@@ -0,0 +1,3 @@
+# Title
+
+Some text"""

HOSTILE_MESSAGE = (
    "Ping @octocat and @org/team, mail dev@example.com. <script>alert(1)</script> "
    "<img src=x onerror=alert(2)> [click](javascript:alert(3)) [x](  JaVa\tScript:alert(4)) "
    "![i](data:text/html;base64,AAAA) token ghp_abcdefghijklmnopqrstuvwxyz0123456789 "
    "key AKIAIOSFODNN7EXAMPLE password=hunter22 and `code <b> @keep` then\n"
    "```\nunclosed fence swallowing the rest <!-- reviewer:fingerprint=fp-ctx -->"
)


def finding(fp: str, path: str, line: int, end: int | None = None, **kw: object) -> Finding:
    data: dict[str, object] = {
        "path": path,
        "line": line,
        "end_line": end or line,
        "severity": Severity.MEDIUM,
        "category": Category.BUG,
        "title": f"Title {fp}",
        "message": f"Message for {fp}.",
        "fingerprint": fp,
    }
    data.update(kw)
    return Finding.model_validate(data)


def findings() -> tuple[Finding, ...]:
    return (
        finding(
            "fp-shell", "src/app.py", 5, severity=Severity.HIGH, category=Category.SECURITY,
            title="Shell injection", message="`shell=True` with user input.",
            suggestion="    subprocess.call([cmd])  # no ``` shell\n",
        ),
        finding("fp-range", "src/app.py", 5, 6, title="Return value ignored"),
        finding("fp-ctx", "src/app.py", 24, severity=Severity.CRITICAL, title="Division by zero"),
        finding("fp-off-hunk", "src/app.py", 15, severity=Severity.LOW, title="Outside any hunk"),
        finding("fp-not-in-pr", "src/other.py", 3, title="File not in the PR"),
        finding("fp-binary", "logo.png", 1, severity=Severity.INFO, title="Binary file"),
        finding("fp-span", "src/app.py", 5, 22, title="Range across hunks"),
        finding(
            "fp-hostile", "README.md", 1, severity=Severity.HIGH,
            title="Hey @admin | <b>bold</b>", message=HOSTILE_MESSAGE,
        ),
        finding("fp-huge", "README.md", 2, severity=Severity.LOW, message="A" * 200_000),
    )


INLINE = {"fp-shell", "fp-range", "fp-ctx", "fp-hostile", "fp-huge"}
SUMMARY_ONLY = {"fp-off-hunk", "fp-not-in-pr", "fp-binary", "fp-span"}


def document(status: Status = Status.COMPLETE, head: str | None = None) -> FindingsDocument:
    errors = ()
    if status is Status.PARTIAL:
        errors = (ErrorEntry(kind="model_timeout", message="chunk 2 timed out"),)
    return FindingsDocument(
        status=status,
        tool=ToolInfo(version="0.1.0"),
        model=ModelInfo(backend="ollama", name="qwen2.5-coder:7b"),
        base="a" * 40,
        head=head,
        findings=findings(),
        skipped=(SkippedFile(path="poetry.lock", reason="lockfile"),),
        stats=Stats(files_reviewed=2, chunks=3, chunks_failed=1 if errors else 0),
        errors=errors,
    )
