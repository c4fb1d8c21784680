"""A Member is judged on its issuing Prime's CURRENT record, at every sign-in and every token (issue 10, §2).

Real sign-ins (authorization code + PKCE through Keycloak's login pages) against the real Keycloak and OPA.
Each Member first signs in once while its Prime is in order (so the test shows the change, not a Member
that never worked); then an operator changes a fact through the Admin API (suspends or expires the Prime,
points the Member at an account that cannot issue Members, ...) and the next sign-in at every RP that
accepts Members is refused with the policy's reason - right after the password step, before a second
factor is asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pyotp
import pytest

from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import LoginResult, decode_jwt_payload
from scripts.settings import Settings
from tests.conftest import TEST_COMPANY, MakeAccount, new_browser, rp_client, set_attributes
from tests.test_claims import KEYCLOAK_CLAIMS

pytestmark = pytest.mark.platform

MEMBER_RPS = ("jgrants", "shaho", "it-subsidy")
OTHER_CORPORATE_NUMBER = "7000012050002"
JST = dt.timezone(dt.timedelta(hours=9))


def sign_in(platform: Settings, definitions: Definitions, rp: str, account: CreatedAccount) -> LoginResult:
    return new_browser(platform).login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=lambda: pyotp.TOTP(account.totp_base32 or "").now(),
        scope="openid profile corporate",
    )


def yesterday_jst() -> str:
    return (dt.datetime.now(JST).date() - dt.timedelta(days=1)).isoformat()


# Each case: how the operator breaks the Member's issuer, and the reason the policy must give.
Breaker = Callable[[Any, MakeAccount, CreatedAccount, CreatedAccount], None]


def _suspend_prime(admin: Any, make: MakeAccount, prime: CreatedAccount, member: CreatedAccount) -> None:
    set_attributes(admin, prime.user_id, account_status="suspended")


def _expire_prime(admin: Any, make: MakeAccount, prime: CreatedAccount, member: CreatedAccount) -> None:
    set_attributes(admin, prime.user_id, valid_until=yesterday_jst())


def _provisional_issuer(admin: Any, make: MakeAccount, prime: CreatedAccount, member: CreatedAccount) -> None:
    provisional = make(Tier.PROVISIONAL_PRIME, provisional_rps=("it-subsidy",))
    set_attributes(admin, member.user_id, prime_username=provisional.username)


def _entry_issuer(admin: Any, make: MakeAccount, prime: CreatedAccount, member: CreatedAccount) -> None:
    # Same (self-asserted) corporate number as the Member's and a validity date: the tier is the only problem.
    entry = make(
        Tier.ENTRY,
        corporate_number=TEST_COMPANY["corporate_number"],
        valid_until=dt.date.today() + dt.timedelta(days=365),
    )
    set_attributes(admin, member.user_id, prime_username=entry.username)


def _unknown_issuer(admin: Any, make: MakeAccount, prime: CreatedAccount, member: CreatedAccount) -> None:
    set_attributes(admin, member.user_id, prime_username=f"no-such-prime-{member.username}")


def _no_issuer(admin: Any, make: MakeAccount, prime: CreatedAccount, member: CreatedAccount) -> None:
    set_attributes(admin, member.user_id, prime_username=None)


def _other_company(admin: Any, make: MakeAccount, prime: CreatedAccount, member: CreatedAccount) -> None:
    set_attributes(admin, member.user_id, corporate_number=OTHER_CORPORATE_NUMBER)


CASES: dict[str, tuple[Breaker, str]] = {
    "suspended-prime": (_suspend_prime, "prime_suspended"),
    "expired-prime": (_expire_prime, "prime_expired"),
    "provisional-prime-issuer": (_provisional_issuer, "prime_not_prime"),
    "entry-issuer": (_entry_issuer, "prime_not_prime"),
    "unknown-issuer": (_unknown_issuer, "prime_not_found"),
    "no-prime-username": (_no_issuer, "prime_missing"),
    "other-company": (_other_company, "prime_company_mismatch"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_member_is_refused_once_its_issuer_is_not_an_active_prime(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount, case: str
) -> None:
    breaker, code = CASES[case]
    prime = make_account(Tier.PRIME)
    member = make_account(Tier.MEMBER, prime_username=prime.username)
    before = sign_in(platform, definitions, "jgrants", member)
    assert before.tokens is not None, f"the Member of an active Prime must sign in: {before}"

    breaker(admin, make_account, prime, member)
    for rp in MEMBER_RPS:
        result = sign_in(platform, definitions, rp, member)
        assert result.tokens is None, f"{case}: a Member was admitted at {rp}"
        assert result.error == "access_denied", (rp, result)
        assert code in (result.error_description or ""), (rp, result.error_description)
        assert not result.otp_prompted, f"{rp}: refused only after the second factor"


def test_suspending_a_prime_stops_its_members_claims_at_once(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount
) -> None:
    """Tokens already issued: userinfo asks the release policy again, on the Prime's current record."""
    prime = make_account(Tier.PRIME)
    member = make_account(Tier.MEMBER, prime_username=prime.username)
    browser = new_browser(platform)
    result = browser.login(
        rp_client(platform, definitions, "jgrants"),
        member.username,
        member.password,
        otp=lambda: pyotp.TOTP(member.totp_base32 or "").now(),
        scope="openid profile corporate",
    )
    assert result.tokens is not None, result
    access_token = result.tokens["access_token"]
    assert "verified_claims" in browser.userinfo(access_token)

    set_attributes(admin, prime.user_id, account_status="suspended")
    info = browser.userinfo(access_token)
    assert "verified_claims" not in info, "a Member of a suspended Prime released as verified"
    assert "corporate_number" not in info
    released = set(info) - KEYCLOAK_CLAIMS
    assert not released, f"claims about a Member whose Prime is suspended: {sorted(released)}"
    assert decode_jwt_payload(access_token)["sub"] == info["sub"]
