"""The load generator's cookie jar (loadtests/cookies.py) keeps and sends what a browser does: checked case by
case and against the standard library's CookieJar (what FastHttpSession used before) on the same sequence of
Set-Cookie headers. On Keycloak's real cookies: tests/test_load_token_checks.py runs the journey with it."""

from __future__ import annotations

from http.cookiejar import CookieJar
from typing import Any

import pytest
from geventhttpclient.header import Headers
from geventhttpclient.useragent import CompatRequest

from loadtests.cookies import BrowserJar, default_path, path_matches

BASE = "https://127.0.0.1:8443"
REALM = f"{BASE}/realms/bizid"
AT = "Version=1; Path=/realms/bizid/"


class Received:
    """What a user agent received: the headers of one response (both jars read them from here)."""

    def __init__(self, *set_cookies: str) -> None:
        self.headers = Headers()
        for value in set_cookies:
            self.headers.add("Set-Cookie", value)

    def info(self) -> Headers:
        return self.headers


def _sent(jar: Any, url: str) -> str | None:
    request = CompatRequest(url, headers=Headers())
    jar.add_cookie_header(request)
    value = request.headers.get("Cookie")
    return None if value is None else str(value)


def _receive(jar: Any, url: str, *set_cookies: str) -> None:
    jar.extract_cookies(Received(*set_cookies), CompatRequest(url, headers=Headers()))


KEYCLOAK_LIKE = [
    (
        f"{REALM}/protocol/openid-connect/auth?client_id=jgrants",
        [
            f"AUTH_SESSION_ID=a1b2.keycloak-1; {AT}; SameSite=None; Secure; HttpOnly",
            'KC_AUTH_SESSION_HASH="x9"; Version=1; Max-Age=60; Path=/realms/bizid/; SameSite=Strict; Secure',
            f"KC_RESTART=eyJhbGciOi.restart.sig; {AT}; Secure; HttpOnly",
        ],
    ),
    (f"{REALM}/login-actions/authenticate?session_code=c&execution=e&client_id=jgrants&tab_id=t", []),
    (
        f"{REALM}/login-actions/authenticate?session_code=c2&execution=e2&client_id=jgrants&tab_id=t",
        [
            f"KEYCLOAK_IDENTITY=eyJ.identity.sig; {AT}; SameSite=None; Secure; HttpOnly",
            "KEYCLOAK_SESSION=bizid/u-1/s-1; Version=1; Max-Age=36000; Path=/realms/bizid/; Secure",
            "KC_RESTART=; Version=1; Expires=Thu, 01-Jan-1970 00:00:10 GMT; Max-Age=0; Path=/realms/bizid/; "
            "Secure; HttpOnly",
            f"AUTH_SESSION_ID=a1b2.keycloak-1; {AT}; SameSite=None; Secure; HttpOnly",
        ],
    ),
    (f"{REALM}/protocol/openid-connect/auth?client_id=it-subsidy", []),
    (f"{BASE}/realms/other/account", []),
    (
        f"{REALM}/protocol/openid-connect/logout",
        ["KEYCLOAK_IDENTITY=; Max-Age=0; Path=/realms/bizid/; Secure"],
    ),
    (f"{REALM}/protocol/openid-connect/auth?client_id=jgrants", []),
]


def _cookie_set(header: str | None) -> set[str]:
    return set() if header is None else set(header.split("; "))


def test_the_jar_sends_what_the_standard_librarys_jar_sends_along_a_keycloak_like_sign_in() -> None:
    ours, stdlib = BrowserJar(), CookieJar()
    sent = []
    for url, set_cookies in KEYCLOAK_LIKE:
        mine = _sent(ours, url)
        # the stdlib jar sends RFC 2965 cookies ($Version=1) with quotes kept; the names and values match
        theirs = _sent(stdlib, url)
        theirs_pairs = {p for p in _cookie_set(theirs) if not p.startswith("$")}
        assert _cookie_set(mine) == {p.replace("$Path", "") for p in theirs_pairs if "$" not in p}, url
        sent.append(mine)
        _receive(ours, url, *set_cookies)
        _receive(stdlib, url, *set_cookies)
    assert sent[1] is not None and "KC_RESTART=eyJhbGciOi.restart.sig" in sent[1]
    assert (
        sent[3] is not None
        and "KC_RESTART" not in sent[3]
        and "KEYCLOAK_IDENTITY=eyJ.identity.sig" in sent[3]
    )
    assert sent[4] is None, "a cookie of /realms/bizid/ went to another realm"
    assert sent[6] is not None and "KEYCLOAK_IDENTITY" not in sent[6]


@pytest.mark.parametrize(
    "set_cookie, url, sent",
    [
        ("a=1", f"{REALM}/x/y", f"{REALM}/x/z"),
        ("a=1; Path=/realms", f"{REALM}/x", f"{BASE}/realms/other"),
        ("a=1; Domain=127.0.0.1", f"{REALM}/x", f"{REALM}/"),
        ("a=1; Max-Age=3600", f"{REALM}/x", f"{REALM}/x"),
        ("a=1; Expires=Fri, 01 Jan 2100 00:00:00 GMT", f"{REALM}/x", f"{REALM}/x"),
    ],
)
def test_a_cookie_is_sent_where_a_browser_sends_it(set_cookie: str, url: str, sent: str) -> None:
    jar = BrowserJar()
    _receive(jar, url, set_cookie)
    assert _sent(jar, sent) == "a=1"


@pytest.mark.parametrize(
    "set_cookie, url, sent",
    [
        ("a=1", f"{REALM}/x/y", f"{REALM}/y"),  # default path /realms/bizid/x
        ("a=1; Path=/realms/bizid", f"{REALM}/x", f"{BASE}/realms/bizidx"),
        ("a=1; Domain=example.org", f"{REALM}/x", f"{REALM}/x"),  # another site's cookie is refused
        ("a=1; Secure", f"{REALM}/x", "http://127.0.0.1:8443/realms/bizid/x"),
        ("a=1", f"{REALM}/x", "https://localhost:8443/realms/bizid/x"),  # host-only
        ("a=1; Max-Age=0", f"{REALM}/x", f"{REALM}/x"),
        ("a=1; Expires=Thu, 01 Jan 1970 00:00:10 GMT", f"{REALM}/x", f"{REALM}/x"),
        ("=1", f"{REALM}/x", f"{REALM}/x"),
        ("novalue", f"{REALM}/x", f"{REALM}/x"),
    ],
)
def test_a_cookie_is_not_sent_where_a_browser_does_not_send_it(set_cookie: str, url: str, sent: str) -> None:
    jar = BrowserJar()
    _receive(jar, url, set_cookie)
    assert _sent(jar, sent) is None


def test_a_cookie_expires_and_is_replaced_and_deleted() -> None:
    jar = BrowserJar()
    jar.set_from_header("a=1; Max-Age=10; Path=/", "https", "127.0.0.1", "/", now=1000.0)
    assert jar.header_for("https", "127.0.0.1", "/x", now=1005.0) == "a=1"
    assert jar.header_for("https", "127.0.0.1", "/x", now=1011.0) is None and len(jar) == 0
    jar.set_from_header("a=1; Path=/", "https", "127.0.0.1", "/", now=1000.0)
    jar.set_from_header("a=2; Path=/", "https", "127.0.0.1", "/", now=1000.0)
    jar.set_from_header("b=3; Path=/realms", "https", "127.0.0.1", "/", now=1000.0)
    assert jar.header_for("https", "127.0.0.1", "/realms/x", now=1000.0) == "b=3; a=2"  # longest path first
    jar.set_from_header("a=; Max-Age=0; Path=/", "https", "127.0.0.1", "/", now=1000.0)
    assert jar.header_for("https", "127.0.0.1", "/realms/x", now=1000.0) == "b=3"
    jar.clear()
    assert jar.header_for("https", "127.0.0.1", "/realms/x") is None


def test_paths_match_as_rfc_6265_says() -> None:
    assert default_path("/realms/bizid/login-actions/authenticate") == "/realms/bizid/login-actions"
    assert default_path("/x") == "/" and default_path("") == "/"
    assert path_matches("/realms/bizid/", "/realms/bizid/") and path_matches(
        "/realms/bizid/x", "/realms/bizid"
    )
    assert not path_matches("/realms/bizidx", "/realms/bizid") and not path_matches(
        "/realms", "/realms/bizid"
    )
