"""The findings document on disk: atomic writing, reading back and its published JSON Schema
(`reviewer schema` prints it)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from reviewer.errors import FindingsDocumentError, ReviewerError, first_problem
from reviewer.models import FindingsDocument
from reviewer.security import escape_json_text

MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
FINDINGS_DOCUMENT = "findings document"  # what the writer names in its errors, by default


class DocumentWriteError(ReviewerError):
    """The findings document could not be written (read-only directory, full disk)."""


def write_document(doc: FindingsDocument, path: Path) -> None:
    """Write the findings document atomically (write_json)."""
    write_json(doc, path)


def write_json(value: BaseModel, path: Path, what: str = FINDINGS_DOCUMENT) -> None:
    """Write `value` as JSON atomically: a temporary file in the target's directory, fsync,
    then rename over the target. A crash or a full disk never leaves half a document at
    `path`. A symlink is written through (the file it points to is replaced, the link stays),
    and the target is checked again here, not only before the review: it may have changed
    meanwhile. `what` names the document in errors (`reviewer eval` writes its report too)."""
    target = output_target(path, what)
    # Escaped so `cat findings.json` cannot drive a terminal; parses to the same values.
    data = (escape_json_text(value.model_dump_json(indent=2)) + "\n").encode("utf-8")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as e:
        raise _write_error(path, e, what) from e
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException as e:  # a signal too: never leave the temporary file behind
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise _write_error(path, e, what) from e
        raise
    _fsync_dir(target.parent)


def check_writable(path: Path, what: str = FINDINGS_DOCUMENT) -> None:
    """Fail before the review, not after it: `path` must name (or link to) a regular file or
    nothing yet, in a directory that takes a new file."""
    target = output_target(path, what)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=target.parent)
    except OSError as e:
        raise _write_error(path, e, what) from e
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(tmp)


# Renaming a file over a path under these would replace a device, a process's file descriptor
# (/dev/stdout, /dev/fd/1, /proc/self/fd/1: whatever stdout is) or a kernel file, not write to
# it. Print the document with --format json instead.
_SPECIAL_ROOTS = ("/dev", "/proc", "/sys")
_MAX_LINKS = 40  # as the kernel's own limit on a chain of symbolic links


def _is_special(path: str) -> bool:
    return any(path == root or path.startswith(f"{root}/") for root in _SPECIAL_ROOTS)


def output_target(path: Path, what: str = FINDINGS_DOCUMENT) -> Path:
    """The regular file `--output PATH` stands for: each symbolic link followed by hand, so
    that no step of the chain (not only its end) is a device or a process's file descriptor.
    The result does not exist yet or is a regular file; anything else is a DocumentWriteError."""
    hop = os.path.abspath(path)
    for _ in range(_MAX_LINKS):
        directory = os.path.realpath(os.path.dirname(hop))
        if _is_special(hop) or _is_special(directory):
            raise _not_a_file(path, "a device or process file; it would be replaced", what)
        candidate = os.path.join(directory, os.path.basename(hop))
        try:
            mode = os.lstat(candidate).st_mode
        except FileNotFoundError:
            return Path(candidate)
        except OSError as e:
            raise _write_error(path, e, what) from e
        if stat.S_ISLNK(mode):
            hop = os.path.normpath(os.path.join(directory, os.readlink(candidate)))
            continue
        if not stat.S_ISREG(mode):
            raise _not_a_file(path, "not a regular file", what)
        return Path(candidate)
    raise _not_a_file(path, "too many levels of symbolic links", what)


def _not_a_file(path: Path, why: str, what: str) -> DocumentWriteError:
    hint = "give --output a file path"
    if what == FINDINGS_DOCUMENT:
        hint += "; print the document with --format json instead"
    return DocumentWriteError(f"cannot write the {what} {path}: {why}", hint)


def _write_error(path: Path, e: OSError, what: str) -> DocumentWriteError:
    return DocumentWriteError(
        f"cannot write the {what} {path}: {e.strerror or e}",
        "check the directory exists, is writable and the disk is not full",
    )


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; not every file system allows it, and that is fine."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load_document(path: Path) -> FindingsDocument:
    """Read and validate a findings document."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_DOCUMENT_BYTES + 1)
    except OSError as e:
        raise FindingsDocumentError(f"cannot read {path}: {e.strerror or e}") from e
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise FindingsDocumentError(f"{path} is larger than {MAX_DOCUMENT_BYTES} bytes")
    try:
        return FindingsDocument.model_validate_json(raw)
    except ValidationError as e:
        raise FindingsDocumentError(
            f"{path} is not a findings document: {first_problem(e)}",
            "produce it with `reviewer run --output`; `reviewer schema` prints its schema",
        ) from None


def document_schema() -> dict[str, Any]:
    """The findings document's JSON Schema (draft 2020-12), as `reviewer schema` prints it."""
    schema = FindingsDocument.model_json_schema(mode="serialization")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
    }
