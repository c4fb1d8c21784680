"""A loopback TCP (optionally TLS) server that answers each request with scripted bytes, for the load
generator's HTTP client tests: the malformed, cut-short and oddly framed answers no real Keycloak sends.

Each accepted connection takes the next script (a list of answers); per request it reads the request head
(and a Content-Length body) and sends the next answer. An answer of None closes the connection without a
word; after the last answer the connection is closed. `requests` records what arrived.
"""

from __future__ import annotations

import socket
import ssl
import threading
from types import TracebackType


class ScriptedServer:
    def __init__(self, scripts: list[list[bytes | None]], tls: ssl.SSLContext | None = None) -> None:
        self.scripts = list(scripts)
        self.tls = tls
        self.requests: list[bytes] = []
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.listener.close()
        self.thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while self.scripts:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            script = self.scripts.pop(0)
            try:
                if self.tls is not None:
                    conn = self.tls.wrap_socket(conn, server_side=True)
                self._answer(conn, script)
            except (OSError, ssl.SSLError):
                pass
            finally:
                conn.close()

    def _answer(self, conn: socket.socket, script: list[bytes | None]) -> None:
        buf = b""
        for answer in script:
            while b"\r\n\r\n" not in buf:
                data = conn.recv(65536)
                if not data:
                    return
                buf += data
            head, _, buf = buf.partition(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            while len(buf) < length:
                buf += conn.recv(65536)
            self.requests.append(head + b"\r\n\r\n" + buf[:length])
            buf = buf[length:]
            if answer is None:
                return
            conn.sendall(answer)
