"""Scripted model servers for `reviewer eval`: a fake Ollama (tests/model_fakes.py) whose chat
handler reads the chunk out of the prompt it is sent and answers from it. The corpus is read
here with tomllib on its own, not with reviewer's loader, so agreement between the two proves
something.

- `labels`: answers each labelled defect the chunk shows, on its first shown line (the perfect
  reviewer);
- `silent`: answers no finding;
- `random`: answers plausible findings on random changed lines of the chunk (a reviewer that
  flags code at random), seeded by the chunk so a run repeats."""

from __future__ import annotations

import hashlib
import json
import random
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from reviewer.chunks.prompt import DIFF_BEGIN, DIFF_END
from tests.model_fakes import answer, ndjson_bytes, ollama_stream, serve_ollama_preflight

_FILE = re.compile(r'=== FILE "(?P<path>[^"]+)"')
# A numbered line: an added line's new-file number and a space, a removed line's old-file
# number and `-` (context lines carry no number).
_LINE = re.compile(r"(?P<no>\d+)(?P<kind>[ -])(?P<text>.*)")


@dataclass
class ShownFile:
    """What a chunk shows of one file: numbered lines by side, and which are changes."""

    path: str
    new: dict[int, str] = field(default_factory=dict)  # added lines
    old: dict[int, str] = field(default_factory=dict)  # removed lines
    added: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class LabelledCase:
    id: str
    label: dict[str, Any]
    base: dict[str, list[str]]
    head: dict[str, list[str]]


def read_cases(root: Path) -> list[LabelledCase]:
    cases = []
    for d in sorted(p for p in root.iterdir() if p.is_dir()):
        trees = [
            {
                f.relative_to(d / side).as_posix(): f.read_text(encoding="utf-8").splitlines()
                for f in (d / side).rglob("*")
                if f.is_file() and f.name != ".gitkeep"
            }
            for side in ("base", "head")
        ]
        label = tomllib.loads((d / "case.toml").read_text(encoding="utf-8"))
        cases.append(LabelledCase(d.name, label, *trees))
    return cases


def shown_files(prompt: str) -> list[ShownFile]:
    body = prompt.split(DIFF_BEGIN + "\n", 1)[1].rsplit("\n" + DIFF_END, 1)[0]
    files: list[ShownFile] = []
    for line in body.split("\n"):
        if (m := _FILE.match(line)) is not None:
            files.append(ShownFile(m["path"]))
            continue
        m = _LINE.fullmatch(line)
        if m is None or not files:
            continue
        no, kind = int(m["no"]), m["kind"]
        if kind == "-":
            files[-1].old[no] = m["text"]
        else:
            files[-1].new[no] = m["text"]
            files[-1].added.append(no)
    return files


def _agreement(case: LabelledCase, files: list[ShownFile]) -> int:
    """How many shown lines read exactly as the case's files say: which case this chunk is."""
    score = 0
    for f in files:
        for shown, tree in ((f.new, case.head.get(f.path)), (f.old, case.base.get(f.path))):
            if tree is None:
                continue
            score += sum(1 for n, text in shown.items() if n <= len(tree) and tree[n - 1] == text)
    return score


def _finding(path: str, side: str, line: int, title: str) -> dict[str, Any]:
    return {
        "path": path,
        "side": side,
        "line": line,
        "end_line": None,
        "severity": "high",
        "category": "security",
        "title": title,
        "message": "This looks wrong; check it before merging.",
        "suggestion": None,
    }


def label_answers(cases: list[LabelledCase]) -> Callable[[list[ShownFile]], list[dict[str, Any]]]:
    def answers(files: list[ShownFile]) -> list[dict[str, Any]]:
        best = max(cases, key=lambda c: _agreement(c, files))
        found = []
        by_path = {f.path: f for f in files}
        for defect in best.label.get("defects", []):
            shown = by_path.get(defect["path"])
            if shown is None:
                continue
            first, last = defect["lines"]
            pool = shown.added if defect["side"] == "new" else sorted(shown.old)
            lines = [n for n in pool if first <= n <= last]
            if lines:
                found.append(_finding(defect["path"], defect["side"], lines[0], defect["class"]))
        return found

    return answers


def silent(_: list[ShownFile]) -> list[dict[str, Any]]:
    return []


def random_answers(files: list[ShownFile]) -> list[dict[str, Any]]:
    seed = hashlib.sha256(json.dumps([f.path for f in files] + [f.added for f in files]).encode())
    rng = random.Random(seed.digest())
    found = []
    for _ in range(3):
        f = rng.choice(files)
        side, pool = ("new", f.added) if f.added else ("old", sorted(f.old))
        if pool:
            line = rng.choice(pool)
            found.append(_finding(f.path, side, line, rng.choice(_TITLES)))
    return found


_TITLES = ("Possible null dereference", "Unchecked error", "Off-by-one in loop bound",
           "Resource not closed", "Race on shared state")  # fmt: skip


def serve_scripted(
    server: HTTPServer, answers: Callable[[list[ShownFile]], list[dict[str, Any]]]
) -> list[str]:
    """Preflight and /api/chat answering `answers(files shown)`; returns the prompts seen."""
    serve_ollama_preflight(server)
    prompts: list[str] = []

    def handler(request: Request) -> Response:
        body = request.get_json()
        prompt = body["messages"][-1]["content"]
        prompts.append(prompt)
        content = answer(*answers(shown_files(prompt)))
        return Response(ndjson_bytes(ollama_stream(content)), mimetype="application/x-ndjson")

    server.expect_request("/api/chat", method="POST").respond_with_handler(handler)
    return prompts
