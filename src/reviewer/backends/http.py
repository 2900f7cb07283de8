"""HTTP plumbing shared by the backends: clients with a short connect timeout, a total deadline
per request (enforced on every socket operation, see deadline.py), bounded reads, NDJSON framing
that survives lines split across reads, JSON parsing that survives hostile input, and the
translation of transport failures into `ModelError`s."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from reviewer.backends.deadline import DeadlineTransport, deadline_applied
from reviewer.backends.interface import MAX_ANSWER_BYTES, ChunkFailedError, TransientModelError
from reviewer.errors import InvalidAnswerError, ModelError
from reviewer.net.retry import MAX_DELAY, parse_retry_after

# A streamed answer carries a JSON envelope (about 150 bytes) per token, and the answer is
# bounded by --num-predict tokens; anything beyond this is a runaway or hostile server.
MAX_STREAM_BYTES = 16_000_000
# One NDJSON line carries one piece of the answer: never more than the answer itself.
MAX_LINE_BYTES = MAX_ANSWER_BYTES + 64_000
MAX_ERROR_BODY = 64_000
MAX_ERROR_TEXT = 300


def display_url(url: str) -> str:
    """The URL without user info, for messages: never print a password from a URL."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def make_client(
    base_url: str, connect_timeout: float, timeout: float, *, allow_remote: bool = False
) -> httpx.Client:
    """A client that never follows redirects (the URL policy checked this host, not another),
    ignores proxy settings from the environment (the model server is local) and, unless
    `allow_remote`, connects only to addresses within the local policy (deadline.py)."""
    return httpx.Client(
        base_url=base_url.rstrip("/"),
        timeout=httpx.Timeout(timeout, connect=connect_timeout),
        follow_redirects=False,
        trust_env=False,
        transport=DeadlineTransport(local_only=not allow_remote),
    )


class Deadline:
    """A total time budget for one request: httpx's timeouts are per read, so a server that
    trickles a byte at a time could otherwise hold a request forever. Inside `applied()`
    every socket operation (connect, headers, body) is cut off when the budget runs out."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise ModelError(
                f"the model server did not finish answering within {self.seconds:g} s",
                "raise --timeout for slow (CPU) inference, or use a smaller model",
                kind="timeout",
            )


def chat_messages(system: str, user: str) -> list[dict[str, str]]:
    """The messages of one review request, in the shape both chat APIs take."""
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def encode_body(body: dict[str, Any]) -> bytes:
    """A request body as the bytes posted: compact UTF-8 JSON. A backend encodes each request
    once, so what --show-prompts writes is exactly what is sent."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


@contextmanager
def transport_errors(url: str, deadline: Deadline, *, unreachable_hint: str) -> Iterator[None]:
    """Hold the request to its deadline and translate httpx failures: connection problems
    are transient (retried), a timeout is not (the same request would take as long again).
    `unreachable_hint` says how to start the backend's server."""
    shown = display_url(url)
    timeout = deadline.seconds
    try:
        with deadline_applied(deadline.end):
            yield
    except httpx.ConnectTimeout as e:
        raise TransientModelError(
            f"could not connect to the model server at {shown} (connect timeout)",
            "check the server is running and the URL is right",
        ) from e
    except httpx.ConnectError as e:
        raise TransientModelError(
            f"cannot connect to {shown}: {failure_reason(e)}",
            unreachable_hint,
        ) from e
    except (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError) as e:
        # Reset or closed mid-request (a restart, a crash, an idle connection it dropped).
        raise TransientModelError(
            f"the connection to the model server at {shown} broke: {failure_reason(e)}",
            "check the server's log: it closed the connection before answering in full",
            kind="connection_lost",
        ) from e
    except httpx.TimeoutException as e:
        raise ModelError(
            f"the model server at {shown} did not answer within {timeout:g} s",
            "raise --timeout for slow (CPU) inference, or use a smaller model",
            kind="timeout",
        ) from e
    except httpx.HTTPError as e:
        raise TransientModelError(f"HTTP error talking to {shown}: {failure_reason(e)}") from e


def failure_reason(error: BaseException) -> str:
    """What went wrong with a connection in words ("connection refused", "name or service not
    known"), not an exception class name: the operating system's reason when there is one."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[:1].lower() + cause.strerror[1:]
        cause = cause.__cause__ or cause.__context__
    # The library's own words, bounded as the server's error text is: they may quote bytes
    # the server sent.
    text = re.sub(r"\[Errno -?\d+\] ", "", str(error)[:MAX_ERROR_TEXT]).strip().rstrip(".")
    return (text[:1].lower() + text[1:]) if text else "the connection failed"


def too_large(limit: int) -> InvalidAnswerError:
    """A runaway answer: invalid for this chunk (retried once), and the connection is dropped
    at once, so the rest of the body is never read."""
    return InvalidAnswerError(
        f"the model server sent more than {limit} bytes", kind="answer_too_large"
    )


def read_bounded(response: httpx.Response, deadline: Deadline, limit: int) -> bytes:
    """The whole body, refusing more than `limit` bytes."""
    body = bytearray()
    for piece in response.iter_raw():
        deadline.check()
        body += piece
        if len(body) > limit:
            raise too_large(limit)
    return bytes(body)


def read_prefix(response: httpx.Response, deadline: Deadline, limit: int) -> bytes:
    """At most the first `limit` bytes of the body (an error page is only shown, never
    needed whole)."""
    body = bytearray()
    for piece in response.iter_raw():
        deadline.check()
        body += piece
        if len(body) >= limit:
            break
    return bytes(body[:limit])


def iter_ndjson(response: httpx.Response, deadline: Deadline) -> Iterator[dict[str, Any]]:
    """Objects from a newline-delimited JSON stream. Bytes are buffered until a newline, so a
    line split across network reads (or a UTF-8 character split in two) is parsed whole. Only
    the new bytes are searched for a newline, so a long line costs linear time."""
    pending = bytearray()
    total = 0
    for piece in response.iter_raw():
        deadline.check()
        total += len(piece)
        if total > MAX_STREAM_BYTES:
            raise too_large(MAX_STREAM_BYTES)
        pending += piece
        if b"\n" not in piece:
            if len(pending) > MAX_LINE_BYTES:
                raise too_large(MAX_LINE_BYTES)
            continue
        *lines, rest = pending.split(b"\n")
        pending = bytearray(rest)
        for line in lines:
            if line.strip():
                yield _parse_line(bytes(line))
    if pending.strip():
        yield _parse_line(bytes(pending))


def loads(raw: bytes | str) -> Any:
    """JSON from an untrusted server: bytes that are not UTF-8 become U+FFFD (as in a diff),
    and nesting too deep for the parser is a ValueError, not a RecursionError."""
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except RecursionError as e:
        raise ValueError("JSON nested too deeply") from e


def _parse_line(line: bytes) -> dict[str, Any]:
    try:
        value = loads(line)
    except ValueError as e:
        raise TransientModelError(
            "the model server sent a malformed stream line", kind="protocol"
        ) from e
    if not isinstance(value, dict):
        raise TransientModelError("the model server sent a non-object stream line", kind="protocol")
    return value


def error_text(body: bytes) -> str:
    """The server's error message from a JSON error body ({"error": "..."} or OpenAI's
    {"error": {"message": "..."}}), else the start of the body."""
    try:
        data = loads(body)
    except ValueError:
        return body[:MAX_ERROR_TEXT].decode("utf-8", "replace").strip()
    err = data.get("error") if isinstance(data, dict) else None
    if isinstance(err, dict):
        err = err.get("message")
    text = err if isinstance(err, str) else json.dumps(data)
    return text[:MAX_ERROR_TEXT]


def check_status(response: httpx.Response, deadline: Deadline, url: str) -> None:
    """Raise for an HTTP error status: 5xx is transient, 4xx final."""
    if response.status_code < 400:
        return
    text = error_text(read_prefix(response, deadline, MAX_ERROR_BODY))
    where = display_url(url)
    if response.status_code >= 500:
        raise TransientModelError(
            f"the model server at {where} answered HTTP {response.status_code}: {text}",
            "the server is overloaded or failing; check its logs",
            kind="server_error",
            retry_after=parse_retry_after(response.headers.get("retry-after"), cap=MAX_DELAY),
        )
    if "context" in text.lower() and response.status_code == 400:
        raise _prompt_too_long(text)
    raise ModelError(
        f"the model server at {where} refused the request (HTTP {response.status_code}): {text}",
        "check the model name and the server's API (--backend)",
        kind="http_error",
    )


def _prompt_too_long(text: str) -> ModelError:
    return ChunkFailedError(
        f"the server refused a prompt longer than its context: {text}",
        "raise --num-ctx (within the model's limit) or review a smaller diff",
        kind="prompt_too_long",
    )


@contextmanager
def post_checked(
    client: httpx.Client,
    url: str,
    path: str,
    body: bytes,
    timeout: float,
    *,
    unreachable_hint: str,
) -> Iterator[tuple[httpx.Response, Deadline]]:
    """POST the JSON `body` bytes as they are and yield the streamed response once its status
    is good, under one total deadline; transport errors inside the block (reading the body
    too) become ModelErrors."""
    deadline = Deadline(timeout)
    headers = {"Content-Type": "application/json"}
    with (
        transport_errors(url, deadline, unreachable_hint=unreachable_hint),
        client.stream("POST", path, content=body, headers=headers) as response,
    ):
        check_status(response, deadline, url)
        yield response, deadline


def exchange_json(
    client: httpx.Client,
    url: str,
    request: tuple[str, str, Any],
    *,
    timeout: float,
    limit: int,
    unreachable_hint: str,
) -> tuple[int, Any]:
    """One small JSON exchange (`request`: method, path, body or None) under one total
    deadline: the status and the parsed body (None when it is not JSON). A 5xx or 429 raises
    as `check_status` does; any other status is the caller's to judge."""
    method, path, body = request
    deadline = Deadline(timeout)
    with (
        transport_errors(url, deadline, unreachable_hint=unreachable_hint),
        client.stream(method, path, json=body) as response,
    ):
        if response.status_code >= 500 or response.status_code == 429:
            check_status(response, deadline, url)
        raw = read_bounded(response, deadline, limit)
    try:
        return response.status_code, loads(raw)
    except ValueError:
        return response.status_code, None
