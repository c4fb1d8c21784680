"""The load generator's HTTP client on a bare gevent socket: LeanSession's behaviour with less CPU.

`LeanSession` (loadtests/lean_http.py) put geventhttpclient's HTTPClient under the browser flow; this
client keeps its interface and its guarantees and drops the library: a keep-alive TLS connection per
origin on gevent's socket and ssl, requests written from a per-origin template in one `sendall`, and the
strict response reader of loadtests/http11.py. What it guarantees:

- TLS verified as a browser does: the caller's SSL context (the platform's CA, hostname checked), on
  gevent's cooperative SSL socket; a context that does not require a verified certificate is refused;
- timeouts: connect (and the TLS handshake) per socket operation, then one deadline per request:
  `network_timeout` bounds sending the request and reading its whole answer (FastHttpUser's bounds each
  socket read, so a server that trickles bytes could hold a request longer). One timer per connection,
  re-armed per request, instead of a new gevent Timeout for every wait on the socket;
- a malformed or cut-short response is a failed request (status 0), never accepted (http11.py lists the
  checks); a status ≥ 400 is a failed request too;
- cookies in the browser jar (loadtests/cookies.py); form bodies (`data=` a mapping, URL-encoded as
  urlencode does, loadtests/form_encoding.py), HTTP Basic `auth=`, extra `headers=`;
- one Locust `request` event per request with FastHttpSession's fields, named as the caller says;
- redirects are never followed (`allow_redirects=True` is refused: the flow follows them);
- a request that finds its kept-alive connection closed by the server before any byte of an answer is
  sent once more on a new connection (what browsers do); any other failure is not retried.
"""

from __future__ import annotations

import base64
import contextlib
import json
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import gevent
import gevent.socket
import gevent.ssl

from loadtests import http11
from loadtests.cookies import BrowserJar
from loadtests.form_encoding import form_encode

USER_AGENT = "bizid-loadtest (bare)"
TRANSPORT_ERRORS = (OSError, http11.MalformedResponse, gevent.Timeout)
"""OSError covers refused and reset connections, socket timeouts, TLS failures (ssl.SSLError) and
http11.ConnectionClosed."""


class RequestTimedOut(TimeoutError):
    """No complete answer within the session's network timeout (an OSError: a failed request, status 0)."""

    def __init__(self, *args: object) -> None:
        super().__init__(*(args or ("timed out: no complete answer within the network timeout",)))


class HttpStatusError(Exception):
    """A response with status ≥ 400, reported to Locust as a failed request (as FastHttpSession does)."""


class BareResponse:
    """The parts of a response the browser flow reads (as LeanResponse)."""

    __slots__ = ("content", "encoding", "error", "headers", "status_code", "url")

    def __init__(self, url: str, status_code: int, headers: http11.Headers, content: bytes) -> None:
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


def _charset(headers: http11.Headers) -> str | None:
    _, found, charset = headers.get("content-type", "").lower().partition("charset=")
    return charset.split(";")[0].strip().strip('"') or None if found else None


class _Connection:
    """A socket with its receive buffer. TLS sockets are read with `read` and written with `send`, not
    `recv`/`sendall`: gevent's SSL socket routes those through two more Python layers each."""

    __slots__ = ("buf", "deadline", "recv", "send", "sock", "used")

    def __init__(self, sock: Any, tls: bool, network_timeout: float) -> None:
        self.sock = sock
        self.recv = sock.read if tls else sock.recv
        self.send = sock.send
        self.buf = bytearray()
        self.used = False
        self.deadline = gevent.get_hub().loop.timer(network_timeout, network_timeout)
        """Re-armed (`again`: counted from now) for each request on this connection and stopped after it;
        the socket itself then waits without a timer. Not a gevent Timeout: a restarted Timeout keeps
        counting from its first start."""

    def exchange(self, data: bytes, method: str) -> http11.Response:
        """Send one request and read its answer, both within the deadline."""
        self.deadline.again(gevent.getcurrent().throw, RequestTimedOut, update=True)
        try:
            self.sendall(data)
            return http11.read_response(self.recv, self.buf, method)
        finally:
            self.deadline.stop()

    def sendall(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[self.send(view) :]

    def close(self) -> None:
        self.deadline.close()
        with contextlib.suppress(OSError):
            self.sock.close()


class _Origin:
    """One scheme://host:port: its idle connections and the fixed part of every request to it."""

    __slots__ = ("fixed", "host", "https", "idle", "port", "scheme")

    def __init__(self, scheme: str, host: str, port: int) -> None:
        self.scheme, self.host, self.port = scheme, host, port
        self.https = scheme == "https"
        bracketed = f"[{host}]" if ":" in host else host
        authority = bracketed if port == (443 if self.https else 80) else f"{bracketed}:{port}"
        self.fixed = f"Host: {authority}\r\nUser-Agent: {USER_AGENT}\r\nAccept-Encoding: identity\r\n"
        self.idle: list[_Connection] = []


def _split(url: str) -> tuple[str, str, int, str]:
    """scheme, host, port, request target (path and query) of an absolute http(s) URL."""
    scheme, sep, rest = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {url!r}")
    slash = rest.find("/")
    query = rest.find("?")
    cut = min(i for i in (slash, query, len(rest)) if i >= 0)
    authority, target = rest[:cut], rest[cut:].partition("#")[0]
    if not target.startswith("/"):
        target = "/" + target
    if "@" in authority:
        raise ValueError(f"credentials in URL are not supported: {url!r}")
    if authority.startswith("["):
        host, _, port_text = authority[1:].partition("]")
        port_text = port_text[1:] if port_text.startswith(":") else port_text
    else:
        host, _, port_text = authority.partition(":")
    if not host or (port_text and not port_text.isdigit()):
        raise ValueError(f"not an http(s) URL: {url!r}")
    port = int(port_text) if port_text else (443 if scheme == "https" else 80)
    if any(c in target for c in " \r\n\x00"):
        raise ValueError(f"bad character in URL {url!r}")
    return scheme, host.lower(), port, target


class BareSession:
    """One simulated browser: its connections, its cookie jar, its request events."""

    def __init__(
        self,
        base_url: str,
        request_event: Any,
        ssl_context_factory: Callable[..., Any],
        connection_timeout: float,
        network_timeout: float,
    ) -> None:
        self.base_url = base_url
        self.request_event = request_event
        self.ssl_context_factory = ssl_context_factory
        self.connection_timeout = connection_timeout
        self.network_timeout = network_timeout
        self.cookiejar = BrowserJar()
        self._context: ssl.SSLContext | None = None
        self._by_key: dict[tuple[str, str, int], _Origin] = {}
        self._basic: dict[tuple[str, str], str] = {}

    def _tls(self) -> ssl.SSLContext:
        if self._context is None:
            context = self.ssl_context_factory()
            if not (
                isinstance(context, ssl.SSLContext)
                and context.verify_mode == ssl.CERT_REQUIRED
                and context.check_hostname
            ):
                raise ValueError("BareSession: TLS needs an SSLContext that verifies certificates and hosts")
            self._context = context
        return self._context

    def _connect(self, origin: _Origin) -> _Connection:
        sock = gevent.socket.create_connection((origin.host, origin.port), timeout=self.connection_timeout)
        try:
            sock.settimeout(self.network_timeout)
            sock.setsockopt(gevent.socket.IPPROTO_TCP, gevent.socket.TCP_NODELAY, 1)
            if origin.https:
                # gevent's cooperative SSL socket around the caller's context (what gevent's own
                # SSLContext.wrap_socket does; the context may be the standard library's)
                sock = gevent.ssl.SSLSocket(sock=sock, server_hostname=origin.host, _context=self._tls())
            sock.settimeout(None)  # from here on, each request's deadline (_Connection.deadline) bounds it
        except BaseException:
            sock.close()
            raise
        return _Connection(sock, origin.https, self.network_timeout)

    def _origin(self, url: str) -> tuple[_Origin, str]:
        scheme, host, port, target = _split(url)
        key = (scheme, host, port)
        origin = self._by_key.get(key)
        if origin is None:
            origin = self._by_key[key] = _Origin(scheme, host, port)
        return origin, target

    def close(self) -> None:
        for origin in self._by_key.values():
            for connection in origin.idle:
                connection.close()
            origin.idle.clear()

    def _basic_auth(self, auth: tuple[str, str]) -> str:
        value = self._basic.get(auth)
        if value is None:
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            value = self._basic[auth] = f"Basic {token}"
        return value

    def _exchange(self, origin: _Origin, method: str, data: bytes) -> http11.Response:
        for attempt in (1, 2):
            connection = origin.idle.pop() if origin.idle else self._connect(origin)
            reused = connection.used
            try:
                response = connection.exchange(data, method)
            except (http11.ConnectionClosed, ConnectionResetError, BrokenPipeError) as exc:
                connection.close()
                nothing = not isinstance(exc, http11.ConnectionClosed) or exc.before_any_byte
                if reused and nothing and attempt == 1 and not connection.buf:
                    continue  # the server closed the idle connection: once more on a new one
                raise
            except BaseException:
                connection.close()
                raise
            if response.keep_alive:
                connection.used = True
                origin.idle.append(connection)
            else:
                connection.close()
            return response
        raise AssertionError("unreachable")

    def request(
        self,
        method: str,
        url: str,
        name: str | None = None,
        data: Mapping[str, str] | str | bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        allow_redirects: bool = False,
    ) -> BareResponse:
        if allow_redirects:
            raise ValueError("BareSession does not follow redirects: the browser flow does")
        if "://" not in url:
            url = self.base_url + url
        origin, target = self._origin(url)
        body: bytes | None = None
        lines = [f"{method} {target} HTTP/1.1\r\n", origin.fixed]
        if data is not None:
            if isinstance(data, Mapping):
                body = form_encode(data)
                if not headers or not any(k.lower() == "content-type" for k in headers):
                    lines.append("Content-Type: application/x-www-form-urlencoded\r\n")
            else:
                body = data.encode() if isinstance(data, str) else data
        if headers:
            for key, value in headers.items():
                if any(c in key or c in value for c in "\r\n\x00"):
                    raise ValueError(f"bad character in header {key!r}")
                lines.append(f"{key}: {value}\r\n")
        if auth is not None:
            lines.append(f"Authorization: {self._basic_auth(auth)}\r\n")
        path = target.partition("?")[0]
        cookie = self.cookiejar.header_for(origin.scheme, origin.host, path)
        if cookie is not None:
            lines.append(f"Cookie: {cookie}\r\n")
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}\r\n")
        lines.append("\r\n")
        wire = "".join(lines).encode("latin-1")
        if body:
            wire += body
        start_time = time.time()
        began = time.perf_counter()
        exception: BaseException | None = None
        try:
            raw = self._exchange(origin, method, wire)
            response = BareResponse(url, raw.status, raw.headers, raw.body)
            for set_cookie in raw.set_cookies:
                self.cookiejar.set_from_header(set_cookie, origin.scheme, origin.host, path, start_time)
            if raw.status >= 400:
                exception = HttpStatusError(f"{raw.status} for {method} {name or url}")
        except TRANSPORT_ERRORS as exc:
            response = BareResponse(url, 0, http11.Headers(), b"")
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
