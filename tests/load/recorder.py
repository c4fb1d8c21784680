"""What the load generator's HTTP clients report, kept for the tests: stands in for Locust's request event
hook (`fire(**event)`), and the one plain answer the loopback servers send."""

from __future__ import annotations

from typing import Any

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


class Recorder:
    """Keeps what each request reported, in order."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def fire(self, **event: Any) -> None:
        self.events.append(event)
