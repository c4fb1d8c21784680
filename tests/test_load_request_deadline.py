"""BareSession's network timeout is one deadline per request (loadtests/bare_http.py): sending the request
and reading its whole answer must end within it, however the server spaces its bytes; it is re-armed for
each request on a kept-alive connection; the TLS handshake stays bounded on its own.

Against loopback servers in threads; the timings are the servers' (how they space their bytes), the
assertions are outcomes only (which request failed, and how), never a duration.
"""

from __future__ import annotations

import socket
import threading
import time
from types import TracebackType

import gevent
import gevent.ssl

from loadtests import http11
from loadtests.bare_http import BareSession
from loadtests.journey import TimedFlow, TimedOut, classify
from tests.load.recorder import OK, Recorder


class PacedServer:
    """Answers every request on a connection with OK, sent in `pieces` parts `gap` seconds apart (after a
    first wait of `gap`); `silent` accepts and never sends a byte (not even a TLS handshake)."""

    def __init__(self, pieces: int = 1, gap: float = 0.0, silent: bool = False) -> None:
        self.pieces, self.gap, self.silent = pieces, gap, silent
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.open: list[socket.socket] = []

    def __enter__(self) -> PacedServer:
        self.thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.listener.close()
        for conn in self.open:
            conn.close()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            self.open.append(conn)
            if not self.silent:
                threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        step = -(-len(OK) // self.pieces)
        buf = b""
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                buf = buf.partition(b"\r\n\r\n")[2]
                for start in range(0, len(OK), step):
                    time.sleep(self.gap)
                    conn.sendall(OK[start : start + step])
        except OSError:
            return


def _session(events: Recorder, network_timeout: float) -> BareSession:
    return BareSession(
        "http://127.0.0.1",
        events,
        ssl_context_factory=lambda **_: gevent.ssl.create_default_context(),
        connection_timeout=5.0,
        network_timeout=network_timeout,
    )


def test_an_answer_trickled_past_the_deadline_is_a_timed_out_request() -> None:
    # every gap (0.1 s) is far inside the timeout (1 s): only a deadline for the whole answer stops it
    with PacedServer(pieces=len(OK), gap=0.1) as server, gevent.Timeout(30):
        events = Recorder()
        session = _session(events, network_timeout=1.0)
        flow = TimedFlow(session, "http://127.0.0.1/realms/bizid")  # type: ignore[arg-type]
        response = flow._request("GET", f"http://127.0.0.1:{server.port}/slow", "authorize")
    assert response.status_code == 0 and response.content == b""
    (event,) = events.events
    assert isinstance(event["exception"], TimeoutError), event
    assert "timed out" in str(event["exception"]) and event["name"] == "authorize"
    assert isinstance(classify(flow, RuntimeError("step failed")), TimedOut)


def test_the_deadline_is_per_request_and_a_timed_out_connection_is_not_reused() -> None:
    # four answers of 0.5 s each on one connection: 2 s in all, more than the 1.5 s timeout
    with PacedServer(pieces=1, gap=0.5) as server, gevent.Timeout(30):
        events = Recorder()
        session = _session(events, network_timeout=1.5)
        url = f"http://127.0.0.1:{server.port}"
        statuses = [session.request("GET", f"{url}/{i}").status_code for i in range(4)]
    assert statuses == [200] * 4 and server.connections == 1
    assert all(e["exception"] is None for e in events.events)

    with PacedServer(pieces=len(OK), gap=0.1) as server, gevent.Timeout(30):
        events = Recorder()
        session = _session(events, network_timeout=1.0)
        first = session.request("GET", f"http://127.0.0.1:{server.port}/slow")
        server.pieces = 1  # answers at once from now on
        second = session.request("GET", f"http://127.0.0.1:{server.port}/fast")
    assert first.status_code == 0 and isinstance(first.error, TimeoutError)
    assert second.status_code == 200 and server.connections == 2, "the timed-out connection was dropped"


def test_a_tls_handshake_that_never_comes_is_bounded() -> None:
    with PacedServer(silent=True) as server, gevent.Timeout(30):
        events = Recorder()
        response = _session(events, network_timeout=1.0).request("GET", f"https://127.0.0.1:{server.port}/")
    assert response.status_code == 0
    (event,) = events.events
    assert isinstance(event["exception"], OSError) and "timed out" in str(event["exception"]).lower()
    assert not isinstance(event["exception"], http11.MalformedResponse)
