"""Issue 10 §5 against the real Keycloak and OPA: brute force without easy lockout, the password policy at
registration and at an Admin API reset, OPA's REST API closed to everyone but its token holders, and the
decision log without personal data.
"""

from __future__ import annotations

import html
import json
import stat
import uuid
from typing import Any

import pytest
import requests

from policies import opa_server
from realm.models import Definitions, Tier
from scripts.settings import REALM, Settings
from tests.conftest import MakeAccount, new_browser, register, rp_client

pytestmark = pytest.mark.platform

BLOCKED_PASSWORD = "password1234"  # 12 characters: long enough, but on the shipped common-password list


def _bearer(platform: Settings, secret: str) -> dict[str, str]:
    return opa_server.bearer(platform.secret(secret))


# --- brute force -------------------------------------------------------------------------------------


def _locked(admin: Any, user_id: str) -> bool:
    status = admin.connection.raw_get(
        f"admin/realms/{admin.connection.realm_name}/attack-detection/brute-force/users/{user_id}"
    ).json()
    return bool(status["disabled"])


def test_two_quick_failures_do_not_lock_out_the_right_password(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, admin: Any
) -> None:
    """Back to back, as a typo and a retry (or a stranger's two guesses) come: the owner still gets in."""
    entry = make_account(Tier.ENTRY)
    client = rp_client(platform, definitions, "seminar")
    browser = new_browser(platform)
    for _ in range(2):
        assert browser.login(client, entry.username, "not-the-password").tokens is None
    assert not _locked(admin, admin.get_user_id(entry.username))
    assert new_browser(platform).login(client, entry.username, entry.password).ok


def test_failures_below_the_failure_factor_do_not_lock(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, admin: Any
) -> None:
    entry = make_account(Tier.ENTRY)
    client = rp_client(platform, definitions, "seminar")
    for _ in range(definitions.realm.brute_force.failure_factor - 1):
        assert new_browser(platform).login(client, entry.username, "still-not-it").tokens is None
    assert not _locked(admin, admin.get_user_id(entry.username))
    assert new_browser(platform).login(client, entry.username, entry.password).ok


def test_live_realm_has_no_quick_login_lockout_and_no_permanent_lockout(admin: Any) -> None:
    realm = admin.connection.raw_get(f"admin/realms/{REALM}").json()
    assert realm["bruteForceProtected"] is True
    assert realm["quickLoginCheckMilliSeconds"] == 0
    assert realm["permanentLockout"] is False and realm["maxTemporaryLockouts"] == 0
    assert realm["failureFactor"] >= 10 and realm["maxFailureWaitSeconds"] <= 300


# --- password policy ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["blocklisted", "equal-to-email"])
def test_registration_refuses_common_passwords_and_the_email(
    platform: Settings, admin: Any, case: str
) -> None:
    email = f"hanako-{uuid.uuid4().hex[:10]}@example.test"
    password = BLOCKED_PASSWORD if case == "blocklisted" else email
    registration = register(platform, REALM, "seminar", password, email)
    username, response = registration.username, registration.response
    assert response.status_code == 200, "the form must come back with an error, not go on"
    assert "Invalid password" in html.unescape(response.text)
    assert admin.get_users({"username": username, "exact": True}) == []


def test_registration_with_a_good_password_still_creates_the_account(platform: Settings, admin: Any) -> None:
    registration = register(platform, REALM, "seminar", "quiet lantern over 7 rivers")
    username, response = registration.username, registration.response
    assert response.status_code == 302, response.text[:300]
    assert len(admin.get_users({"username": username, "exact": True})) == 1


@pytest.mark.parametrize("case", ["blocklisted", "equal-to-email"])
def test_admin_api_reset_refuses_common_passwords_and_the_email(
    make_account: MakeAccount, admin: Any, case: str
) -> None:
    account = make_account(Tier.ENTRY)
    user = admin.get_user(account.user_id)
    password = BLOCKED_PASSWORD if case == "blocklisted" else user["email"]
    response = admin.connection.raw_put(
        f"admin/realms/{REALM}/users/{account.user_id}/reset-password",
        data=json.dumps({"type": "password", "value": password, "temporary": False}),
    )
    assert response.status_code == 400, response.text
    good = admin.connection.raw_put(
        f"admin/realms/{REALM}/users/{account.user_id}/reset-password",
        data=json.dumps({"type": "password", "value": "quiet lantern over 7 rivers", "temporary": False}),
    )
    assert good.status_code == 204, good.text


# --- OPA's REST API ----------------------------------------------------------------------------------


DECISION = "/v1/data/bizid/access/decision"


@pytest.mark.parametrize("token", [None, opa_server.READ_TOKEN_SECRET, opa_server.DECIDE_TOKEN_SECRET])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("PUT", "/v1/policies/x"),
        ("DELETE", "/v1/policies/x"),
        ("PUT", "/v1/data/bizid/registry"),
        ("PATCH", "/v1/data/bizid/registry"),
        ("DELETE", "/v1/data"),
        ("POST", "/v1/query"),
        ("GET", "/v1/data/system"),
        ("GET", "/v1/config"),
    ],
)
def test_nobody_may_write_to_opa(platform: Settings, token: str | None, method: str, path: str) -> None:
    headers = _bearer(platform, token) if token else {}
    body = (
        "package x\n"
        if path.startswith("/v1/policies")
        else ('{"query": "data"}' if "query" in path else "{}")
    )
    if method == "PATCH":
        body = '[{"op": "add", "path": "/rps/evil", "value": {}}]'
    response = requests.request(method, f"{platform.opa_url}{path}", data=body, headers=headers, timeout=10)
    assert response.status_code in (401, 403), (method, path, token, response.status_code)


def test_a_query_without_the_token_is_refused(platform: Settings) -> None:
    for headers in ({}, {"Authorization": "Bearer not-the-token-at-all-0123"}):
        response = requests.post(
            f"{platform.opa_url}{DECISION}", json={"input": {}}, headers=headers, timeout=10
        )
        assert response.status_code == 401


def test_keycloaks_token_may_only_ask_decisions(platform: Settings) -> None:
    headers = _bearer(platform, opa_server.DECIDE_TOKEN_SECRET)
    allowed = requests.post(f"{platform.opa_url}{DECISION}", json={"input": {}}, headers=headers, timeout=10)
    assert allowed.status_code == 200 and allowed.json()["result"]["allow"] is False
    for path in ("/v1/data/bizid/registry", "/v1/policies", "/v1/data/bizid/access"):
        assert requests.get(f"{platform.opa_url}{path}", headers=headers, timeout=10).status_code == 401


def test_keycloaks_decisions_still_work_with_authorization_on(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    """Allowed and refused both come from OPA: Keycloak presents its token (a refused query would fail
    closed and refuse the seminar sign-in too)."""
    entry = make_account(Tier.ENTRY)
    assert (
        new_browser(platform)
        .login(rp_client(platform, definitions, "seminar"), entry.username, entry.password)
        .ok
    )
    refused = new_browser(platform).login(
        rp_client(platform, definitions, "jgrants"), entry.username, entry.password
    )
    assert refused.error == "access_denied" and "tier_not_accepted" in (refused.error_description or "")


# --- the decision log --------------------------------------------------------------------------------


def _decision_events(platform: Settings) -> list[dict[str, Any]]:
    events = []
    for line in (platform.paths.logs / "opa.log").read_text(errors="replace").splitlines():
        if '"Decision Log"' in line:
            events.append(json.loads(line))
    return events


def test_decision_log_keeps_ids_and_reasons_but_no_personal_data(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    entry = make_account(Tier.ENTRY, corporate_name="Secret Trading K.K.", phone_number="+81355501234")
    new_browser(platform).login(rp_client(platform, definitions, "seminar"), entry.username, entry.password)
    new_browser(platform).login(rp_client(platform, definitions, "jgrants"), entry.username, entry.password)
    mine = [
        e
        for e in _decision_events(platform)
        if ((e.get("input") or {}).get("account") or {}).get("id") == entry.user_id
    ]
    assert {e["path"] for e in mine} >= {"bizid/access/decision", "bizid/release/decision"}
    for event in mine:
        assert event["decision_id"] and event["input"]["decision_id"]
        assert event["input"]["account"]["tier"] == "entry"
        text = json.dumps(event, ensure_ascii=False)
        for personal in (entry.username, "Secret Trading", "+81355501234", "example.test"):
            assert personal not in text, (personal, event["path"])
    refusals = [e for e in mine if e["path"] == "bizid/access/decision" and not e["result"]["allow"]]
    assert refusals and all(
        "tier_not_accepted" in {r["code"] for r in e["result"]["reasons"]} for e in refusals
    )
    released = [e for e in mine if e["path"] == "bizid/release/decision"]
    assert all(isinstance(e["result"]["claims"], list) for e in released), "claim names only, no values"


def test_log_folder_and_files_are_private(platform: Settings) -> None:
    logs = platform.paths.logs
    assert stat.S_IMODE(logs.stat().st_mode) == 0o700
    files = [p for p in logs.iterdir() if p.is_file()]
    assert {"opa.log", "keycloak.log"} <= {p.name for p in files}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
