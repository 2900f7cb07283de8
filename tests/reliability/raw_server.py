"""A raw TCP server on 127.0.0.1 that a test controls byte by byte, for the faults an HTTP test
server cannot produce: headers that trickle, a connection reset mid-stream, a body that never
ends, a server that goes away and comes back on the same port. Each connection runs the test's
handler in its own thread; `bytes_sent` counts what actually left through the socket."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class RawRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


class Closed(Exception):
    """The peer went away (or the server is stopping): the handler should return."""


@dataclass
class Conn:
    """One accepted connection, as the handler sees it."""

    sock: socket.socket
    server: RawServer
    buffer: bytearray = field(default_factory=bytearray)

    def read_request(self) -> RawRequest | None:
        """The next HTTP/1.1 request on this connection, or None when the client closed it."""
        while b"\r\n\r\n" not in self.buffer:
            data = self._recv()
            if not data:
                return None
            self.buffer += data
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
        size = int(headers.get("content-length", "0"))
        body = bytearray(rest)
        while len(body) < size:
            data = self._recv()
            if not data:
                return None
            body += data
        self.buffer = bytearray(body[size:])
        return RawRequest(method, path, headers, bytes(body[:size]))

    def _recv(self) -> bytes:
        try:
            return self.sock.recv(65536)
        except OSError:
            return b""

    def send(self, data: bytes) -> None:
        """Send all of `data`, counting what went out; Closed when the client is gone."""
        view = memoryview(data)
        while view:
            if self.server.stopping.is_set():
                raise Closed
            try:
                n = self.sock.send(view)
            except OSError as e:
                raise Closed from e
            self.server.count(n)
            view = view[n:]

    def head(self, status: int = 200, *, length: int | None = None, chunked: bool = False) -> None:
        reason = {200: "OK", 404: "Not Found", 500: "Internal Server Error", 503: "Unavailable"}
        lines = [
            f"HTTP/1.1 {status} {reason.get(status, 'Status')}",
            "Content-Type: application/json",
        ]
        if length is not None:
            lines.append(f"Content-Length: {length}")
        elif chunked:
            lines.append("Transfer-Encoding: chunked")
        else:
            lines.append("Connection: close")  # the body ends when the connection does
        self.send(("\r\n".join(lines) + "\r\n\r\n").encode())

    def respond_json(self, value: Any, status: int = 200) -> None:
        body = json.dumps(value).encode()
        self.head(status, length=len(body))
        self.send(body)

    def chunk(self, data: bytes) -> None:
        """One piece of a chunked body."""
        if data:
            self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def end_chunks(self) -> None:
        self.send(b"0\r\n\r\n")

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0), as a crashed server's kernel would."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def wait_until_stopped(self) -> None:
        """Hold the connection open and say nothing, until the test ends."""
        self.server.stopping.wait()


Handler = Callable[[Conn], None]


class RawServer:
    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stopping = threading.Event()
        self.connections = 0
        self._sent = 0
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self.port = 0
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def bytes_sent(self) -> int:
        with self._lock:
            return self._sent

    def count(self, n: int) -> None:
        with self._lock:
            self._sent += n

    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        sock.listen(16)
        self.port = sock.getsockname()[1]
        self._listener = sock
        threading.Thread(target=self._accept, args=(sock,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = listener.accept()
            except OSError:
                return  # the listener was closed (a restart or the end of the test)
            with self._lock:
                self.connections += 1
                self._socks.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        try:
            self.handler(Conn(sock, self))
        except Closed:
            pass
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def go_down(self) -> None:
        """Stop listening (new connections are refused) and drop every open connection."""
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            socks, self._socks = self._socks, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def come_back(self) -> None:
        """Listen again on the same port, as a restarted server does."""
        self._listen()

    def restart_after(self, downtime: float) -> None:
        """Go down now and come back after `downtime` seconds, in the background."""
        self.go_down()

        def later() -> None:
            time.sleep(downtime)
            if not self.stopping.is_set():
                self.come_back()

        threading.Thread(target=later, daemon=True).start()

    def stop(self) -> None:
        self.stopping.set()
        self.go_down()


@contextmanager
def raw_server(handler: Handler) -> Iterator[RawServer]:
    server = RawServer(handler)
    try:
        yield server
    finally:
        server.stop()
