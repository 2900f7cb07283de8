"""A small, realistic findings document for the format tests."""

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


def make_document(status: Status = Status.COMPLETE, findings: tuple[Finding, ...] | None = None) -> FindingsDocument:
    if findings is None:
        findings = (
            Finding(
                path="src/app.py", line=5, end_line=6, severity=Severity.HIGH,
                category=Category.SECURITY, title="Shell injection, again: 100%",
                message="Line one\nline two with 50% and a colon: here\r", suggestion="call([cmd])",
                fingerprint="fp-1",
            ),
            Finding(
                path="docs/a b,c.md", line=3, end_line=3, severity=Severity.LOW,
                category=Category.STYLE, title="Typo", message="teh -> the", fingerprint="fp-2",
            ),
            Finding(
                path="src/util.py", line=10, end_line=10, severity=Severity.MEDIUM,
                category=Category.BUG, title="Off by one [i]", message="range(n+1)", fingerprint="fp-3",
            ),
        )
    errors = ()
    if status is Status.PARTIAL:
        errors = (ErrorEntry(kind="model_timeout", message="chunk 1 timed out"),)
    if status is Status.SKIPPED:
        errors = (ErrorEntry(kind="model_unreachable", message="no server at localhost:11434"),)
    return FindingsDocument(
        status=status,
        tool=ToolInfo(version="0.1.0"),
        model=ModelInfo(backend="ollama", name="qwen2.5-coder:7b"),
        head="f" * 40,
        findings=findings,
        skipped=(SkippedFile(path="package-lock.json", reason="lockfile"),),
        stats=Stats(chunks=2, chunks_failed=1 if status is Status.PARTIAL else 0),
        errors=errors,
    )
