"""What a token says: the level reached, the scopes asked for, an audience, no personal data in the access
token (issue 10, §4). Through real sign-ins against Keycloak and OPA; docs/claims.md states the contract.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, LoginResult, decode_jwt_payload
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client

pytestmark = pytest.mark.platform

PERSONAL_AND_CORPORATE = {
    "family_name",
    "given_name",
    "name",
    "email",
    "email_verified",
    "phone_number",
    "account_type",
    "tier",
    "valid_until",
    "corporate_number",
    "corporate_name",
    "corporate_type",
    "representative_name",
    "corporate_address",
    "branch",
    "delegation",
    "verified_claims",
    "preferred_username",
}


def _sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    scope: str = "openid",
    acr_values: str | None = None,
) -> tuple[BrowserFlow, LoginResult]:
    browser = new_browser(platform)
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None
    result = browser.login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=otp,
        scope=scope,
        acr_values=acr_values,
    )
    assert result.tokens is not None, result
    return browser, result


def _claims(browser: BrowserFlow, result: LoginResult) -> dict[str, dict[str, Any]]:
    assert result.tokens is not None
    return {
        "id token": decode_jwt_payload(result.tokens["id_token"]),
        "userinfo": browser.userinfo(result.tokens["access_token"]),
        "access token": decode_jwt_payload(result.tokens["access_token"]),
    }


@pytest.mark.parametrize("tier", [Tier.PRIME, Tier.MEMBER])
def test_acr_states_the_level_reached_not_the_level_requested(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, tier: Tier
) -> None:
    """Issue 10: at seminar (min_acr aal1) with acr_values=aal1 a Prime passed its OTP but got acr=aal1."""
    prime = make_account(Tier.PRIME, "acr-prime")
    account = (
        prime if tier is Tier.PRIME else make_account(Tier.MEMBER, "acr-m", prime_username=prime.username)
    )
    browser, result = _sign_in(platform, definitions, "seminar", account, acr_values="aal1")
    assert result.otp_prompted
    claims = _claims(browser, result)
    assert claims["id token"]["acr"] == "aal2"
    assert claims["access token"]["acr"] == "aal2"


def test_acr_does_not_overstate_a_password_only_sign_in(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    entry = make_account(Tier.ENTRY, "acr-entry")
    browser, result = _sign_in(platform, definitions, "seminar", entry, acr_values="aal2 aal1")
    assert not result.otp_prompted
    assert _claims(browser, result)["id token"]["acr"] == "aal1"


def test_optional_scopes_are_released_only_when_asked_for(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    """Issue 10: `scope=openid profile` at seminar still released e-mail and account claims."""
    seminar = definitions.rp("seminar")
    assert {"email", "account"} <= set(seminar.optional_scopes)
    entry = make_account(Tier.ENTRY, "scope-entry")
    browser, result = _sign_in(platform, definitions, "seminar", entry, scope="openid profile")
    found = _claims(browser, result)
    for where, claims in found.items():
        assert not {"email", "email_verified", "tier", "account_type", "valid_until"} & set(claims), where
    assert found["id token"]["family_name"] == entry.username
    assert set(str(found["access token"]["scope"]).split()) == {"openid", "profile"}

    entry = make_account(Tier.ENTRY, "scope-entry")
    browser, result = _sign_in(platform, definitions, "seminar", entry, scope="openid profile email account")
    id_token = _claims(browser, result)["id token"]
    assert id_token["email"] == f"{entry.username}@example.test" and id_token["tier"] == "entry"


def test_a_scope_the_rp_did_not_register_is_refused(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    assert "corporate" not in definitions.rp("seminar").scopes
    entry = make_account(Tier.ENTRY, "scope-entry", corporate_name="Self-asserted K.K.")
    result = new_browser(platform).login(
        rp_client(platform, definitions, "seminar"), entry.username, entry.password, scope="openid corporate"
    )
    assert result.tokens is None and result.error == "invalid_scope", result


@pytest.mark.parametrize(("rp", "tier"), [("seminar", Tier.ENTRY), ("jgrants", Tier.PRIME)])
def test_access_tokens_carry_an_audience_and_no_personal_data(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, rp: str, tier: Tier
) -> None:
    """Issue 10: access tokens had no `aud` and carried every personal and corporate claim."""
    account = make_account(tier, "aud")
    browser, result = _sign_in(platform, definitions, rp, account, scope="openid profile email account")
    claims = _claims(browser, result)
    access = claims["access token"]
    audience = access.get("aud")
    assert rp in (audience if isinstance(audience, list) else [audience]), access
    assert access["azp"] == rp
    assert not PERSONAL_AND_CORPORATE & set(access), sorted(PERSONAL_AND_CORPORATE & set(access))
    # The RP still gets them, in the ID token and from userinfo.
    for where in ("id token", "userinfo"):
        assert claims[where]["family_name"] == account.username, where
        assert claims[where]["email"] == f"{account.username}@example.test", where
