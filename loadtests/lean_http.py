"""The load generator's HTTP client: what Locust's FastHttpSession does for this scenario, with less CPU.

FastHttpSession wraps geventhttpclient's HTTPClient in a urllib-compatible layer (UserAgent, CompatRequest,
CompatResponse, URL objects, retries, redirects) that the browser flow never uses: it follows redirects and
keeps cookies itself. Measured on the platform (`docs/load.md`, "Generator cost"), that layer was half of the
CPU of a request. `LeanSession` keeps what matters and drops the rest:

- one keep-alive connection pool per scheme/host/port (geventhttpclient's HTTPClient: its C HTTP parser,
  chunked bodies, reconnect when Keycloak closed an idle connection);
- TLS verified as a browser does: the caller's SSL context (the platform's CA, hostname checked);
- timeouts: connect and network, as FastHttpUser's `connection_timeout` / `network_timeout`;
- cookies in the browser jar (`loadtests.cookies.BrowserJar`);
- form bodies (`data=` a mapping, URL-encoded), HTTP Basic `auth=`, extra `headers=`;
- one Locust `request` event per request, named as the caller says, with the same fields FastHttpSession
  fires (a status ≥ 400 or a transport error is a failure; a transport error has status 0);
- never follows redirects (`allow_redirects=True` is refused: the flow follows them).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

import gevent
from geventhttpclient import HTTPClient
from geventhttpclient._parser import HTTPParseError
from geventhttpclient.header import Headers
from geventhttpclient.response import HTTPConnectionClosed

from loadtests.cookies import BrowserJar

USER_AGENT = "bizid-loadtest (geventhttpclient)"
TRANSPORT_ERRORS = (OSError, HTTPParseError, HTTPConnectionClosed, gevent.Timeout)
"""OSError covers refused and reset connections, socket timeouts and TLS failures (ssl.SSLError)."""


class HttpStatusError(Exception):
    """A response with status ≥ 400, reported to Locust as a failed request (as FastHttpSession does)."""


class LeanResponse:
    """The parts of a response the browser flow reads."""

    __slots__ = ("content", "encoding", "error", "headers", "status_code", "url")

    def __init__(self, url: str, status_code: int, headers: Headers, content: bytes) -> None:
        self.url = url
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.encoding: str | None = None
        self.error: BaseException | None = None

    @property
    def text(self) -> str:
        return self.content.decode(self.encoding or _charset(self.headers) or "utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


def _charset(headers: Headers) -> str | None:
    content_type = str(headers.get("content-type") or "")
    _, found, charset = content_type.lower().partition("charset=")
    return charset.split(";")[0].strip().strip('"') or None if found else None


class LeanSession:
    """One simulated browser: its connections, its cookie jar, its request events."""

    def __init__(
        self,
        base_url: str,
        request_event: Any,
        ssl_context_factory: Callable[..., Any],
        connection_timeout: float,
        network_timeout: float,
        concurrency: int = 2,
    ) -> None:
        self.base_url = base_url
        self.request_event = request_event
        self.ssl_context_factory = ssl_context_factory
        self.connection_timeout = connection_timeout
        self.network_timeout = network_timeout
        self.concurrency = concurrency
        self.cookiejar = BrowserJar()
        self._clients: dict[tuple[str, str, int], HTTPClient] = {}

    def _client(self, scheme: str, host: str, port: int) -> HTTPClient:
        key = (scheme, host, port)
        client = self._clients.get(key)
        if client is None:
            https = scheme == "https"
            client = HTTPClient(
                host,
                port,
                ssl=https,
                ssl_context_factory=self.ssl_context_factory if https else None,
                connection_timeout=self.connection_timeout,
                network_timeout=self.network_timeout,
                concurrency=self.concurrency,
                headers={"User-Agent": USER_AGENT},
            )
            self._clients[key] = client
        return client

    def close(self) -> None:
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    def request(
        self,
        method: str,
        url: str,
        name: str | None = None,
        data: Mapping[str, str] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        allow_redirects: bool = False,
    ) -> LeanResponse:
        if allow_redirects:
            raise ValueError("LeanSession does not follow redirects: the browser flow does")
        if "://" not in url:
            url = self.base_url + url
        split = urlsplit(url)
        if split.scheme not in ("http", "https") or not split.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        port = split.port or (443 if split.scheme == "https" else 80)
        path = split.path or "/"
        target = f"{path}?{split.query}" if split.query else path
        sent: dict[str, str] = dict(headers or {})
        body: bytes | None = None
        if data is not None:
            if isinstance(data, Mapping):
                body = urlencode(data).encode("ascii")
                sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
            else:
                body = data.encode() if isinstance(data, str) else data
        if auth is not None:
            sent["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode(
                "ascii"
            )
        cookie = self.cookiejar.header_for(split.scheme, split.hostname, path)
        if cookie is not None:
            sent["Cookie"] = cookie
        start_time = time.time()
        began = time.perf_counter()
        exception: BaseException | None = None
        try:
            raw = self._client(split.scheme, split.hostname, port).request(
                method, target, body=body or b"", headers=sent
            )
            try:
                content = raw.read()
            finally:
                raw.release()
            received: Headers = raw.info()
            response = LeanResponse(url, raw.status_code, received, content)
            for set_cookie in received.getlist("set-cookie"):
                self.cookiejar.set_from_header(set_cookie, split.scheme, split.hostname, path, start_time)
            if response.status_code >= 400:
                exception = HttpStatusError(f"{response.status_code} for {method} {name or url}")
        except TRANSPORT_ERRORS as exc:
            response = LeanResponse(url, 0, Headers(), b"")
            exception = exc
        response.error = exception
        self.request_event.fire(
            request_type=method,
            name=name or url,
            response_time=(time.perf_counter() - began) * 1000,
            response_length=len(response.content),
            exception=exception,
            context={},
            response=response,
            url=url,
            start_time=start_time,
        )
        return response
