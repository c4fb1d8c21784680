"""A bounded sign-in load that records every sign-in: start, end, outcome and which site (and node) served it.

A lighter client than Locust on purpose: a few threads running the real browser flow
(`realm.oidc.browser_flow`: authorize, login form, code + PKCE exchange) through the failover record, so the
drill process needs no gevent (Locust's monkey-patching of ssl breaks the site operations run beside it)
and every single sign-in is kept, which RTO needs. Bounded three ways: loopback targets only, at most
`max_signins` sign-ins, at most `max_seconds`; it stops by itself at either bound or when `stop()` is called.

RTO is read from the record: the last good sign-in before a failure and the first good one after it.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from realm.oidc.browser_flow import BrowserFlow, Client, decode_jwt_payload

MAX_SIGNINS = 20_000
MAX_SECONDS = 900.0
MAX_WORKERS = 8
SITE_HEADER = "x-bizid-site"
NODE_HEADER = "x-bizid-node"
"""Set by each site's load balancer on its responses (scripts/sites): who served the request."""
REQUEST_TIMEOUT = (3.0, 10.0)
"""Connect / read timeout of one request: a dead site must fail a sign-in fast, not hang the recorder."""


class NotLoopback(ValueError):
    """The target is not on this machine: drill load goes to the local platform only."""


def assert_loopback(url: str) -> None:
    """Refuse a target whose host resolves to anything but loopback addresses."""
    host = urlsplit(url).hostname
    if not host:
        raise NotLoopback(f"no host in {url!r}")
    try:
        addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except socket.gaierror as exc:
        raise NotLoopback(f"cannot resolve {host!r}: {exc}") from None
    bad = sorted(a for a in addresses if not ipaddress.ip_address(a.split("%")[0]).is_loopback)
    if bad or not addresses:
        raise NotLoopback(f"{url} resolves to {bad or 'nothing'}: drill load goes to loopback only")


@dataclass(frozen=True)
class SignIn:
    """One sign-in as the client saw it (unix seconds)."""

    start: float
    end: float
    ok: bool
    username: str
    site: str = ""
    node: str = ""
    error: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class LoadSpec:
    issuer: str
    client: Client
    accounts: Sequence[tuple[str, str]]
    """(username, password) of the accounts that sign in, taken in turn."""
    ca_cert: str
    workers: int = 2
    pause: float = 0.2
    """Seconds each worker waits between two sign-ins (keeps the load light on a 2-core machine)."""
    max_signins: int = 2_000
    max_seconds: float = 300.0

    def __post_init__(self) -> None:
        if not self.accounts:
            raise ValueError("load: no accounts to sign in with")
        if not 1 <= self.workers <= MAX_WORKERS:
            raise ValueError(f"load: workers must be 1..{MAX_WORKERS} (got {self.workers})")
        if not 1 <= self.max_signins <= MAX_SIGNINS:
            raise ValueError(f"load: max_signins must be 1..{MAX_SIGNINS} (got {self.max_signins})")
        if not 0 < self.max_seconds <= MAX_SECONDS:
            raise ValueError(f"load: max_seconds must be in (0, {MAX_SECONDS:.0f}] (got {self.max_seconds})")
        if self.pause < 0:
            raise ValueError(f"load: pause must not be negative (got {self.pause})")
        assert_loopback(self.issuer)


class NodeFlow(BrowserFlow):
    """The browser flow with short timeouts, remembering who served its last response."""

    def __init__(self, session: requests.Session, issuer: str, verify: str) -> None:
        super().__init__(session, issuer, verify)
        self.site = ""
        self.node = ""

    def _request(self, method: str, url: str, name: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        response = super()._request(method, url, name, **kwargs)
        self.site = response.headers.get(SITE_HEADER, self.site)
        self.node = response.headers.get(NODE_HEADER, self.node)
        return response


def sign_in(spec: LoadSpec, username: str, password: str) -> SignIn:
    """One sign-in at the RP through the record; ok only with tokens for this client from this issuer."""
    flow = NodeFlow(requests.Session(), spec.issuer, spec.ca_cert)
    start = time.time()
    try:
        result = flow.login(spec.client, username, password)
        if result.tokens is None:
            error = result.error or "; ".join(result.page_errors) or "no tokens"
            return SignIn(start, time.time(), False, username, flow.site, flow.node, error[:200])
        claims = decode_jwt_payload(result.tokens["id_token"])
        aud = claims.get("aud")
        if claims.get("iss") != spec.issuer or spec.client.client_id not in (
            aud if isinstance(aud, list) else [aud]
        ):
            return SignIn(start, time.time(), False, username, flow.site, flow.node, "wrong iss/aud")
        return SignIn(start, time.time(), True, username, flow.site, flow.node)
    except Exception as exc:  # every failure is a data point: counted and explained in the report
        return SignIn(start, time.time(), False, username, flow.site, flow.node, _explain(exc))
    finally:
        flow.session.close()


def _explain(exc: BaseException) -> str:
    if isinstance(exc, requests.ConnectionError):
        return "connection refused or reset"
    if isinstance(exc, requests.Timeout):
        return "timeout"
    return f"{type(exc).__name__}: {exc}"[:200]


@dataclass
class Recorder:
    """Runs the load in background threads until a bound is reached or `stop()`; `signins` is the record."""

    spec: LoadSpec
    attempt: Callable[[LoadSpec, str, str], SignIn] = sign_in
    signins: list[SignIn] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _threads: list[threading.Thread] = field(default_factory=list)
    _next: int = 0
    started: float = 0.0

    def start(self) -> Recorder:
        self.started = time.time()
        deadline = time.monotonic() + self.spec.max_seconds
        for n in range(self.spec.workers):
            thread = threading.Thread(target=self._run, args=(deadline,), name=f"drill-load-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def _take(self) -> tuple[str, str] | None:
        with self._lock:
            if self._next >= self.spec.max_signins:
                return None
            account = self.spec.accounts[self._next % len(self.spec.accounts)]
            self._next += 1
            return account

    def _run(self, deadline: float) -> None:
        while not self._stop.is_set() and time.monotonic() < deadline:
            account = self._take()
            if account is None:
                return
            record = self.attempt(self.spec, *account)
            with self._lock:
                self.signins.append(record)
            self._stop.wait(self.spec.pause)

    def stop(self) -> list[SignIn]:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)
        return self.snapshot()

    def snapshot(self) -> list[SignIn]:
        with self._lock:
            return sorted(self.signins, key=lambda s: s.start)

    @property
    def running(self) -> bool:
        return any(t.is_alive() for t in self._threads)


@dataclass(frozen=True)
class Outage:
    """The gap in good sign-ins around a moment: RTO = first good after - last good before."""

    last_good_before: float | None
    first_good_after: float | None
    failed: int
    errors: dict[str, int]

    @property
    def rto(self) -> float | None:
        if self.last_good_before is None or self.first_good_after is None:
            return None
        return self.first_good_after - self.last_good_before


def outage(signins: Sequence[SignIn], at: float, until: float | None = None) -> Outage:
    """The outage caused at `at` (the failure): the last good sign-in that ended before it, the first good
    one that started after it, and the sign-ins that failed between `at` and `until` (default: the end of the
    record), by reason. A sign-in in flight at `at` that still succeeded does not count as recovery."""
    until = until if until is not None else float("inf")
    before = [s.end for s in signins if s.ok and s.end <= at]
    good_after = [s.end for s in signins if s.ok and at <= s.start <= until]
    failed = [s for s in signins if not s.ok and at < s.end <= until]
    errors: dict[str, int] = {}
    for s in failed:
        errors[s.error or "failed"] = errors.get(s.error or "failed", 0) + 1
    return Outage(max(before, default=None), min(good_after, default=None), len(failed), errors)
