"""With OPA down, Keycloak fails closed; with OPA back, it works again without a Keycloak restart.

This stops the platform's shared OPA: everything is prepared first, the outage lasts only for the few
refused sign-ins, and OPA is restarted in a `finally` whatever happens.
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest

from realm import accounts
from realm.accounts import AccountSpec, CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import FlowError, LoginResult, decode_jwt_payload
from scripts import services
from scripts.keycloak_admin import admin_client
from scripts.settings import Settings
from tests.conftest import new_browser, rp_client

pytestmark = pytest.mark.platform

COMPANY = {"corporate_number": "5010401089998", "corporate_name": "Outage K.K.", "address": "Tokyo"}
GATED = {
    "account_type",
    "tier",
    "valid_until",
    "family_name",
    "given_name",
    "name",
    "email",
    "email_verified",
    "corporate_number",
    "corporate_name",
    "corporate_type",
    "corporate_address",
    "verified_claims",
    "delegation",
}


def _account(platform: Settings, definitions: Definitions, tier: Tier, name: str) -> CreatedAccount:
    fields: dict[str, Any] = COMPANY if tier is Tier.PRIME else {}
    spec = AccountSpec(tier, name, f"{name}@example.test", "Outage", name, **fields)
    return accounts.create(spec, definitions, admin_client(platform))


def _sign_in(platform: Settings, definitions: Definitions, rp: str, account: CreatedAccount) -> LoginResult:
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None
    return new_browser(platform).login(
        rp_client(platform, definitions, rp), account.username, account.password, otp=otp
    )


def test_sign_ins_fail_closed_while_opa_is_down_and_recover_without_a_keycloak_restart(
    platform: Settings, definitions: Definitions, run_id: str
) -> None:
    entries = [_account(platform, definitions, Tier.ENTRY, f"outage-entry-{run_id}-{i}") for i in range(2)]
    primes = [_account(platform, definitions, Tier.PRIME, f"outage-prime-{run_id}-{i}") for i in range(2)]
    # A session from before the outage: during the outage its userinfo carries no gated claim and its
    # refresh is refused (the access policy is asked again at every refresh; no decision, no token).
    before = new_browser(platform)
    client = rp_client(platform, definitions, "seminar")
    earlier = before.login(client, entries[0].username, entries[0].password, scope="openid profile account")
    assert earlier.tokens is not None and "tier" in decode_jwt_payload(earlier.tokens["id_token"]), earlier
    keycloak_pid = (platform.paths.pids / "keycloak.pid").read_text()

    services.stop_opa(platform)
    try:
        refused_entry = _sign_in(platform, definitions, "seminar", entries[1])
        refused_prime = _sign_in(platform, definitions, "jgrants", primes[0])
        info = before.userinfo(earlier.tokens["access_token"])
        with pytest.raises(FlowError, match="invalid_grant") as refused_refresh:
            before.refresh(client, earlier.tokens["refresh_token"])
    finally:
        services.start_opa(platform)

    for result in (refused_entry, refused_prime):
        assert result.tokens is None, "signed in without a policy decision"
        assert result.error == "access_denied", result
        assert "policy_unavailable" in (result.error_description or ""), result.error_description
    assert not refused_prime.otp_prompted  # refused at the password step, before a second factor
    assert "policy_unavailable" in str(refused_refresh.value)
    assert not GATED & set(info), f"userinfo leaked {sorted(GATED & set(info))} while OPA was down"

    again = _sign_in(platform, definitions, "jgrants", primes[1])
    assert again.tokens is not None, again
    claims = decode_jwt_payload(again.tokens["id_token"])
    assert claims["corporate_number"] == COMPANY["corporate_number"] and "verified_claims" in claims
    assert (platform.paths.pids / "keycloak.pid").read_text() == keycloak_pid, "Keycloak was restarted"
