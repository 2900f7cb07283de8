"""Hidden text is shown, never smuggled: every class of invisible, reordering or control
character reaches the model, the terminal and every format as a visible escape, from one
table (security.HIDDEN_RANGES)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from reviewer.formats import FORMAT_NAMES, render
from reviewer.models import Finding, FindingsDocument
from reviewer.security import escape_char, hidden_pattern, neutralise_lines, neutralise_terminal
from tests.formats.format_docs import make_document
from tests.model_fakes import answer, review_chats, serve_ollama_chat, serve_ollama_preflight
from tests.sourcefiles import python_modules

HIDDEN = {
    "tag character": "\U000e0041",
    "cancel tag": "\U000e007f",
    "zero-width space": "\u200b",
    "zero-width joiner": "\u200d",
    "word joiner": "\u2060",
    "invisible operator": "\u2064",
    "mongolian vowel separator": "\u180e",
    "bom": "\ufeff",
    "soft hyphen": "\u00ad",
    "variation selector": "\ufe0f",
    "variation selector supplement": "\U000e0100",
    "combining grapheme joiner": "\u034f",
    "hangul filler": "\u3164",
    "halfwidth hangul filler": "\uffa0",
    "hangul choseong filler": "\u115f",
    "bidi override": "\u202e",
    "bidi isolate": "\u2066",
    "right-to-left mark": "\u200f",
    "line separator": "\u2028",
    "c1 csi": "\x9b",
    "escape": "\x1b",
    "del": "\x7f",
}
CASES = list(HIDDEN.items())
IDS = list(HIDDEN)


@pytest.mark.parametrize(("name", "char"), CASES, ids=IDS)
def test_the_terminal_sees_an_escape(name: str, char: str) -> None:
    shown = escape_char(char)
    assert neutralise_terminal(f"a{char}b") == f"a{shown}b"
    assert neutralise_lines(f"a{char}b\nc") == f"a{shown}b\nc"
    assert shown.isascii() and shown.isprintable()


def _hidden_document() -> FindingsDocument:
    base = make_document()
    text = "".join(HIDDEN.values())
    first = base.findings[0]
    finding = Finding.model_validate(
        {
            **first.model_dump(),
            "path": f"src/a{text}.py",
            "title": f"t{text}",
            "message": f"m{text}\nsecond",
            "suggestion": f"s{text}",
        }
    )
    return base.model_copy(update={"findings": (finding,)})


@pytest.mark.parametrize("format_name", FORMAT_NAMES)
def test_no_format_writes_a_hidden_character_raw(format_name: str) -> None:
    document = _hidden_document()
    out = render(document, format_name)
    for name, char in HIDDEN.items():
        if char == "\u200b" and format_name == "markdown":
            continue  # the one character we insert ourselves, to break pings (tests/post)
        assert char not in out, (format_name, name)
    if format_name == "json":
        assert FindingsDocument.model_validate_json(out) == document  # same value, escaped bytes
    elif format_name == "sarif":
        assert "t\\udb40\\udc41\\udb40\\udc7f\\u200b" in out  # JSON escapes, same value
    elif format_name in ("rdjson", "rdjsonl"):  # inert Markdown for reviewdog: shown escapes
        assert "t" + "\\\\" * 2 + "U000e0041" in out
    elif format_name == "text":  # the table cuts long cells; the start is shown
        assert "t\\U000e0041\\U000e007f\\u200b\\u200d\\u2060" in out
    else:
        escapes = "".join(escape_char(c) for c in HIDDEN.values())
        assert escapes in out or escapes.replace("\\", "\\\\") in out


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


def test_the_model_sees_every_hidden_character_as_an_escape(
    server: HTTPServer, env: dict[str, str], tmp_path: Path
) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "--allow-empty", "-m", "base")
    lines = [f"x = 1  # {name}: a{char}b" for name, char in CASES]
    name = "src/hidden\u200b\U000e0041.py"
    (repo / "src").mkdir()
    (repo / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    _git(repo, "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "head")
    serve_ollama_preflight(server)
    serve_ollama_chat(server, answer())
    proc = subprocess.run(
        [
            sys.executable, "-m", "reviewer", "run", "--base", "HEAD~1", "--head", "HEAD",
            "--ollama-url", server.url_for("/").rstrip("/"), "--no-cache",
            "--output", str(tmp_path / "f.json"), "--format", "json",
        ],
        cwd=repo, env={**env, "GIT_CONFIG_NOSYSTEM": "1"}, capture_output=True, text=True,
        timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    (request,) = review_chats(server)
    prompt = "\n".join(m["content"] for m in json.loads(request.get_data())["messages"])
    for label, char in CASES:
        assert char not in prompt, label
        assert f"{label}: a{escape_char(char)}b" in prompt, label
    # The file header still names the exact path, in JSON the validator reads back.
    header = next(line for line in prompt.splitlines() if line.startswith("=== FILE "))
    assert json.loads(header.removeprefix("=== FILE ").split(" (new file)")[0]) == name


# Every string literal in src/reviewer that holds a character of the table, and why it is not
# a second table: a new escaper must call security's, not carry its own character class.
NOT_ESCAPERS = {
    ("diff/binary.py", "[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]"),  # binary detection, as git
    ("diff/binary.py", "\x00"),  # NUL separates `git diff --raw -z` fields
    ("findings/answer.py", "[\ud800-\udfff]"),  # lone surrogates -> U+FFFD, so text can encode
    ("findings/answer.py", "\x00"),
    ("findings/answer.py", "\x1f"),  # the fingerprint's field separator, hashed, never shown
    ("security.py", "\u200b"),  # ZWSP, the character security inserts to defuse commands
}


def test_there_is_one_table_of_hidden_characters() -> None:
    src = Path(__file__).resolve().parent.parent / "src" / "reviewer"
    layout = hidden_pattern("\t\n\r")
    found = set()
    for path in python_modules(src):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if layout.search(node.value):
                    found.add((path.relative_to(src).as_posix(), node.value))
    assert found == NOT_ESCAPERS, "a character class of hidden characters outside security.py"
