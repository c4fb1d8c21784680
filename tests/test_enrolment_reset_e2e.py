"""Issue 13 §2, lost authenticator: `bizid accounts reset-authenticator` against the real Keycloak, OPA and
Mailpit. A stolen password alone never binds a new device: after a reset, the browser flow's
`bizid-enrolment-code` step asks for the one-time code (mailed, or printed for a letter) before the TOTP
set-up; a wrong code is counted and locked at 5, an expired or used one is refused; the right one leads to
the set-up and a token at aal2, once.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pyotp
import pytest
import requests

from realm import enrolment
from realm.accounts import CreatedAccount
from realm.models import Tier
from realm.oidc.browser_flow import BrowserFlow, decode_jwt_payload, parse_page, pkce_pair
from scripts import cli_lifecycle
from scripts.mailbox import Mailbox
from scripts.settings import Settings
from tests.conftest import MakeAccount, rp_client, set_attributes
from tests.conftest import run_cli as run

pytestmark = pytest.mark.platform

OPERATOR = "ops.reset"
CODE = re.compile(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}")


def reset(capsys: pytest.CaptureFixture[str], username: str, *extra: str) -> tuple[int, str, str]:
    return run(
        capsys,
        "accounts",
        "reset-authenticator",
        "--username",
        username,
        "--reason",
        "holder lost the phone (ticket 42)",
        "--operator",
        OPERATOR,
        *extra,
    )


def _credential_types(admin: Any, user_id: str) -> list[str]:
    return sorted(str(c["type"]) for c in admin.get_credentials(user_id))


def _stored(admin: Any, user_id: str) -> str:
    return str((admin.get_user(user_id).get("attributes") or {})[enrolment.ATTRIBUTE][0])


@dataclass
class SignIn:
    """A browser at one RP, driven page by page (the enrolment code page is bizid's own)."""

    platform: Settings
    client_id: str = "jgrants"
    session: requests.Session = field(default_factory=requests.Session)
    page: requests.Response | None = None

    def __post_init__(self) -> None:
        self.session.trust_env = False
        self.client = rp_client(self.platform, self.platform.definitions(), self.client_id)
        self.verify = str(self.platform.paths.ca_cert)
        self.verifier, challenge = pkce_pair()
        params = {
            "client_id": self.client.client_id,
            "redirect_uri": self.client.redirect_uri,
            "response_type": "code",
            "scope": "openid",
            "state": "st",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
        url = f"{self.platform.issuer}/protocol/openid-connect/auth?{urlencode(params)}"
        self.page = self.session.get(url, verify=self.verify)

    def _form(self, field_name: str) -> Any:
        assert self.page is not None
        return next((f for f in parse_page(self.page.text).forms if field_name in f.fields), None)

    def has(self, field_name: str) -> bool:
        return self._form(field_name) is not None

    def text(self) -> str:
        assert self.page is not None
        return self.page.text

    def post(self, field_name: str, data: dict[str, str]) -> None:
        form = self._form(field_name)
        assert form is not None, f"no form with {field_name!r}: {self.text()[:800]}"
        assert self.page is not None
        self.page = self.session.post(
            urljoin(self.page.url, form.action),
            data={**form.fields, **data},
            verify=self.verify,
            allow_redirects=False,
        )
        while (
            self.page.status_code in (302, 303)
            and self.client.redirect_uri not in self.page.headers["Location"]
        ):
            self.page = self.session.get(
                urljoin(self.page.url, self.page.headers["Location"]), verify=self.verify
            )

    def password(self, account: CreatedAccount) -> None:
        self.post("username", {"username": account.username, "password": account.password})

    def enrolment_code(self, code: str) -> None:
        self.post("enrolment_code", {"enrolment_code": code})

    def set_up_totp(self) -> str:
        form = self._form("totpSecret")
        assert form is not None, self.text()[:800]
        secret = base64.b32encode(form.fields["totpSecret"].encode()).decode()
        self.post("totpSecret", {"totp": pyotp.TOTP(secret).now(), "userLabel": "new phone"})
        return secret

    def tokens(self) -> dict[str, Any]:
        assert self.page is not None and self.page.status_code == 302, self.text()[:800]
        query = parse_qs(urlsplit(self.page.headers["Location"]).query)
        assert "code" in query, self.page.headers["Location"]
        flow = BrowserFlow(self.session, self.platform.issuer, verify=self.verify)
        return flow.exchange(self.client, query["code"][0], self.verifier)

    def no_token(self) -> None:
        assert self.page is not None
        location = self.page.headers.get("Location", "")
        assert "code=" not in location, location
        assert not self.has("totpSecret"), "a new device could be set up"


@pytest.fixture(scope="module")
def mailbox(platform: Settings) -> Mailbox:
    return Mailbox(platform.mail_api_url)


def _mailed_code(mailbox: Mailbox, admin: Any, account: CreatedAccount) -> str:
    address = str(admin.get_user(account.user_id)["email"])
    mail = mailbox.wait_for(address, "Your enrolment code")
    assert mail.subject == "[bizid] 二要素認証の登録コード / Your enrolment code for a new second factor"
    found = CODE.findall(mail.text)
    assert found, mail.text
    return str(found[0])


def test_after_a_reset_the_password_alone_binds_no_device_and_the_mailed_code_does_once(
    platform: Settings,
    admin: Any,
    make_account: MakeAccount,
    mailbox: Mailbox,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    assert "otp" in _credential_types(admin, prime.user_id)
    trail = cli_lifecycle.trail_path(platform)
    before = trail.read_text() if trail.exists() else ""

    code, out, err = reset(capsys, prime.username)
    assert code == 0, err
    assert "second factors removed: otp" in out
    assert _credential_types(admin, prime.user_id) == ["password"]
    secret_code = _mailed_code(mailbox, admin, prime)
    # Only a hash is stored, and the code is in neither the attribute, the output nor the audit trail.
    stored = _stored(admin, prime.user_id)
    plain = secret_code.replace("-", "")
    assert stored.startswith("v1:issued:") and plain not in stored and secret_code not in out
    written = trail.read_text()[len(before) :]
    assert '"action":"reset-authenticator"' in written and plain not in written and secret_code not in written

    # The thief: password only, no code. No set-up page, no token, no new credential.
    thief = SignIn(platform)
    thief.password(prime)
    assert thief.has("enrolment_code"), thief.text()[:800]
    thief.no_token()
    # A wrong code: counted, asked again, still nothing bound.
    thief.enrolment_code("AAAA-BBBB-CCCC")
    assert thief.has("enrolment_code") and "not right" in thief.text()
    thief.no_token()
    counted = enrolment.StoredCode.parse(_stored(admin, prime.user_id))
    assert counted is not None and counted.state == "issued" and counted.attempts == 1
    assert _credential_types(admin, prime.user_id) == ["password"]

    # The holder: the mailed code, then the TOTP set-up, then signed in at aal2.
    holder = SignIn(platform)
    holder.password(prime)
    holder.enrolment_code(secret_code.lower())  # typed as read: case and hyphens do not matter
    holder.set_up_totp()
    claims = decode_jwt_payload(holder.tokens()["id_token"])
    assert claims["acr"] == "aal2", claims
    assert "otp" in _credential_types(admin, prime.user_id)
    assert _stored(admin, prime.user_id).startswith("v1:used:")

    # The code is consumed: even with the device removed by hand (the old, trust-on-first-use way), it binds
    # nothing again.
    for credential in admin.get_credentials(prime.user_id):
        if credential["type"] == "otp":
            admin.delete_credential(prime.user_id, credential["id"])
    again = SignIn(platform)
    again.password(prime)
    assert not again.has("enrolment_code") and "already used" in again.text(), again.text()[:800]
    again.no_token()
    assert _credential_types(admin, prime.user_id) == ["password"]


def test_an_expired_code_is_refused(
    platform: Settings, admin: Any, make_account: MakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    prime = make_account(Tier.PRIME)
    code, out, err = reset(capsys, prime.username, "--deliver", "letter")
    assert code == 0, err
    letter_code = CODE.findall(out)[0]
    # The operator's clock moved on: the record's expiry is put in the past (an Admin API edit of it).
    parts = _stored(admin, prime.user_id).split(":")
    parts[2] = str(int((dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).timestamp()))
    set_attributes(admin, prime.user_id, **{enrolment.ATTRIBUTE: ":".join(parts)})
    attempt = SignIn(platform)
    attempt.password(prime)
    assert not attempt.has("enrolment_code") and "expired" in attempt.text(), attempt.text()[:800]
    attempt.no_token()
    assert letter_code and _credential_types(admin, prime.user_id) == ["password"]


def test_wrong_codes_lock_the_code_even_for_the_right_one_later(
    platform: Settings, admin: Any, make_account: MakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    prime = make_account(Tier.PRIME)
    code, out, err = reset(capsys, prime.username, "--deliver", "letter")
    assert code == 0, err
    letter_code = CODE.findall(out)[0]
    attempt = SignIn(platform)
    attempt.password(prime)
    for _ in range(enrolment.MAX_ATTEMPTS):
        attempt.enrolment_code("ZZZZ-ZZZZ-ZZZZ")
    assert "too often" in attempt.text(), attempt.text()[:800]
    stored = enrolment.StoredCode.parse(_stored(admin, prime.user_id))
    assert stored is not None and stored.state == "locked" and stored.attempts == enrolment.MAX_ATTEMPTS
    late = SignIn(platform)
    late.password(prime)
    assert not late.has("enrolment_code")
    late.no_token()
    assert letter_code and _credential_types(admin, prime.user_id) == ["password"]


def test_bad_resets_are_refused_and_write_nothing(
    platform: Settings, admin: Any, make_account: MakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    prime = make_account(Tier.PRIME)
    trail = cli_lifecycle.trail_path(platform)
    before = trail.read_text() if trail.exists() else ""
    cases = [
        ((f"nobody-{prime.username}",), "no such account"),
        ((prime.username, "--valid-days", "0"), "--valid-days 0"),
        ((prime.username, "--valid-days", "99"), "--valid-days 99"),
        ((prime.username, "--deliver", "fax"), "--deliver"),
    ]
    for argv, message in cases:
        code, _, err = reset(capsys, *argv)
        assert code != 0 and message in err, (argv, err)
    code, _, err = run(
        capsys,
        "accounts",
        "reset-authenticator",
        "--username",
        prime.username,
        "--reason",
        " ",
        "--operator",
        OPERATOR,
    )
    assert code != 0 and "--reason" in err
    assert (trail.read_text() if trail.exists() else "") == before
    assert "otp" in _credential_types(admin, prime.user_id)
    assert enrolment.ATTRIBUTE not in (admin.get_user(prime.user_id).get("attributes") or {})


# --- recovery codes: the holder's own fallback --------------------------------------------------------


def test_a_recovery_code_is_an_alternative_second_factor_at_aal2_and_works_once(
    platform: Settings, admin: Any, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME)
    user = admin.get_user(prime.user_id)
    admin.update_user(prime.user_id, {**user, "requiredActions": ["CONFIGURE_RECOVERY_AUTHN_CODES"]})
    setup = SignIn(platform)
    setup.password(prime)
    setup.post("otp", {"otp": pyotp.TOTP(prime.totp_base32 or "").now()})
    assert setup.has("generatedRecoveryAuthnCodes"), setup.text()[:800]
    form = setup._form("generatedRecoveryAuthnCodes")
    codes = form.fields["generatedRecoveryAuthnCodes"].split(",")
    setup.post("generatedRecoveryAuthnCodes", {"kcRecoveryCodesConfirmationCheck": "on"})
    setup.tokens()
    assert "recovery-authn-codes" in _credential_types(admin, prime.user_id)

    # The phone is lost (its credential gone): the recovery codes still give level 2, through the policy.
    for credential in admin.get_credentials(prime.user_id):
        if credential["type"] == "otp":
            admin.delete_credential(prime.user_id, credential["id"])
    lost = SignIn(platform)
    lost.password(prime)
    assert lost.has("recoveryCodeInput") and not lost.has("enrolment_code"), lost.text()[:800]
    lost.post("recoveryCodeInput", {"recoveryCodeInput": codes[0]})
    claims = decode_jwt_payload(lost.tokens()["id_token"])
    assert claims["acr"] == "aal2", claims
    # The same code does not work twice.
    again = SignIn(platform)
    again.password(prime)
    again.post("recoveryCodeInput", {"recoveryCodeInput": codes[0]})
    assert again.has("recoveryCodeInput")
    again.no_token()
