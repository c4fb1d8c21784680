"""The load generator's HTTP client (loadtests/lean_http.py) against the real Keycloak: TLS is verified (a
client that does not trust the platform's CA gets no answer), each request is one Locust request event
(a status ≥ 400 or a transport error counted as a failure, status 0 for no answer), Keycloak's cookies are
kept and sent back, and redirects are left to the browser flow. The whole scenario on it:
tests/test_load_smoke.py and tests/test_load_token_checks.py."""

from __future__ import annotations

import socket
import ssl
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

import pytest

from loadtests.journey import CONNECT_TIMEOUT, READ_TIMEOUT, quick_parse, rp_clients
from loadtests.lean_http import HttpStatusError, LeanSession
from realm.oidc.browser_flow import pkce_pair
from scripts.settings import Settings
from tests.load.recorder import Recorder

pytestmark = pytest.mark.platform


def _session(cfg: Settings, events: Recorder, context: Any = None) -> LeanSession:
    return LeanSession(
        cfg.keycloak_url,
        events,
        ssl_context_factory=context
        or (lambda **_: ssl.create_default_context(cafile=str(cfg.paths.ca_cert))),
        connection_timeout=CONNECT_TIMEOUT,
        network_timeout=READ_TIMEOUT,
    )


def test_a_request_is_one_event_and_an_error_status_is_a_failure(platform: Settings) -> None:
    events = Recorder()
    session = _session(platform, events)
    keys = session.request("GET", f"{platform.issuer}/protocol/openid-connect/certs", name="jwks")
    assert keys.status_code == 200 and keys.json()["keys"]
    missing = session.request("GET", f"{platform.issuer}/no-such-endpoint", name="missing")
    assert missing.status_code == 404
    assert [(e["name"], e["request_type"]) for e in events.events] == [("jwks", "GET"), ("missing", "GET")]
    assert events.events[0]["exception"] is None and events.events[0]["response_length"] == len(keys.content)
    assert isinstance(events.events[1]["exception"], HttpStatusError)
    session.close()


def test_keycloaks_cookies_are_kept_and_sent_back(platform: Settings) -> None:
    events = Recorder()
    session = _session(platform, events)
    seminar = rp_clients(platform)["seminar"]
    _, challenge = pkce_pair()
    query = urlencode(
        {
            "client_id": "seminar",
            "redirect_uri": seminar.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = session.request("GET", f"{platform.issuer}/protocol/openid-connect/auth?{query}", name="authorize")
    assert page.status_code == 200 and "<form" in page.text
    names = {key[2] for key in session.cookiejar.cookies}
    assert "AUTH_SESSION_ID" in names, names  # the login page starts an authentication session
    form = quick_parse(page.text).forms[0]
    assert session.cookiejar.header_for("https", "127.0.0.1", urlsplit(urljoin(page.url, form.action)).path)
    login = session.request("POST", urljoin(page.url, form.action), name="login", data={"username": "nobody"})
    assert login.status_code == 200 and "cookie_not_found" not in login.text.lower()
    assert "Cookie not found" not in login.text, "the login form was posted without the session's cookies"
    session.close()


def test_an_untrusted_certificate_gets_no_answer(platform: Settings) -> None:
    events = Recorder()
    public_roots_only = _session(platform, events, context=lambda **_: ssl.create_default_context())
    response = public_roots_only.request("GET", f"{platform.issuer}/protocol/openid-connect/certs", name="x")
    assert response.status_code == 0 and response.content == b""
    assert isinstance(events.events[0]["exception"], ssl.SSLError), events.events[0]["exception"]


def test_no_answer_is_status_0_and_a_failure(platform: Settings) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    events = Recorder()
    response = _session(platform, events).request("GET", f"https://127.0.0.1:{port}/", name="refused")
    assert response.status_code == 0 and isinstance(events.events[0]["exception"], OSError)


def test_redirects_are_left_to_the_flow(platform: Settings) -> None:
    with pytest.raises(ValueError, match="redirects"):
        _session(platform, Recorder()).request("GET", platform.issuer, allow_redirects=True)
