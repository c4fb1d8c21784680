"""Verified means verified: a holder's own edit never changes a claim inside `verified_claims` (issue 10, §3).

The holder edits its profile through the real account REST API (`/realms/bizid/account/`) with its own
token, exactly as the account console does; the RP (jgrants) then signs the same browser in again and
must receive the new self-asserted name as a plain claim only, with `verified_claims` unchanged.

The holder's token comes from the account console client (`account-console`, authorization code + PKCE,
signed in through the SSO session of the jgrants sign-in), the way a holder reaches its own profile.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
import requests

from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, Client, LoginResult, decode_jwt_payload
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client

pytestmark = pytest.mark.platform

SCOPE = "openid profile corporate account"
ACCOUNT_CONSOLE = "account-console"


def account_api(platform: Settings) -> str:
    return f"{platform.issuer}/account/"


def holder_token(platform: Settings, browser: BrowserFlow, account: CreatedAccount) -> str:
    """The holder's own access token for the account REST API, from the account console (SSO)."""
    result = browser.login(Client(ACCOUNT_CONSOLE, account_api(platform)), account.username, account.password)
    assert result.tokens is not None, f"{ACCOUNT_CONSOLE} refused: {result.error}: {result.error_description}"
    return str(result.tokens["access_token"])


def own_profile(platform: Settings, token: str) -> dict[str, Any]:
    response = requests.get(
        account_api(platform),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    profile: dict[str, Any] = response.json()
    profile.pop("userProfileMetadata", None)
    return profile


def edit_own_profile(platform: Settings, token: str, profile: dict[str, Any]) -> requests.Response:
    return requests.post(
        account_api(platform),
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
        json=profile,
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )


def id_claims(result: LoginResult) -> dict[str, Any]:
    assert result.tokens is not None, f"no tokens: {result}"
    return decode_jwt_payload(result.tokens["id_token"])


def test_a_holders_rename_through_the_account_api_never_reaches_verified_claims(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME)
    browser = new_browser(platform)
    jgrants = rp_client(platform, definitions, "jgrants")
    before = id_claims(
        browser.login(
            jgrants,
            prime.username,
            prime.password,
            otp=lambda: pyotp.TOTP(prime.totp_base32 or "").now(),
            scope=SCOPE,
        )
    )
    verified_before = before["verified_claims"]
    assert verified_before["claims"]["corporate_name"] == "Test K.K."
    assert before["family_name"] == prime.username

    token = holder_token(platform, browser, prime)
    profile = own_profile(platform, token)

    # The holder may change its own name (holder-editable) ...
    renamed = edit_own_profile(platform, token, {**profile, "firstName": "Anyone", "lastName": "Impostor"})
    assert renamed.status_code == 204, renamed.text
    # ... but never an operator-set attribute, the only kind a verified claim may read.
    attributes = profile.get("attributes") or {}
    for name, value in (("corporate_name", "Impostor K.K."), ("representative_name", "Anyone Impostor")):
        forged = {**profile, "attributes": {**attributes, name: [value]}}
        refused = edit_own_profile(platform, token, forged)
        assert refused.status_code == 400 and "read-only" in refused.text, (
            name,
            refused.status_code,
            refused.text,
        )
    assert own_profile(platform, token)["lastName"] == "Impostor"

    # jgrants signs the same browser in again (SSO, no second code): fresh tokens on the current facts.
    after = id_claims(browser.login(jgrants, prime.username, prime.password, scope=SCOPE))
    assert after["family_name"] == "Impostor" and after["name"] == "Impostor Anyone"  # plain, self-asserted
    assert after["verified_claims"] == verified_before, "a holder edit changed verified_claims"
    for name in ("family_name", "given_name", "name"):
        assert name not in after["verified_claims"]["claims"], f"holder-editable {name} released as verified"
    assert after["corporate_name"] == "Test K.K."
