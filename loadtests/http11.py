"""A strict HTTP/1.1 response reader for the load generator's own client (loadtests/bare_http.py).

Reads one response from a connection's buffer and socket: the status line, the header block, and the body
framed by `Transfer-Encoding: chunked`, `Content-Length`, or (neither) the end of the connection. It is
strict, because a malformed answer must be a failed sign-in and never a silently accepted one:

- a status line that is not `HTTP/1.x DDD reason` is refused;
- a header line without a `name:` token is refused, so is obsolete line folding (a line starting with
  white space), a header block over `MAX_HEADER_BYTES`, and a body over `MAX_BODY_BYTES`;
- a `Content-Length` that is not digits, or two that differ, or both framings at once, is refused;
- a chunk size that is not hex, a chunk not followed by CRLF, a transfer coding other than `chunked`,
  a content coding (the client asks for none), or bytes left over after the response are refused;
- the connection ending before the response does is `ConnectionClosed` (the request gets status 0).

Interim 1xx answers are skipped, as RFC 9110 §15.2 asks of a client. Bodies of HEAD, 204 and 304 are
empty. Why not geventhttpclient's parser: its C parser calls back into Python for every header field and
value, and its response object wraps a gevent SSL reader; for five requests a sign-in that was about half
the generator's CPU (docs/load.md, "Generator cost").
"""

from __future__ import annotations

import re
from typing import Any, Protocol

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 8 * 1024 * 1024
RECV_BYTES = 65536

_STATUS = re.compile(r"HTTP/1\.[01] ([1-5]\d\d)(?: [^\r\n\x00]*)?")
_NAME = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN = re.compile(_NAME)
_FIELDS = re.compile(rf"{_NAME}:[^\r\n\x00]*(?:\r\n{_NAME}:[^\r\n\x00]*)*")
"""Header lines `name: value`, CRLF-separated: no folding (a line that starts with white space), no bare CR
or LF, no NUL, every name a token. Checked in one match; the lines are then split without more checks."""
_DIGITS = re.compile(r"[0-9]{1,18}")
_HEX = re.compile(r"[0-9A-Fa-f]{1,15}")


class MalformedResponse(Exception):
    """The server's answer is not a well-formed HTTP/1.1 response; the message says what is wrong."""


class ConnectionClosed(OSError):
    """The connection ended before a complete response (`before_any_byte`: nothing of it arrived)."""

    def __init__(self, message: str, before_any_byte: bool) -> None:
        super().__init__(message)
        self.before_any_byte = before_any_byte


class Recv(Protocol):
    """Reads up to `size` bytes; b"" at the end of the connection (a socket's recv, an SSL socket's read)."""

    def __call__(self, size: int, /) -> bytes: ...


class Headers(dict[str, str]):
    """Response headers by lower-case name (repeated fields joined with ", ", Set-Cookie kept apart);
    looked up case-insensitively, as `requests` and FastHttpSession's responses are."""

    def fields(self, name: str, default: Any = None) -> Any:
        """Look up a lower-case name (the reader's own, cheaper lookup)."""
        return dict.get(self, name, default)

    def __getitem__(self, name: str) -> str:
        return dict.__getitem__(self, name.lower())

    def get(self, name: str, default: Any = None) -> Any:
        return dict.get(self, name.lower(), default)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and dict.__contains__(self, name.lower())


class Response:
    """One parsed response: status, headers, Set-Cookie values, body; `keep_alive` says whether the
    connection can carry the next request."""

    __slots__ = ("body", "headers", "keep_alive", "set_cookies", "status")

    def __init__(
        self, status: int, headers: Headers, set_cookies: list[str], body: bytes, keep_alive: bool
    ) -> None:
        self.status = status
        self.headers = headers
        self.set_cookies = set_cookies
        self.body = body
        self.keep_alive = keep_alive


def _first_bad(fields: str) -> str:
    for line in fields.split("\r\n"):
        name, sep, value = line.partition(":")
        if not sep or _TOKEN.fullmatch(name) is None or any(c in value for c in "\r\n\x00"):
            return line[:80]
    return fields[:80]


def _fill(recv: Recv, buf: bytearray, started: bool) -> None:
    chunk = recv(RECV_BYTES)
    if not chunk:
        raise ConnectionClosed("connection closed before the response ended", not started and not buf)
    buf += chunk


def read_response(recv: Recv, buf: bytearray, method: str) -> Response:
    """Read the next final response to `method` from `buf` (bytes already received) and `recv`. What is
    consumed is removed from `buf`."""
    started = False
    while True:
        end = buf.find(b"\r\n\r\n")
        while end < 0:
            if len(buf) > MAX_HEADER_BYTES:
                raise MalformedResponse(f"header block over {MAX_HEADER_BYTES} bytes")
            _fill(recv, buf, started)
            started = True
            end = buf.find(b"\r\n\r\n")
        if end > MAX_HEADER_BYTES:
            raise MalformedResponse(f"header block over {MAX_HEADER_BYTES} bytes")
        head = buf[:end].decode("latin-1")
        del buf[: end + 4]
        started = True
        status_line, _, fields = head.partition("\r\n")
        match = _STATUS.fullmatch(status_line)
        if match is None:
            raise MalformedResponse(f"bad status line {status_line[:80]!r}")
        status = int(match.group(1))
        headers = Headers()
        set_cookies: list[str] = []
        if fields:
            if _FIELDS.fullmatch(fields) is None:
                raise MalformedResponse(f"bad header block {_first_bad(fields)!r}")
            for line in fields.split("\r\n"):
                name, _, value = line.partition(":")
                name = name.lower()
                value = value.strip(" \t")
                if name == "set-cookie":
                    set_cookies.append(value)
                elif (seen := dict.get(headers, name)) is not None:
                    if name == "content-length" and seen != value:
                        raise MalformedResponse("two different Content-Length headers")
                    if name != "content-length":
                        dict.__setitem__(headers, name, f"{seen}, {value}")
                else:
                    dict.__setitem__(headers, name, value)
        if status >= 200:
            break
        # 1xx: an interim answer; the final one follows
    field = headers.fields
    keep_alive = "close" not in field("connection", "").lower() and status_line[7] == "1"
    coding = field("content-encoding", "identity").strip().lower()
    if coding != "identity":
        raise MalformedResponse(f"content coding {coding!r} (none was asked for)")
    if method == "HEAD" or status in (204, 304):
        return Response(status, headers, set_cookies, b"", keep_alive)
    transfer = field("transfer-encoding")
    length = field("content-length")
    if transfer is not None:
        if length is not None:
            raise MalformedResponse("both Transfer-Encoding and Content-Length")
        if transfer.strip().lower() != "chunked":
            raise MalformedResponse(f"transfer coding {transfer!r}")
        body = _read_chunked(recv, buf)
    elif length is not None:
        if _DIGITS.fullmatch(length) is None:
            raise MalformedResponse(f"bad Content-Length {length[:40]!r}")
        size = int(length)
        if size > MAX_BODY_BYTES:
            raise MalformedResponse(f"body of {size} bytes over {MAX_BODY_BYTES}")
        while len(buf) < size:
            _fill(recv, buf, True)
        body = bytes(buf[:size])
        del buf[:size]
    else:  # delimited by the end of the connection
        while True:
            if len(buf) > MAX_BODY_BYTES:
                raise MalformedResponse(f"body over {MAX_BODY_BYTES} bytes")
            chunk = recv(RECV_BYTES)
            if not chunk:
                break
            buf += chunk
        body = bytes(buf)
        buf.clear()
        keep_alive = False
    if buf:
        raise MalformedResponse(f"{len(buf)} bytes after the end of the response")
    return Response(status, headers, set_cookies, body, keep_alive)


def _line(recv: Recv, buf: bytearray) -> str:
    end = buf.find(b"\r\n")
    while end < 0:
        if len(buf) > 4096:
            raise MalformedResponse("chunk header or trailer line over 4096 bytes")
        _fill(recv, buf, True)
        end = buf.find(b"\r\n")
    line = buf[:end].decode("latin-1")
    del buf[: end + 2]
    return line


def _read_chunked(recv: Recv, buf: bytearray) -> bytes:
    body = bytearray()
    while True:
        size_text = _line(recv, buf).partition(";")[0].strip(" \t")
        if _HEX.fullmatch(size_text) is None:
            raise MalformedResponse(f"bad chunk size {size_text[:40]!r}")
        size = int(size_text, 16)
        if size == 0:
            while _line(recv, buf):  # trailer fields, up to the empty line
                pass
            return bytes(body)
        if len(body) + size > MAX_BODY_BYTES:
            raise MalformedResponse(f"body over {MAX_BODY_BYTES} bytes")
        while len(buf) < size + 2:
            _fill(recv, buf, True)
        if buf[size : size + 2] != b"\r\n":
            raise MalformedResponse("chunk not followed by CRLF")
        body += buf[:size]
        del buf[: size + 2]
