"""Run alone: `locust -f loadtests/registration.py --headless -u 2 -t 30s`; mixed with sign-ins:
loadtests/shapes/rumour.py.

A self-registration as the April 2020 rumour surge made them (DOMAIN.md): an RP's registration page,
the form, the verification mail through the real mail server (Mailpit), the link, the RP's code and
tokens. Each step is a named request in Locust's statistics (`register:form`, `register:submit`,
`register:verify-page`, `register:link`, `register:token`); the mail's delivery is `MAIL verification-mail`
(time from the submit to the mail in the mailbox) and the whole registration `FLOW registration`.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import time
import uuid
from collections.abc import Callable
from urllib.parse import parse_qs, urljoin, urlsplit

from locust import HttpUser, task
from locust.clients import HttpSession

from loadtests import locustfile  # the bizid options, safety checks and sample log
from loadtests.journey import assert_loopback, rp_clients
from loadtests.pacing import PoissonPacing
from loadtests.phases import PER_USER_RATE
from scripts.mailbox import VERIFICATION_SUBJECT, Mailbox
from scripts.settings import REALM, Settings

CFG = locustfile.CFG

CLIENT_ID = "seminar"
"""Accepts Entry accounts, so a new registration ends signed in (rps/seminar.yaml)."""
PASSWORD_WORDS = ("quiet", "lantern", "over", "rivers", "amber", "meadow", "copper", "harbour")

Report = Callable[[str, str, float, BaseException | None], None]


class RegistrationFailed(RuntimeError):
    """A step answered something other than the next step of a registration."""


def _password() -> str:
    return " ".join(secrets.choice(PASSWORD_WORDS) for _ in range(4)) + f" {secrets.randbelow(100)}"


def redirect_uri(cfg: Settings) -> str:
    """The seminar RP's redirect URI as this platform registered it (on its RP port: the port offset)."""
    return rp_clients(cfg)[CLIENT_ID].redirect_uri


def register(client: HttpSession, cfg: Settings, mailbox: Mailbox, report: Report) -> str:
    """One whole registration; returns the new username. Raises RegistrationFailed at the failing step."""
    started = time.perf_counter()
    client.cookies.clear()  # a new person, a new browser: no session of the last registration
    verify = str(cfg.paths.ca_cert)
    verifier = secrets.token_urlsafe(40)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    params = {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": redirect_uri(cfg),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "state": secrets.token_urlsafe(8),
    }
    try:
        page = client.get(
            f"/realms/{REALM}/protocol/openid-connect/registrations",
            params=params,
            name="register:form",
            verify=verify,
        )
        action = re.search(r'action="([^"]+)"', page.text)
        if page.status_code != 200 or action is None:
            raise RegistrationFailed(f"registration page answered {page.status_code}")
        username = f"surge-{uuid.uuid4().hex[:12]}"
        address = f"{username}@load.example.test"
        password = _password()
        submitted = client.post(
            html.unescape(action.group(1)),
            data={
                "username": username,
                "email": address,
                "firstName": "Hanako",
                "lastName": "Suzuki",
                "password": password,
                "password-confirm": password,
            },
            name="register:submit",
            allow_redirects=False,
            verify=verify,
        )
        if submitted.status_code != 302:
            raise RegistrationFailed(f"registration form answered {submitted.status_code}")
        sent_at = time.perf_counter()
        page = client.get(
            urljoin(cfg.keycloak_url, submitted.headers["Location"]),
            name="register:verify-page",
            allow_redirects=False,
            verify=verify,
        )
        if page.status_code != 200:
            raise RegistrationFailed(f"verification page answered {page.status_code}")
        try:
            mail = mailbox.wait_for(address, VERIFICATION_SUBJECT, timeout=60)
        except Exception as exc:
            report("MAIL", "verification-mail", (time.perf_counter() - sent_at) * 1000, exc)
            raise RegistrationFailed(f"no verification mail: {exc}") from None
        report("MAIL", "verification-mail", (time.perf_counter() - sent_at) * 1000, None)
        link = next((u for u in mail.links() if "/login-actions/action-token" in u), None)
        if link is None:
            raise RegistrationFailed("the verification mail has no link")
        location = client.get(link, name="register:link", allow_redirects=False, verify=verify)
        for _ in range(5):  # Keycloak may pass through its own pages before returning to the RP
            target = location.headers.get("Location", "")
            if location.status_code not in (302, 303) or not target.startswith(cfg.keycloak_url):
                break
            location = client.get(target, name="register:link", allow_redirects=False, verify=verify)
        target = location.headers.get("Location", "")
        query = parse_qs(urlsplit(target).query)
        if not target.startswith(redirect_uri(cfg)) or "code" not in query:
            raise RegistrationFailed(f"the link did not end at the RP with a code ({location.status_code})")
        tokens = client.post(
            f"/realms/{REALM}/protocol/openid-connect/token",
            data={
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": redirect_uri(cfg),
                "client_id": CLIENT_ID,
                "code_verifier": verifier,
            },
            name="register:token",
            verify=verify,
        )
        if tokens.status_code != 200 or "id_token" not in tokens.json():
            raise RegistrationFailed(f"token endpoint answered {tokens.status_code}")
    except Exception as exc:
        report("FLOW", "registration", (time.perf_counter() - started) * 1000, exc)
        raise
    report("FLOW", "registration", (time.perf_counter() - started) * 1000, None)
    return username


class RegistrationUser(HttpUser):
    """Someone who heard the rumour (DOMAIN.md, April 2020): registers an Entry account at an RP, follows
    the verification mail through the real mail server, ends signed in (loadtests/registration.py)."""

    host = CFG.keycloak_url
    weight = 1

    def on_start(self) -> None:
        assert_loopback(self.host or CFG.keycloak_url)
        assert_loopback(CFG.mail_api_url)
        options = self.environment.parsed_options
        self._pacing = PoissonPacing(options.per_user_rate if options else PER_USER_RATE)
        time.sleep(self._pacing())
        self.client.verify = str(CFG.paths.ca_cert)
        self.mailbox = Mailbox(CFG.mail_api_url)

    def wait_time(self) -> float:
        return self._pacing()

    def _report(self, kind: str, name: str, ms: float, exc: BaseException | None) -> None:
        self.environment.events.request.fire(
            request_type=kind, name=name, response_time=ms, response_length=0, exception=exc, context={}
        )

    @task
    def registration(self) -> None:
        try:
            register(self.client, CFG, self.mailbox, self._report)
        except Exception:
            return  # reported: the failing step by Locust's session, the registration as FLOW
