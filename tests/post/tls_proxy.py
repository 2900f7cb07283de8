"""Test parts for the token's route: a CA and a server certificate made with the `openssl`
command, and a recording HTTP proxy on 127.0.0.1 that logs every request line and header it
receives and tunnels CONNECT to one fixed local server (whatever host the client asked for)."""

from __future__ import annotations

import select
import shutil
import socket
import socketserver
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path


def make_ca_and_cert(directory: Path, host: str) -> tuple[Path, Path, Path]:
    """(ca.pem, server.pem, server.key) for `host`, or skip when openssl is missing."""
    import pytest

    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test CA")
    ca_key, ca, key, csr, cert = (directory / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem"))
    ext = directory / "ext.cnf"
    ext.write_text(f"subjectAltName=DNS:{host}\nbasicConstraints=CA:FALSE\n")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
            "-days", "2", "-subj", "/CN=reviewer test CA")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", f"/CN={host}")
    openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial",
            "-out", str(cert), "-days", "2", "-extfile", str(ext))
    return ca, cert, key


@dataclass
class RecordingProxy:
    """Logs (request line, headers, tunnelled client bytes) for every connection."""

    upstream: tuple[str, int] | None = None  # where CONNECT tunnels go
    requests: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    tunnelled: bytearray = field(default_factory=bytearray)
    _server: socketserver.ThreadingTCPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> None:
        proxy = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                proxy._handle(self.connection, self.rfile)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _handle(self, client: socket.socket, rfile: object) -> None:
        line = rfile.readline(65536).decode("latin-1").strip()  # type: ignore[attr-defined]
        headers: dict[str, str] = {}
        while True:
            raw = rfile.readline(65536).decode("latin-1")  # type: ignore[attr-defined]
            if raw in ("\r\n", "\n", ""):
                break
            name, _, value = raw.partition(":")
            headers[name.strip().lower()] = value.strip()
        self.requests.append((line, headers))
        if not line.startswith("CONNECT ") or self.upstream is None:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        upstream = socket.create_connection(self.upstream, timeout=10)
        client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
        self._relay(client, upstream)

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        with upstream:
            while True:
                ready, _, _ = select.select([client, upstream], [], [], 10)
                if not ready:
                    return
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is client:
                        self.tunnelled.extend(data)
                    (upstream if sock is client else client).sendall(data)
