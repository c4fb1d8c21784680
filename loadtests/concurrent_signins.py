"""Deadline-day duplicates: the same account signing in several times at the same instant (a double submit,
two tabs), measured against the local platform (issue 14 §4; docs/realm.md "Concurrent sign-ins").

    python -m loadtests.concurrent_signins --accounts 20 --copies 2
    python -m loadtests.concurrent_signins --accounts 20 --copies 2 --wait-millis 0  # Keycloak alone

Each copy is its own browser: it opens the RP's authorization request (code + PKCE S256) and the login page;
then all copies of one account submit the password at the same moment (a barrier), answer the TOTP prompt
(Prime and Member) and exchange the code. Accounts are drawn from the seeded population (`bizid seed`), every
account's copies start together and all accounts within the same second or two: the burst shape. The outcome
of every copy is counted: `signed-in` (tokens), `refused` (the login page came back; its message is
recorded), `otp-refused` (the TOTP code was refused: two copies cannot both use one code), `error`.

`--wait-millis` sets the realm's `bizid.bruteForce.concurrentWaitMillis` for the run (then puts the
definitions' value back): 0 is Keycloak's refusal of the second sign-in. Loopback only; bounded (at most
200 accounts × 4 copies).
"""

from __future__ import annotations

import argparse
import html
import re
import secrets
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests

from loadtests import population as pop
from loadtests.journey import FIRST_RP, assert_loopback, rp_clients
from realm import build, loader
from realm.oidc.browser_flow import BrowserFlow, Client, parse_page, pkce_pair
from scripts import settings
from scripts.settings import Settings

MAX_ACCOUNTS = 200
MAX_COPIES = 6


@dataclass(frozen=True)
class Outcome:
    kind: str
    """signed-in, refused, otp-refused or error."""
    message: str = ""


def _page_message(page: requests.Response) -> str:
    """The message of a Keycloak error page (error.ftl: `<p class="instruction">`), else the status."""
    found = re.search(r'class="instruction"[^>]*>\s*([^<]+)', page.text)
    return html.unescape(found.group(1).strip()) if found else f"HTTP {page.status_code}"


class _Copy:
    """One browser's sign-in, split at the password submit so that copies can submit together."""

    def __init__(self, cfg: Settings, client: Client) -> None:
        self.cfg = cfg
        self.client = client
        self.session = requests.Session()
        self.session.trust_env = False
        self.flow = BrowserFlow(self.session, cfg.issuer, verify=str(cfg.paths.ca_cert))
        self.verifier, challenge = pkce_pair()
        self.state = secrets.token_urlsafe(12)
        params = {
            "client_id": client.client_id,
            "redirect_uri": client.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": self.state,
            "nonce": secrets.token_urlsafe(12),
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        self.page = self._get(f"{self.flow.endpoints['auth']}?{urlencode(params)}")

    def _get(self, url: str) -> requests.Response:
        return self.session.get(url, verify=str(self.cfg.paths.ca_cert), allow_redirects=True, timeout=30)

    def _post(self, page: requests.Response, action: str, data: dict[str, str]) -> requests.Response | str:
        response = self.session.post(
            urljoin(page.url, action), data=data, verify=str(self.cfg.paths.ca_cert), allow_redirects=False,
            timeout=30,
        )  # fmt: skip
        for _ in range(10):
            if response.status_code not in (302, 303):
                return response
            location = urljoin(response.url, response.headers["Location"])
            if location.split("?", 1)[0] == self.client.redirect_uri:
                return location
            response = self._get(location)
        return response

    def _finish(self, location: str) -> Outcome:
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        if "code" not in query or query.get("state") != self.state:
            return Outcome(
                "error", f"redirect without code: {query.get('error')} {query.get('error_description')}"
            )
        tokens = self.flow.exchange(self.client, query["code"], self.verifier)
        return Outcome("signed-in") if tokens.get("id_token") else Outcome("error", "no id_token")

    def submit(self, username: str, password: str, otp: Callable[[], str] | None) -> Outcome:
        parsed = parse_page(self.page.text)
        form = next((f for f in parsed.forms if "username" in f.fields or "password" in f.fields), None)
        if form is None:
            return Outcome("error", f"no login form ({self.page.status_code})")
        answer = self._post(
            self.page, form.action, {**form.fields, "username": username, "password": password}
        )
        if isinstance(answer, str):
            return self._finish(answer)
        parsed = parse_page(answer.text)
        otp_form = next((f for f in parsed.forms if "otp" in f.fields), None)
        if otp_form is None:
            return Outcome("refused", " ".join(parsed.errors) or _page_message(answer))
        if otp is None:
            return Outcome("error", "asked for a second factor")
        answer2 = self._post(answer, otp_form.action, {**otp_form.fields, "otp": otp()})
        if isinstance(answer2, str):
            return self._finish(answer2)
        errors = " ".join(parse_page(answer2.text).errors)
        return Outcome("otp-refused", errors or f"HTTP {answer2.status_code}")


def duplicates(
    cfg: Settings,
    client: Client,
    username: str,
    password: str,
    copies: int = 2,
    otp: Callable[[], str] | None = None,
) -> list[Outcome]:
    """`copies` browsers sign in as one account, submitting the password at the same instant."""
    assert_loopback(cfg.issuer)
    browsers = [_Copy(cfg, client) for _ in range(copies)]
    barrier = threading.Barrier(copies)
    outcomes: list[Outcome] = [Outcome("error", "did not run")] * copies

    def run(i: int) -> None:
        barrier.wait(timeout=30)
        try:
            outcomes[i] = browsers[i].submit(username, password, otp)
        except Exception as exc:  # a copy's failure is an outcome to count, not a crash of the burst
            outcomes[i] = Outcome("error", f"{type(exc).__name__}: {str(exc)[:200]}")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(copies)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    return outcomes


@contextmanager
def realm_wait(cfg: Settings, wait_millis: int | None) -> Iterator[None]:
    """The realm's concurrent-sign-in wait set to `wait_millis` for a block, then the definitions' value."""
    if wait_millis is None:
        yield
        return
    from scripts.keycloak_admin import admin_client

    admin = admin_client(cfg)
    desired = str(loader.load().realm.brute_force.concurrent_sign_in_wait_millis)

    def put(value: str) -> None:
        realm: dict[str, Any] = admin.get_realm(settings.REALM)
        realm.setdefault("attributes", {})[build.CONCURRENT_WAIT_ATTRIBUTE] = value
        admin.update_realm(settings.REALM, {"attributes": realm["attributes"]})

    put(str(wait_millis))
    try:
        yield
    finally:
        put(desired)


def burst(cfg: Settings, indexes: Sequence[int], copies: int, per_second: float = 4.0) -> Counter[str]:
    """Every account of `indexes` signs in `copies` times at once; a new account every 1/per_second s."""
    clients = rp_clients(cfg)
    counts: Counter[str] = Counter()
    lock = threading.Lock()

    def one(index: int) -> None:
        otp = (lambda: pop.totp_code(index, time.time())) if pop.needs_otp(index) else None
        client = clients[FIRST_RP[pop.tier(index)]]
        try:
            outcomes = duplicates(cfg, client, pop.username(index), pop.password(index), copies, otp)
        except Exception as exc:
            outcomes = [Outcome("error", f"{type(exc).__name__}: {str(exc)[:200]}")] * copies
        with lock:
            for outcome in outcomes:
                counts[outcome.kind] += 1
                if outcome.kind != "signed-in":
                    counts[f"{outcome.kind}: {outcome.message[:90]}"] += 1

    threads = [threading.Thread(target=one, args=(i,)) for i in indexes]
    for t in threads:
        t.start()
        time.sleep(1 / per_second)  # a burst, not one instant for all
    for t in threads:
        t.join(timeout=300)
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.concurrent_signins", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--accounts", type=int, default=20, help=f"accounts in the burst (1-{MAX_ACCOUNTS})")
    parser.add_argument(
        "--copies", type=int, default=2, help=f"simultaneous sign-ins per account (2-{MAX_COPIES})"
    )
    parser.add_argument("--start", type=int, default=0, help="first seeded account index")
    parser.add_argument("--per-second", type=float, default=4.0, help="accounts started per second (0.1-50)")
    parser.add_argument(
        "--wait-millis", type=int, default=None, help="realm wait for this run (0: Keycloak's)"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.accounts <= MAX_ACCOUNTS or not 2 <= args.copies <= MAX_COPIES or args.start < 0:
        parser.error(f"accounts 1-{MAX_ACCOUNTS}, copies 2-{MAX_COPIES}, start >= 0")
    if not 0.1 <= args.per_second <= 50:
        parser.error("--per-second must be between 0.1 and 50")
    if args.wait_millis is not None and not 0 <= args.wait_millis <= 10_000:
        parser.error("--wait-millis must be between 0 and 10000")
    cfg = settings.load()
    with realm_wait(cfg, args.wait_millis):
        counts = burst(cfg, range(args.start, args.start + args.accounts), args.copies, args.per_second)
    total = args.accounts * args.copies
    print(
        f"{args.accounts} accounts x {args.copies} simultaneous sign-ins = {total} (wait {args.wait_millis})"
    )
    for key, n in sorted(counts.items(), key=lambda kv: (":" in kv[0], kv[0])):
        print(f"  {n:4}  {key}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
