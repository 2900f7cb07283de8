"""Real git repositories for tests: built with the git CLI in a temp dir, no mocks."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
    "HOME": "/nonexistent-home-for-tests",
}


class GitRepo:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "core.autocrlf", "false")
        self.git("config", "protocol.file.allow", "always")

    def git(self, *args: str, input: bytes | None = None) -> bytes:
        env = {**os.environ, **GIT_ENV}
        proc = subprocess.run(
            ["git", *args], cwd=self.root, env=env, input=input, capture_output=True, check=True
        )
        return proc.stdout

    def write(self, path: str, content: bytes | str, mode: int | None = None) -> None:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content.encode() if isinstance(content, str) else content)
        if mode is not None:
            target.chmod(mode)

    def remove(self, path: str) -> None:
        self.git("rm", "-q", "--", path)

    def commit(self, message: str = "c") -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").decode().strip()

    def show(self, rev: str, path: str) -> bytes:
        return self.git("cat-file", "blob", f"{rev}:{path}")

    def numstat(self, base: str, head: str, *extra: str) -> dict[str, tuple[int, int] | None]:
        """`git diff --numstat -z`: path at head -> (added, removed), None for binary."""
        out = self.git("diff", "--numstat", "-z", "-M", *extra, base, head).decode(
            "utf-8", "replace"
        )
        fields = out.split("\0")
        result: dict[str, tuple[int, int] | None] = {}
        i = 0
        while i < len(fields) - 1:
            added, removed, path = fields[i].split("\t", 2)
            if path == "":  # a rename or copy: old and new names follow
                path = fields[i + 2]
                i += 3
            else:
                i += 1
            result[path] = None if added == "-" else (int(added), int(removed))
        return result


def head_lines(data: bytes) -> list[str]:
    """A file's lines as the parser reports them: split at \\n, UTF-8 with replacement, no CR."""
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    out = []
    for raw in lines:
        text = raw.decode("utf-8", "replace")
        out.append(text[:-1] if text.endswith("\r") else text)
    return out
