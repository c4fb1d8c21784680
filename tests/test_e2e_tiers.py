"""Every tier signs in the way the domain requires, through a real authorization-code + PKCE flow.

Runs against the real Keycloak (with the bizid extension) and OPA. Each account that uses a TOTP code is
used for one sign-in only, because Keycloak (rightly) refuses a code that was already used.
"""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest

from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import LoginResult, decode_jwt_payload
from scripts.keycloak_admin import admin_client
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client

pytestmark = pytest.mark.platform


def sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    with_otp: bool = True,
    acr_values: str | None = None,
) -> LoginResult:
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if with_otp and account.totp_secret else None
    return new_browser(platform).login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=otp,
        acr_values=acr_values,
    )


def acr_of(result: LoginResult) -> str:
    assert result.tokens is not None, f"no tokens: {result}"
    return str(decode_jwt_payload(result.tokens["id_token"])["acr"])


def test_entry_signs_in_with_password_alone_where_accepted(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    entry = make_account(Tier.ENTRY)
    result = sign_in(platform, definitions, "seminar", entry)
    assert not result.otp_prompted
    assert acr_of(result) == "aal1"


def test_entry_is_refused_at_a_prime_only_rp_with_an_oidc_error(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    entry = make_account(Tier.ENTRY)
    result = sign_in(platform, definitions, "jgrants", entry)
    assert result.tokens is None
    assert result.error == "access_denied"
    assert "tier_not_accepted" in (result.error_description or "")


@pytest.mark.parametrize("tier", [Tier.PRIME, Tier.MEMBER])
def test_second_factor_is_required_and_reflected_in_acr(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, tier: Tier
) -> None:
    prime = make_account(Tier.PRIME)
    account = prime if tier is Tier.PRIME else make_account(Tier.MEMBER, prime_username=prime.username)
    without = sign_in(platform, definitions, "seminar", account, with_otp=False)
    assert without.otp_prompted and without.tokens is None
    with_code = sign_in(platform, definitions, "jgrants", account)
    assert with_code.otp_prompted
    assert acr_of(with_code) == "aal2"


def test_a_wrong_totp_code_gets_no_tokens(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME)
    current = pyotp.TOTP(prime.totp_base32 or "").now()
    wrong = f"{(int(current) + 1) % 1_000_000:06d}"
    result = new_browser(platform).login(
        rp_client(platform, definitions, "seminar"), prime.username, prime.password, otp=lambda: wrong
    )
    assert result.otp_prompted and result.tokens is None


def test_step_up_asks_for_the_second_factor_only_when_the_rp_requires_it(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    entry = make_account(Tier.ENTRY, totp=True)
    browser = new_browser(platform)
    client = rp_client(platform, definitions, "seminar")
    otp = lambda: pyotp.TOTP(entry.totp_base32 or "").now()  # noqa: E731
    first = browser.login(client, entry.username, entry.password, otp=otp)
    assert not first.otp_prompted and acr_of(first) == "aal1"
    stepped = browser.login(client, entry.username, entry.password, otp=otp, acr_values="aal2")
    assert stepped.otp_prompted
    assert acr_of(stepped) == "aal2"


def test_provisional_prime_only_at_the_rps_named_on_it(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    allowed = make_account(Tier.PROVISIONAL_PRIME, provisional_rps=("it-subsidy",))
    assert acr_of(sign_in(platform, definitions, "it-subsidy", allowed)) == "aal2"
    for rp in ("seminar", "jgrants"):
        other = make_account(Tier.PROVISIONAL_PRIME, provisional_rps=("it-subsidy",))
        refused = sign_in(platform, definitions, rp, other)
        assert refused.tokens is None and refused.error == "access_denied", rp


def test_expired_and_suspended_accounts_are_refused(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    expired = make_account(Tier.PRIME, valid_until=dt.date.today() - dt.timedelta(days=1))
    result = sign_in(platform, definitions, "seminar", expired)
    assert result.tokens is None and result.error == "access_denied"
    assert "account_expired" in (result.error_description or "")

    suspended = make_account(Tier.ENTRY, status="suspended")
    result = sign_in(platform, definitions, "seminar", suspended)
    assert result.tokens is None and result.error == "access_denied"
    assert "account_suspended" in (result.error_description or "")


def test_repeated_wrong_passwords_lock_the_account(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    entry = make_account(Tier.ENTRY)
    client = rp_client(platform, definitions, "seminar")
    for _ in range(definitions.realm.brute_force.failure_factor):
        wrong = new_browser(platform).login(client, entry.username, "not-the-password")
        assert wrong.tokens is None
    locked = new_browser(platform).login(client, entry.username, entry.password)
    assert locked.tokens is None, "the right password must not work while the account is locked"
    admin = admin_client(platform)
    user_id = admin.get_user_id(entry.username)
    status = admin.connection.raw_get(
        f"admin/realms/{admin.connection.realm_name}/attack-detection/brute-force/users/{user_id}"
    ).json()
    assert status["disabled"] is True
