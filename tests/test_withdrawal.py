"""A withdrawal takes effect, and a refresh token works once (issue 10, §4).

Suspending an account, expiring it or revoking the delegation in use ends the session at the RP's next
refresh (`invalid_grant`, the user session gone) instead of yielding tokens without claims. A replayed
refresh token is refused and ends its session (RFC 9700 §4.14.2), for public and confidential RPs.
Against the real Keycloak (the `bizid-access-recheck` client-policy executor) and OPA.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyotp
import pytest
import requests

from realm import delegation
from realm.accounts import CreatedAccount
from realm.delegation import GrantSpec
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, Client, LoginResult
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client

pytestmark = pytest.mark.platform

PRINCIPAL = {"corporate_number": "5010401089998", "corporate_name": "Principal K.K.", "address": "Tokyo"}
FIRM = {"corporate_number": "7000012050002", "corporate_name": "Yamada Tax Office", "address": "Osaka"}


def _sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    extra: dict[str, str] | None = None,
) -> tuple[BrowserFlow, Client, LoginResult]:
    browser = new_browser(platform)
    client = rp_client(platform, definitions, rp)
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None
    result = browser.login(client, account.username, account.password, otp=otp, extra=extra)
    assert result.tokens is not None, result
    return browser, client, result


def _refresh(platform: Settings, client: Client, refresh_token: str) -> requests.Response:
    auth = (client.client_id, client.secret) if client.secret else None
    return requests.post(
        f"{platform.issuer}/protocol/openid-connect/token",
        data={"grant_type": "refresh_token", "refresh_token": refresh_token, "client_id": client.client_id},
        auth=auth,
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )


def _set_attribute(admin: Any, user_id: str, name: str, value: str) -> None:
    user = admin.get_user(user_id)
    user["attributes"][name] = [value]
    admin.update_user(user_id, user)


def _sessions(admin: Any, user_id: str) -> list[dict[str, Any]]:
    sessions: list[dict[str, Any]] = admin.get_sessions(user_id)
    return sessions


def _assert_withdrawn(response: requests.Response, reason: str) -> None:
    assert response.status_code == 400, response.text[:300]
    body = response.json()
    assert body["error"] == "invalid_grant", body
    assert reason in body.get("error_description", ""), body


@pytest.mark.parametrize(
    ("rp", "tier", "attribute", "value", "reason"),
    [
        ("seminar", Tier.ENTRY, "account_status", "suspended", "account_suspended"),
        ("jgrants", Tier.PRIME, "account_status", "suspended", "account_suspended"),
        ("jgrants", Tier.PRIME, "valid_until", "2020-01-01", "account_expired"),
    ],
    ids=["suspended-entry-public", "suspended-prime-confidential", "expired-prime"],
)
def test_a_withdrawn_account_cannot_refresh_and_its_session_ends(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    make_account: MakeAccount,
    rp: str,
    tier: Tier,
    attribute: str,
    value: str,
    reason: str,
) -> None:
    account = make_account(tier, "wd")
    _, client, result = _sign_in(platform, definitions, rp, account)
    assert result.tokens is not None
    before = _refresh(platform, client, result.tokens["refresh_token"])
    assert before.status_code == 200, before.text[:300]  # an active account refreshes
    assert _sessions(admin, account.user_id)

    _set_attribute(admin, account.user_id, attribute, value)
    _assert_withdrawn(_refresh(platform, client, before.json()["refresh_token"]), reason)
    assert _sessions(admin, account.user_id) == [], "the user session outlived the withdrawal"


def test_a_revoked_delegation_ends_the_delegate_session_at_the_next_refresh(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    principal = make_account(Tier.PRIME, "wd-principal", **PRINCIPAL)
    tax = make_account(Tier.PRIME, "wd-zeirishi", **FIRM)
    spec = GrantSpec(
        principal.username,
        tax.username,
        "jgrants",
        ("subsidy-application",),
        now + dt.timedelta(days=30),
        now,
    )
    delegation_id = delegation.grant(spec, definitions, admin).record.id
    _, client, result = _sign_in(
        platform,
        definitions,
        "jgrants",
        tax,
        extra={"delegation": delegation_id, "procedure": "subsidy-application"},
    )
    assert result.tokens is not None
    before = _refresh(platform, client, result.tokens["refresh_token"])
    assert before.status_code == 200, before.text[:300]

    delegation.revoke(admin, delegation_id, tax.username)
    _assert_withdrawn(_refresh(platform, client, before.json()["refresh_token"]), "delegation_invalid")
    assert _sessions(admin, tax.user_id) == []


@pytest.mark.parametrize(("rp", "tier"), [("seminar", Tier.ENTRY), ("jgrants", Tier.PRIME)])
def test_a_replayed_refresh_token_is_refused_and_ends_its_session(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, rp: str, tier: Tier
) -> None:
    account = make_account(tier, "replay")
    _, client, result = _sign_in(platform, definitions, rp, account)
    assert result.tokens is not None
    first = result.tokens["refresh_token"]
    rotated = _refresh(platform, client, first)
    assert rotated.status_code == 200, rotated.text[:300]
    second = rotated.json()["refresh_token"]
    assert second != first, "refresh tokens are not rotated"

    replay = _refresh(platform, client, first)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant", replay.text[:300]
    # Reuse detection: the replay revoked the whole family, so the newest token is dead too.
    after = _refresh(platform, client, second)
    assert after.status_code == 400 and after.json()["error"] == "invalid_grant", after.text[:300]
