"""The load generator's own HTTP/1.1 client (loadtests/bare_http.py, loadtests/http11.py).

Against scripted loopback servers (tests/load/scripted_server.py: the answers no Keycloak sends): both body
framings and keep-alive; every malformed, cut-short or oversize answer is a failed request (status 0, the
error in Locust's event, a FlowError in the journey), never a response; a kept-alive connection the server
closed is retried once and only when nothing of an answer came; TLS is refused for a certificate the
client does not trust or that names another host. Against the real Keycloak: a whole sign-in, each step one
Locust event under its usual name. The encoders equal urllib's on random input.
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urljoin

import gevent.ssl
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from loadtests import http11, seed
from loadtests import population as pop
from loadtests.bare_http import BareSession, HttpStatusError
from loadtests.form_encoding import absolute_join, form_encode, form_query
from loadtests.journey import CONNECT_TIMEOUT, READ_TIMEOUT, Journey, TimedFlow, rp_clients
from realm import loader
from realm.oidc.browser_flow import FlowError
from scripts.settings import Settings
from tests.load.recorder import OK, Recorder
from tests.load.scripted_server import ScriptedServer


def _session(events: Recorder, context: Any = None, base: str = "http://127.0.0.1") -> BareSession:
    return BareSession(
        base,
        events,
        ssl_context_factory=context or (lambda **_: gevent.ssl.create_default_context()),
        connection_timeout=5.0,
        network_timeout=5.0,
    )


def test_content_length_and_chunked_bodies_on_one_kept_alive_connection() -> None:
    chunked = (
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: A=1; Path=/\r\n\r\n"
        b"5;ext=1\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\nTrailer: x\r\n\r\n"
    )
    interim = b"HTTP/1.1 100 Continue\r\n\r\n" + OK
    with ScriptedServer([[OK, chunked, interim, b"HTTP/1.1 204 No Content\r\n\r\n"]]) as server:
        events = Recorder()
        session = _session(events)
        first = session.request("GET", f"{server.url}/a", name="a")
        second = session.request("GET", f"{server.url}/b", name="b")
        third = session.request("POST", f"{server.url}/c", name="c", data={"x": "1 2"})
        fourth = session.request("GET", f"{server.url}/d", name="d")
        session.close()
    assert (first.status_code, first.text, first.headers["Content-Type"]) == (200, "ok", "text/plain")
    assert (second.status_code, second.content) == (200, b"hello world")
    assert (third.status_code, third.content, fourth.status_code, fourth.content) == (200, b"ok", 204, b"")
    assert server.connections == 1, "keep-alive: one connection for all four requests"
    assert [e["exception"] for e in events.events] == [None] * 4
    assert [e["name"] for e in events.events] == ["a", "b", "c", "d"]
    assert b"Cookie: A=1\r\n" in server.requests[2], "the cookie set by the chunked answer is sent back"
    assert server.requests[2].endswith(b"\r\n\r\nx=1+2")
    assert b"Content-Length: 5\r\n" in server.requests[2]
    assert b"Content-Type: application/x-www-form-urlencoded\r\n" in server.requests[2]


MALFORMED = {
    "status line": b"HTTP/1.1 2OO OK\r\nContent-Length: 2\r\n\r\nok",
    "not HTTP": b"ICY 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "HTTP/2 status line": b"HTTP/2 200\r\nContent-Length: 2\r\n\r\nok",
    "folded header": b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 2\r\n\r\nok",
    "header without colon": b"HTTP/1.1 200 OK\r\nX-A 1\r\nContent-Length: 2\r\n\r\nok",
    "space in header name": b"HTTP/1.1 200 OK\r\nX A: 1\r\nContent-Length: 2\r\n\r\nok",
    "bare LF in header": b"HTTP/1.1 200 OK\r\nX-A: 1\nX-B: 2\r\nContent-Length: 2\r\n\r\nok",
    "oversize header block": b"HTTP/1.1 200 OK\r\nX-A: "
    + b"a" * (http11.MAX_HEADER_BYTES + 10)
    + b"\r\n\r\n",
    "oversize header, no end": b"HTTP/1.1 200 OK\r\nX-A: " + b"a" * (2 * http11.MAX_HEADER_BYTES),
    "both framings": (
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n"
    ),
    "bad Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: 2x\r\n\r\nok",
    "negative Content-Length": b"HTTP/1.1 200 OK\r\nContent-Length: -2\r\n\r\nok",
    "two Content-Lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok!",
    "oversize body": b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (http11.MAX_BODY_BYTES + 1),
    "bad chunk size": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nok\r\n0\r\n\r\n",
    "chunk without CRLF": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
    "other transfer coding": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n",
    "content coding": b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 2\r\n\r\nok",
    "bytes after the body": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\n",
}
CUT_SHORT = {
    "no answer": None,
    "status line only": b"HTTP/1.1 200 OK\r\n",
    "body cut short": b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten b",
    "chunked cut short": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
    "no last chunk": b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n",
}


@pytest.mark.parametrize(
    "answer", list(MALFORMED.values()) + list(CUT_SHORT.values()), ids=[*MALFORMED, *CUT_SHORT]
)
def test_a_malformed_or_cut_short_answer_is_a_failed_request(answer: bytes | None) -> None:
    with ScriptedServer([[answer]]) as server:
        events = Recorder()
        response = _session(events).request("GET", f"{server.url}/x", name="x")
    assert response.status_code == 0 and response.content == b""
    (event,) = events.events
    assert isinstance(event["exception"], http11.MalformedResponse | http11.ConnectionClosed), event
    assert response.error is event["exception"] and event["name"] == "x"


def test_the_journey_fails_a_step_on_a_malformed_answer_and_does_not_call_it_a_timeout() -> None:
    with ScriptedServer([[MALFORMED["status line"]]]) as server:
        flow = TimedFlow(_session(Recorder()), f"{server.url}/realms/bizid")  # type: ignore[arg-type]
        with pytest.raises(FlowError, match="authorize: malformed response: bad status line"):
            flow._request("GET", f"{server.url}/realms/bizid/x", "authorize")
    assert 0 not in flow.statuses


def test_a_closed_idle_connection_is_retried_once_and_only_when_nothing_came() -> None:
    with ScriptedServer([[OK, None], [OK]]) as server:  # the server drops the kept-alive connection
        events = Recorder()
        session = _session(events)
        assert session.request("GET", f"{server.url}/1").status_code == 200
        again = session.request("POST", f"{server.url}/2", data={"a": "b"})
    assert again.status_code == 200 and server.connections == 2 and len(events.events) == 2
    assert server.requests[1] == server.requests[2], "the same request, sent once more"

    half = b"HTTP/1.1 200 OK\r\nContent-Le"
    with ScriptedServer([[OK, half], [OK]]) as server:  # part of an answer came: not retried
        events = Recorder()
        session = _session(events)
        session.request("GET", f"{server.url}/1")
        cut = session.request("GET", f"{server.url}/2")
    assert cut.status_code == 0 and isinstance(events.events[1]["exception"], http11.ConnectionClosed)
    assert server.connections == 1

    with ScriptedServer([[None], [OK]]) as server:  # a new connection that gets nothing: not retried
        events = Recorder()
        fresh = _session(events).request("GET", f"{server.url}/1")
    assert fresh.status_code == 0 and server.connections == 1


def test_an_error_status_is_a_failed_request_with_its_status() -> None:
    with ScriptedServer([[b"HTTP/1.1 503 Busy\r\nContent-Length: 4\r\n\r\nbusy"]]) as server:
        events = Recorder()
        response = _session(events).request("GET", f"{server.url}/x", name="x")
    assert (response.status_code, response.text) == (503, "busy")
    assert isinstance(events.events[0]["exception"], HttpStatusError)


def test_the_request_on_the_wire() -> None:
    with ScriptedServer([[OK]]) as server:
        session = _session(Recorder())
        session.cookiejar.set_from_header("S=v; Path=/p", "http", "127.0.0.1", "/p/x")
        session.request(
            "POST", f"{server.url}/p/t?q=1#frag", data={"k": "a&b=c"}, auth=("rp", "s3"), headers={"X-Y": "z"}
        )
    (wire,) = server.requests
    head, _, body = wire.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"POST /p/t?q=1 HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}".encode() in lines
    assert {b"Cookie: S=v", b"Authorization: Basic cnA6czM=", b"X-Y: z", b"Content-Length: 11"} <= set(lines)
    assert body == b"k=a%26b%3Dc"
    with pytest.raises(ValueError, match="bad character"):
        _session(Recorder()).request("GET", f"{server.url}/x", headers={"X": "a\r\nInjected: 1"})
    with pytest.raises(ValueError, match="redirects"):
        _session(Recorder()).request("GET", f"{server.url}/x", allow_redirects=True)


def _certificate(tmp: Path, name: str, san: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    alt: x509.GeneralName = (
        x509.IPAddress(ipaddress.ip_address(san)) if san[0].isdigit() else x509.DNSName(san)
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / f"{name}.crt", tmp / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def _tls_server(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def test_tls_is_refused_unless_the_certificate_is_trusted_and_names_the_host(tmp_path: Path) -> None:
    good_cert, good_key = _certificate(tmp_path, "good", "127.0.0.1")
    other_cert, _ = _certificate(tmp_path, "other", "127.0.0.1")
    wrong_cert, wrong_key = _certificate(tmp_path, "wrong", "other.example")

    def trusting(path: Path) -> Any:
        return lambda **_: gevent.ssl.create_default_context(cafile=str(path))

    with ScriptedServer([[OK]], tls=_tls_server(good_cert, good_key)) as server:
        trusted = _session(Recorder(), trusting(good_cert)).request("GET", f"{server.url}/x")
    assert (trusted.status_code, trusted.content) == (200, b"ok"), "the control: a trusted certificate works"

    with ScriptedServer([[OK]], tls=_tls_server(good_cert, good_key)) as server:
        events = Recorder()
        untrusted = _session(events, trusting(other_cert)).request("GET", f"{server.url}/x")
    assert untrusted.status_code == 0 and isinstance(
        events.events[0]["exception"], ssl.SSLCertVerificationError
    )

    with ScriptedServer([[OK]], tls=_tls_server(wrong_cert, wrong_key)) as server:
        events = Recorder()
        elsewhere = _session(events, trusting(wrong_cert)).request("GET", f"{server.url}/x")
    assert elsewhere.status_code == 0
    assert isinstance(events.events[0]["exception"], ssl.SSLCertVerificationError)
    assert "127.0.0.1" in str(events.events[0]["exception"]), "refused for the host name"

    def unverified(**_: Any) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=str(good_cert))
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        return context

    refusing = pytest.raises(ValueError, match="verifies certificates")  # checks are never turned off
    with ScriptedServer([[OK]], tls=_tls_server(good_cert, good_key)) as server, refusing:
        _session(Recorder(), unverified).request("GET", f"{server.url}/x")


TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(TEXT, TEXT, max_size=6))
def test_form_encoding_is_urlencode(fields: dict[str, str]) -> None:
    assert form_query(fields) == urlencode(fields)
    assert form_encode(fields) == urlencode(fields).encode("ascii")


URL_PART = st.text(alphabet="abc/.?#&=%:-_~ ", max_size=25)


@settings(max_examples=500, deadline=None)
@given(st.sampled_from(["https://h", "http://h:8", "https://", "/", "", "HTTPS://h", "https:h"]), URL_PART)
def test_joining_is_urljoin(start: str, rest: str) -> None:
    base = "https://127.0.0.1:1/realms/bizid/login?x=1"
    assert absolute_join(base, start + rest) == urljoin(base, start + rest)


FIRST, ACCOUNTS = 5_400, 5_460
"""Accounts [5400, 5460): above the token-check tests' slice [5000, 5400), so no TOTP code repeats."""


@pytest.mark.platform
def test_a_real_sign_in_over_the_bare_client_names_every_step(platform: Settings) -> None:
    report = seed.seed(platform, ACCOUNTS, batch=1_000, progress=False)
    assert report.ok, report.counts
    events = Recorder()  # locustfile.platform_session, without importing Locust (it monkey-patches)
    session = BareSession(
        platform.keycloak_url,
        events,
        ssl_context_factory=lambda **_: ssl.create_default_context(cafile=str(platform.paths.ca_cert)),
        connection_timeout=CONNECT_TIMEOUT,
        network_timeout=READ_TIMEOUT,
    )
    reports: list[tuple[str, BaseException | None]] = []
    journey = Journey(
        session,  # type: ignore[arg-type]
        platform,
        rp_clients(platform),
        {rp.client_id for rp in loader.load().rps if rp.pairwise_sub},
        lambda name, _ms, exc: reports.append((name, exc)),
    )
    prime = next(i for i in range(FIRST, ACCOUNTS) if pop.needs_otp(i))
    entry = next(i for i in range(FIRST, ACCOUNTS) if not pop.needs_otp(i))
    journey.visit(prime, full=True)
    journey.visit(entry, full=False)
    session.close()
    assert reports == [("sign-in", None), ("visit", None), ("sign-in", None)]
    names = [e["name"] for e in events.events if e["name"] != "jwks"]  # once per process: maybe earlier
    first_visit = ["authorize", "login", "otp", "token", "userinfo", "refresh"]
    assert names[: len(first_visit)] == first_visit, names
    assert {"sso:authorize", "sso:token", "logout"} <= set(names), names
    assert names[-4:] == ["authorize", "login", "token", "logout"], "the Entry account: no second factor"
    assert all(e["exception"] is None for e in events.events), [e["exception"] for e in events.events]
