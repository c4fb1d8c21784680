"""One user's visit, as the load generator and the smoke test run it: sign in at an RP through the real
browser flow (authorization code + PKCE, login form, TOTP for Prime and Member), fetch userinfo, refresh,
sign in at a second RP by SSO, log out. Every token is checked, so a "success" means valid tokens.

This module wraps `realm.oidc.browser_flow`: `TimedFlow` adds a request timeout,
prefixes step names with the phase (`sso:authorize`), and remembers the statuses it saw so a failure can be
classified as shed (HTTP 503 from Keycloak's queue limit), timeout, or error.
"""

from __future__ import annotations

import html
import ipaddress
import itertools
import random
import re
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from loadtests import cookies, id_token
from loadtests import population as pop
from loadtests.form_encoding import absolute_join, form_query
from loadtests.http11 import MalformedResponse
from realm import loader, targets
from realm.models import ACR_LOA, Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, Client, FlowError, Form, LoginResult, decode_jwt_payload
from scripts.settings import Settings

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
"""A client gives up on a response after this long; Keycloak should shed long before (docs/tuning.md)."""

FIRST_RP = {Tier.PRIME: "jgrants", Tier.MEMBER: "jgrants", Tier.ENTRY: "seminar"}
SECOND_RP: dict[Tier, str | None] = {Tier.PRIME: "it-subsidy", Tier.MEMBER: "it-subsidy", Tier.ENTRY: None}
"""Where each tier signs in first and then by SSO. jgrants and it-subsidy accept Prime and Member at aal2;
only the seminar accepts Entry, so an Entry visit has no second RP."""

DEFINITIONS = loader.load()


@dataclass(frozen=True)
class RealmProfile:
    """Which realm a visit signs in to and what its tokens must say. The default is the bizid realm; the
    stock baseline realm of the benchmark (loadtests/stock_realm.py) has its own issuer, clients (by the
    bizid RP they stand in for) and user ids, and no bizid `acr` rules."""

    issuer: str
    first_rp: Mapping[Tier, str] = field(default_factory=lambda: dict(FIRST_RP))
    second_rp: Mapping[Tier, str | None] = field(default_factory=lambda: dict(SECOND_RP))
    id_prefix: str = pop.ID_PREFIX
    check_acr: bool = True


def expected_acr(tier: Tier, client_id: str, defs: Definitions = DEFINITIONS) -> str:
    """The `acr` a sign-in of `tier` at this RP must get: the higher of the tier's and the RP's minimum
    (tiers.yaml, rps/*.yaml); an RP that does not accept the tier is a mistake in this scenario."""
    rp = next((r for r in defs.rps if r.client_id == client_id), None)
    if rp is None or tier not in rp.accepted_tiers:
        raise ValueError(f"load scenario: RP {client_id!r} is not registered for tier {tier.value}")
    return max(defs.tier(tier).min_acr, rp.min_acr, key=lambda acr: ACR_LOA[acr])


class NotLoopback(RuntimeError):
    """The target is not on this machine: load tests run against the local platform only."""


def assert_loopback(url: str) -> None:
    """Refuse any target whose host is not a loopback address (every address it resolves to)."""
    host = urlsplit(url).hostname
    if not host:
        raise NotLoopback(f"no host in {url!r}")
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise NotLoopback(f"cannot resolve {host!r}: {exc}") from None
    addresses = {str(info[4][0]) for info in infos}
    bad = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if bad or not addresses:
        raise NotLoopback(f"{url} resolves to {bad or 'nothing'}: load tests run against loopback only")


def rp_clients(cfg: Settings, defs: Definitions | None = None) -> dict[str, Client]:
    """Every registered RP as the browser flow sees it (confidential ones with their local secret), with the
    redirect URIs the local platform registered (on its RP port, realm.targets.overlay)."""
    defs = targets.overlay(defs or loader.load(), {}, cfg.ports.rp)
    clients = {}
    for rp in defs.rps:
        secret = None
        if rp.client_type == "confidential":
            secret = cfg.client_secret(rp.client_id)
        clients[rp.client_id] = Client(rp.client_id, str(rp.redirect_uris[0]), secret)
    return clients


_TAG = re.compile(r"<(/?)(form|input|span|div|p)\b([^>]*)>", re.IGNORECASE)
_ATTR = re.compile(r'([a-zA-Z_:][-\w:.]*)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_TEXT = re.compile(r"[^<]*")


@dataclass
class QuickPage:
    """What `parse_page` reads from a Keycloak page (forms with their inputs, visible error texts), found with
    a few regular expressions instead of Python's HTMLParser: a third of the generator's CPU per sign-in went
    into parsing pages. `tests/test_load_population.py` checks it reads what parse_page reads."""

    forms: list[Form] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


_FORM_TAG = re.compile(r"<(form|input)\b([^>]*)>", re.IGNORECASE)
_ERROR_ID = re.compile(r"""input-error(?:-otp-code)?["']""")


def has_error_marker(text: str) -> bool:
    """Anything `parse_page` reads an error from: the ids input-error / input-error-otp-code (quoted), the
    classes alert-error / kc-feedback-text; case-sensitive as parse_page's checks are. A false alarm only
    costs the slower walk. Substring tests and one literal-led pattern: an alternation (or IGNORECASE) made
    this scan cost a third of the walk it is meant to avoid."""
    return "alert-error" in text or "kc-feedback-text" in text or _ERROR_ID.search(text) is not None


def quick_parse(text: str) -> QuickPage:
    """A page without any error marker (the login and TOTP forms on the way of a good sign-in) is read for
    its forms and inputs only; a page with one is walked tag by tag for the error texts too."""
    if not has_error_marker(text):
        page = QuickPage()
        for match in _FORM_TAG.finditer(text):
            tag, rest = match.group(1).lower(), match.group(2)
            attrs = _attrs(rest)
            if tag == "form":
                page.forms.append(Form(action=attrs.get("action", ""), fields={}, form_id=attrs.get("id")))
            elif page.forms and attrs.get("name"):
                page.forms[-1].fields[attrs["name"]] = attrs.get("value", "")
        return page
    return _walk(text)


def _attrs(rest: str) -> dict[str, str]:
    """Attribute names (lower case) and values (character references resolved; html.unescape only for a
    value that has one, which most do not)."""
    found = {}
    for name, double, single in _ATTR.findall(rest):
        value = double or single
        found[name.lower()] = html.unescape(value) if "&" in value else value
    return found


def _walk(text: str) -> QuickPage:
    page = QuickPage()
    depth = 0
    for match in _TAG.finditer(text):
        closing, tag, rest = match.group(1), match.group(2).lower(), match.group(3)
        if closing:
            if depth and tag in ("span", "div", "p"):
                depth -= 1
            continue
        attrs = _attrs(rest)
        if tag == "form":
            page.forms.append(Form(action=attrs.get("action", ""), fields={}, form_id=attrs.get("id")))
        elif tag == "input" and page.forms and attrs.get("name"):
            page.forms[-1].fields[attrs["name"]] = attrs.get("value", "")
        classes = attrs.get("class", "")
        if (
            attrs.get("id") in ("input-error", "input-error-otp-code")
            or "alert-error" in classes
            or "kc-feedback-text" in classes
        ):
            depth += 1
        if depth:
            data = _TEXT.match(text, match.end())
            chunk = html.unescape(data.group(0)).strip() if data else ""
            if chunk:
                page.errors.append(chunk)
    return page


def is_fast_session(session: Any) -> bool:
    """Locust's FastHttpSession (geventhttpclient): a cookie jar of its own, TLS and timeouts set per user."""
    return hasattr(session, "cookiejar") and not hasattr(session, "cookies")


def clear_cookies(session: Any) -> None:
    """A new browser: drop every cookie of the last visit (requests' `cookies` or FastHttpSession's jar)."""
    (session.cookiejar if is_fast_session(session) else session.cookies).clear()


class TimedFlow(BrowserFlow):
    """BrowserFlow with a timeout on every request, phase-prefixed step names and the statuses seen.

    With Locust's FastHttpSession (the load generator's user, loadtests/locustfile.py) the same requests go
    through geventhttpclient: the CA, the hostname check and the timeouts are the user's (the session takes
    no per-request `verify`/`timeout`), and a body without a declared charset is read as UTF-8 (Keycloak's
    JSON) instead of being guessed byte by byte."""

    parse = staticmethod(quick_parse)
    join = staticmethod(absolute_join)
    encode_query = staticmethod(form_query)

    def __init__(self, session: requests.Session, issuer: str, verify: str | bool = True) -> None:
        super().__init__(session, issuer, verify)
        self.phase = ""
        self.statuses: list[int] = []
        self.fast = is_fast_session(session)
        self.nonce: str | None = None
        """The nonce of the last authorization request `login` sent (its ID token must carry it)."""

    def login(
        self,
        client: Client,
        username: str,
        password: str,
        otp: Callable[[], str] | None = None,
        scope: str = "openid",
        acr_values: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> LoginResult:
        """BrowserFlow.login with a nonce of our own (an `extra` parameter overrides the flow's), kept so
        the ID token can be checked against it."""
        self.nonce = secrets.token_urlsafe(16)
        extra = {**(extra or {}), "nonce": self.nonce}
        return super().login(client, username, password, otp, scope, acr_values, extra)

    def jwks(self) -> dict[str, Any]:
        """The issuer's signing keys (Keycloak's jwks_uri); fetched once per process (id_token.key_set)."""
        response = self._request("GET", f"{self.issuer}/protocol/openid-connect/certs", "jwks")
        if response.status_code != 200:
            raise FlowError(f"jwks answered {response.status_code}: {response.text[:300]}")
        keys: dict[str, Any] = response.json()
        return keys

    def _request(self, method: str, url: str, name: str, **kwargs: Any) -> requests.Response:
        step = f"{self.phase}:{name}" if self.phase else name
        if self.fast:
            fast: Any = self.session
            response: Any = fast.request(method, url, name=step, allow_redirects=False, **kwargs)
            if isinstance(getattr(response, "error", None), MalformedResponse):
                raise FlowError(f"{step}: malformed response: {response.error}")
            content_type = str(response.headers.get("content-type", "")) if response.headers else ""
            if "charset=" not in content_type.lower():
                response.encoding = "utf-8"
        else:
            kwargs.setdefault("timeout", (CONNECT_TIMEOUT, READ_TIMEOUT))
            response = super()._request(method, url, step, **kwargs)
        self.statuses.append(response.status_code)
        result: requests.Response = response
        return result


class Shed(RuntimeError):
    """Keycloak refused the request with 503 (queue full): the load was shed explicitly."""


class TimedOut(RuntimeError):
    """A request got no answer within the client timeout (status 0 in Locust's session)."""


class InvalidTokens(RuntimeError):
    """The flow ended with tokens, but they are not the ones this account and RP must get."""


def classify(flow: TimedFlow, exc: BaseException) -> BaseException:
    """Turn a failure into Shed / TimedOut when the statuses seen say so; else keep it."""
    if 503 in flow.statuses:
        return Shed(f"HTTP 503 (shed) after {len(flow.statuses)} requests: {exc}")
    if 0 in flow.statuses or isinstance(exc, requests.Timeout):
        return TimedOut(f"no response within {READ_TIMEOUT:.0f} s: {exc}")
    return exc


def check_tokens(
    tokens: dict[str, Any],
    index: int,
    client: Client,
    issuer: str,
    pairwise: bool,
    id_prefix: str = pop.ID_PREFIX,
    check_acr: bool = True,
    verify: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> str:
    """Validate what the RP received; return the `sub` the RP sees. `verify` checks the ID token as an RP
    does (signature, nonce, ...: `id_token.verify_id_token`) and returns its claims; without it the claims
    are read unverified."""
    for key in ("access_token", "id_token", "refresh_token"):
        if not tokens.get(key):
            raise InvalidTokens(f"{pop.username(index)}@{client.client_id}: no {key}")
    try:
        claims = verify(tokens) if verify is not None else decode_jwt_payload(tokens["id_token"])
    except id_token.TokenRejected as exc:
        raise InvalidTokens(f"{pop.username(index)}@{client.client_id}: id_token rejected: {exc}") from None
    want_acr = expected_acr(pop.tier(index), client.client_id) if check_acr else None
    problems = []
    if claims.get("iss") != issuer:
        problems.append(f"iss {claims.get('iss')!r}")
    aud = claims.get("aud")
    if client.client_id not in (aud if isinstance(aud, list) else [aud]):
        problems.append(f"aud {aud!r}")
    if want_acr is not None and claims.get("acr") != want_acr:
        problems.append(f"acr {claims.get('acr')!r} (expected {want_acr})")
    if not pairwise and claims.get("sub") != pop.user_id(index, id_prefix):
        problems.append(f"sub {claims.get('sub')!r} (expected {pop.user_id(index, id_prefix)})")
    if claims.get("exp", 0) <= time.time():
        problems.append("expired")
    if problems:
        raise InvalidTokens(f"{pop.username(index)}@{client.client_id}: id_token has {', '.join(problems)}")
    return str(claims.get("sub"))


@dataclass
class Visit:
    """What one journey did; `held` is a session kept open on purpose (burst: checked afterwards)."""

    index: int
    signin_ms: float = 0.0
    steps: list[str] = field(default_factory=list)
    held: tuple[str, str] | None = None


Report = Callable[[str, float, BaseException | None], None]
"""Callback for a named measurement: (name, milliseconds, exception or None)."""


class Journey:
    """Runs visits for one simulated user agent. `report` receives two measurements: `sign-in` (authorize
    to tokens, the figure the benchmark is about) and, for full visits, `visit` (everything, so that a failure
    after the sign-in, such as a wrong `sub` in userinfo, is counted too)."""

    def __init__(
        self,
        session: requests.Session,
        cfg: Settings,
        clients: dict[str, Client],
        pairwise: set[str],
        report: Report | None = None,
        profile: RealmProfile | None = None,
    ) -> None:
        self.profile = profile or RealmProfile(cfg.issuer)
        if is_fast_session(session) and not isinstance(
            getattr(session, "cookiejar", None), cookies.BrowserJar
        ):
            cookies.install(session)  # http.cookiejar took a fifth of the generator's CPU per sign-in
        self.session = session
        self.cfg = cfg
        self.clients = clients
        self.pairwise = pairwise
        self.report = report

    def visit(self, index: int, hold: bool = False, full: bool = True) -> Visit:
        """One visit by account `index`. Raises (classified) on the first failure."""
        clear_cookies(self.session)  # a new browser: nothing carried over from the previous account
        flow = TimedFlow(self.session, self.profile.issuer, verify=str(self.cfg.paths.ca_cert))
        tier = pop.tier(index)
        first = self.clients[self.profile.first_rp[tier]]
        visit = Visit(index)
        otp = (lambda: pop.totp_code(index, time.time())) if pop.needs_otp(index) else None
        began = time.perf_counter()
        try:
            result = flow.login(first, pop.username(index), pop.password(index), otp=otp)
            self._require(result, index, first, expect_otp=otp is not None)
            assert result.tokens is not None
            nonce = flow.nonce
            self._check(result.tokens, index, first, flow, nonce)
        except Exception as exc:
            error = classify(flow, exc)
            visit.signin_ms = (time.perf_counter() - began) * 1000
            if self.report:
                self.report("sign-in", visit.signin_ms, error)
            raise error from exc
        visit.signin_ms = (time.perf_counter() - began) * 1000
        if self.report:
            self.report("sign-in", visit.signin_ms, None)
        visit.steps.append("sign-in")
        tokens = result.tokens
        if not full:  # sign-in only: keep the session if asked to, else end it (sessions must not pile up)
            try:
                if hold:
                    visit.held = (first.client_id, tokens["refresh_token"])
                else:
                    flow.logout(first, tokens["refresh_token"])
            except Exception as exc:
                raise classify(flow, exc) from exc
            return visit
        try:
            info = flow.userinfo(tokens["access_token"])
            if first.client_id not in self.pairwise and info.get("sub") != pop.user_id(
                index, self.profile.id_prefix
            ):
                raise InvalidTokens(f"userinfo sub {info.get('sub')!r} for {pop.username(index)}")
            visit.steps.append("userinfo")
            tokens = flow.refresh(first, tokens["refresh_token"])
            self._check(tokens, index, first, flow, nonce, nonce_required=False)  # OIDC Core 12.2
            visit.steps.append("refresh")
            second_id = self.profile.second_rp[tier]
            if second_id:
                second = self.clients[second_id]
                flow.phase = "sso"
                sso = flow.login(second, pop.username(index), "", otp=None)
                flow.phase = ""
                if sso.otp_prompted or not sso.ok:
                    raise FlowError(
                        f"SSO at {second_id} for {pop.username(index)} asked again or failed:"
                        f" {sso.error} {sso.error_description} {sso.page_errors}"
                    )
                assert sso.tokens is not None
                self._check(sso.tokens, index, second, flow, flow.nonce)
                visit.steps.append("sso")
            if hold:
                visit.held = (first.client_id, tokens["refresh_token"])
            else:
                flow.logout(first, tokens["refresh_token"])
                visit.steps.append("logout")
        except Exception as exc:
            error = classify(flow, exc)
            if self.report:
                self.report("visit", (time.perf_counter() - began) * 1000, error)
            raise error from exc
        if self.report:
            self.report("visit", (time.perf_counter() - began) * 1000, None)
        return visit

    def _check(
        self,
        tokens: dict[str, Any],
        index: int,
        client: Client,
        flow: TimedFlow,
        nonce: str | None,
        nonce_required: bool = True,
    ) -> str:
        p = self.profile

        def verify(received: dict[str, Any]) -> dict[str, Any]:
            return id_token.verify_id_token(
                received["id_token"],
                id_token.key_set(p.issuer),
                flow.jwks,
                issuer=p.issuer,
                client_id=client.client_id,
                nonce=nonce,
                nonce_required=nonce_required,
                access_token=received["access_token"],
            )

        pairwise = client.client_id in self.pairwise
        return check_tokens(tokens, index, client, p.issuer, pairwise, p.id_prefix, p.check_acr, verify)

    @staticmethod
    def _require(result: LoginResult, index: int, client: Client, expect_otp: bool) -> None:
        if result.ok:
            if expect_otp and not result.otp_prompted:
                raise FlowError(
                    f"{pop.username(index)} signed in at {client.client_id} without a second factor"
                )
            return
        raise FlowError(
            f"{pop.username(index)} at {client.client_id}: {result.error or 'no tokens'}"
            f" {result.error_description or ''} {result.page_errors}".strip()
        )


class AccountPicker:
    """Draws accounts uniformly at random from [start, start + size) (so caches miss as in production),
    never one that was used within the last `reuse_after` seconds: Keycloak refuses a TOTP code that was
    already used, and two sign-ins of one account inside one 30 s period would present the same code.

    In Locust's distributed mode each worker draws only indexes i with i % stride == offset (its worker
    index), so no two workers pick the same account.
    """

    def __init__(
        self,
        size: int,
        start: int = 0,
        stride: int = 1,
        offset: int = 0,
        reuse_after: float = 3 * pop.TOTP_PERIOD,
        rng: random.Random | None = None,
    ) -> None:
        if size < 1 or stride < 1 or not 0 <= offset < stride:
            raise ValueError(f"bad population: size {size}, stride {stride}, offset {offset}")
        self.start, self.stride, self.offset = start, stride, offset
        self.slots = (size - offset + stride - 1) // stride
        if self.slots < 1:
            raise ValueError(f"population {size} too small for {stride} workers")
        self.reuse_after = reuse_after
        self.recent: dict[int, float] = {}
        self.rng = rng or random.Random()

    def draw(self) -> int:
        now = time.monotonic()
        if len(self.recent) > 4096:
            self.recent = {i: t for i, t in self.recent.items() if now - t < self.reuse_after}
        # Random draws first (uniform, so caches miss); when nearly every account was used recently,
        # one scan from a random slot finds a free one, so "too small" is raised only when none is free.
        tries = [self.rng.randrange(self.slots) for _ in range(64)]
        first = self.rng.randrange(self.slots)
        for slot in itertools.chain(tries, ((first + k) % self.slots for k in range(self.slots))):
            index = self.start + self.offset + self.stride * slot
            used = self.recent.get(index)
            if used is None or now - used >= self.reuse_after:
                self.recent[index] = now
                return index
        raise RuntimeError(
            f"population of {self.slots} accounts too small for this rate: every draw was used within"
            f" {self.reuse_after:.0f} s (TOTP codes cannot be reused); seed more accounts"
        )
