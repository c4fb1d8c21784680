"""A browser's cookie jar for the load generator's user agent, in place of http.cookiejar.

Locust's FastHttpSession keeps cookies in the standard library's CookieJar, which runs its whole policy
machinery (Netscape and RFC 2965 rules, header word splitting, a lock, expiry sweeps) on every request and
response. A sign-in has five requests to one host; this jar keeps what a browser keeps for them (RFC 6265
§5.2-5.4): name and value, host-only or domain, path, `Secure`, expiry by `Max-Age` or `Expires`
(a past date or `Max-Age` ≤ 0 deletes the cookie, as Keycloak does with KC_RESTART), and it sends the
cookies whose domain, path and scheme match, longest path first. `SameSite` and `HttpOnly` change nothing
for a user agent that only follows its own top-level navigations and posts.

It speaks the interface geventhttpclient's UserAgent calls (`add_cookie_header(request)`,
`extract_cookies(response, request)`) and `clear()`, so `install(session)` swaps it into a FastHttpSession.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email.utils import mktime_tz, parsedate_tz
from typing import Any, Protocol


@dataclass
class Cookie:
    value: str
    domain: str
    host_only: bool
    path: str
    secure: bool
    expires: float | None


class _Url(Protocol):
    scheme: str
    host: str
    path: str


def default_path(request_path: str) -> str:
    """RFC 6265 §5.1.4: the request path up to (not including) its last '/', or '/'."""
    if not request_path.startswith("/") or request_path.count("/") == 1:
        return "/"
    return request_path[: request_path.rfind("/")]


def path_matches(request_path: str, cookie_path: str) -> bool:
    """RFC 6265 §5.1.4."""
    if request_path == cookie_path:
        return True
    if request_path.startswith(cookie_path):
        return cookie_path.endswith("/") or request_path[len(cookie_path)] == "/"
    return False


def domain_matches(host: str, domain: str) -> bool:
    return host == domain or (host.endswith("." + domain) and not host.replace(".", "").isdigit())


class BrowserJar:
    """Cookies by (domain, path, name); see the module docstring for what is kept and sent."""

    def __init__(self) -> None:
        self.cookies: dict[tuple[str, str, str], Cookie] = {}

    def clear(self) -> None:
        self.cookies.clear()

    def __len__(self) -> int:
        return len(self.cookies)

    def header_for(self, scheme: str, host: str, path: str, now: float | None = None) -> str | None:
        """The Cookie header a browser sends to this URL (None when it sends none)."""
        if not self.cookies:
            return None
        now = time.time() if now is None else now
        found: list[tuple[int, str, str]] = []
        expired = []
        for key, c in self.cookies.items():
            if c.expires is not None and c.expires <= now:
                expired.append(key)
                continue
            if (host == c.domain if c.host_only else domain_matches(host, c.domain)) and path_matches(
                path or "/", c.path
            ):
                if c.secure and scheme != "https":
                    continue
                found.append((len(c.path), key[2], c.value))
        for key in expired:
            del self.cookies[key]
        if not found:
            return None
        found.sort(key=lambda f: -f[0])  # stable: same-length paths keep their order of creation
        return "; ".join(f"{name}={value}" for _, name, value in found)

    def set_from_header(
        self, header: str, scheme: str, host: str, path: str, now: float | None = None
    ) -> None:
        """Store (or delete) the cookie of one Set-Cookie header received from this URL (RFC 6265 §5.2-5.3);
        a header a browser ignores is ignored."""
        pair, *attributes = header.split(";")
        name, sep, value = pair.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not name:
            return
        now = time.time() if now is None else now
        domain, cookie_path, secure = "", "", False
        max_age: float | None = None
        expires: float | None = None
        for attribute in attributes:
            attr, _, val = attribute.partition("=")
            attr, val = attr.strip().lower(), val.strip()
            if attr == "max-age":
                try:
                    max_age = float(int(val))
                except ValueError:
                    continue
            elif attr == "expires":
                parsed = parsedate_tz(val.replace("-", " "))  # also the Netscape form 01-Jan-1970
                if parsed is not None:
                    expires = float(mktime_tz(parsed))
            elif attr == "domain" and val:
                domain = val.lstrip(".").lower()
            elif attr == "path" and val.startswith("/"):
                cookie_path = val
            elif attr == "secure":
                secure = True
        host = host.lower()
        if domain:
            if not domain_matches(host, domain):
                return  # a cookie for another site
            host_only = False
        else:
            domain, host_only = host, True
        if secure and scheme != "https":
            return
        if max_age is not None:
            expires = now + max_age if max_age > 0 else -1.0
        key = (domain, cookie_path or default_path(path), name)
        if expires is not None and expires <= now:
            self.cookies.pop(key, None)
            return
        self.cookies[key] = Cookie(value, domain, host_only, key[1], secure, expires)

    # geventhttpclient's UserAgent interface (the stdlib CookieJar's names)
    def add_cookie_header(self, request: Any) -> None:
        url: _Url = request.url_split
        header = self.header_for(url.scheme, url.host, url.path)
        if header is not None:
            request.add_unredirected_header("Cookie", header)

    def extract_cookies(self, response: Any, request: Any) -> None:
        headers = response.headers.getlist("set-cookie") if response.headers else []
        if headers:
            url: _Url = request.url_split
            now = time.time()
            for header in headers:
                self.set_from_header(header, url.scheme, url.host, url.path, now)


def install(session: Any) -> BrowserJar:
    """Give a FastHttpSession (and its UserAgent) a BrowserJar instead of its http.cookiejar.CookieJar."""
    jar = BrowserJar()
    session.cookiejar = jar
    session.client.cookiejar = jar
    return jar
