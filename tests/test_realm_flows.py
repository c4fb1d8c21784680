"""The sign-in flow, release mapper and delegation wiring of the bizid realm, against the real platform.

Each test signs in through a real authorization-code + PKCE flow (realm.oidc.browser_flow) and compares what
the RP receives with what OPA decides for the same input, so a change in the Java extension's input (a field
missing, a scalar sent as a list) shows here as a difference, not as silently missing claims.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
import pytest
import requests

from realm.accounts import CreatedAccount
from realm.models import ACR_LOA, Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, LoginResult, decode_jwt_payload, parse_page
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, release_input, rp_client, submit_password

pytestmark = pytest.mark.platform

GRANTOR_COMPANY = {
    "corporate_number": "7000012050002",
    "corporate_name": "Yamada Trading K.K.",
    "representative_name": "Yamada Taro",
    "address": "Tokyo",
    "corporate_type": "corporation",
}
DELEGATE_COMPANY = {
    "corporate_number": "5010401089998",
    "corporate_name": "Tanaka Tax Office",
    "representative_name": "Tanaka Hanako",
    "address": "Osaka",
    "corporate_type": "corporation",
}

PROTOCOL_CLAIMS = frozenset(
    {
        "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "auth_time", "nonce", "acr", "amr", "azp", "sid",
        "typ", "at_hash", "c_hash", "s_hash", "session_state", "scope", "allowed-origins", "realm_access",
        "resource_access",
    }
)  # fmt: skip


def _otp(account: CreatedAccount) -> Callable[[], str] | None:
    return (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None


def _sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    browser: BrowserFlow | None = None,
    extra: dict[str, str] | None = None,
) -> LoginResult:
    scope = " ".join(["openid", *definitions.rp(rp).scopes])
    return (browser or new_browser(platform)).login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=_otp(account),
        scope=scope,
        extra=extra,
    )


def _user(admin: Any, username: str) -> dict[str, Any]:
    users = admin.get_users({"username": username, "exact": True})
    assert len(users) == 1
    return dict(users[0])


def _opa(platform: Settings, package: str, payload: dict[str, Any]) -> dict[str, Any]:
    response = requests.post(
        f"{platform.opa_url}/v1/data/bizid/{package}/decision",
        json={"input": payload},
        headers=platform.opa_read_headers(),
        timeout=5,
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()["result"]
    return result


def _released(claims: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in claims.items() if k not in PROTOCOL_CLAIMS}


@pytest.mark.parametrize(("tier", "rp"), [(Tier.ENTRY, "seminar"), (Tier.PRIME, "jgrants")])
def test_tokens_and_userinfo_carry_exactly_what_the_release_policy_decides(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    make_account: MakeAccount,
    tier: Tier,
    rp: str,
) -> None:
    account = make_account(
        tier, company=GRANTOR_COMPANY if tier is Tier.PRIME else None, phone_number="+81 3 1234 5678"
    )
    browser = new_browser(platform)
    result = _sign_in(platform, definitions, rp, account, browser)
    assert result.tokens is not None, result
    id_token = decode_jwt_payload(result.tokens["id_token"])
    access_token = decode_jwt_payload(result.tokens["access_token"])
    userinfo = browser.userinfo(result.tokens["access_token"])

    loa = ACR_LOA[id_token["acr"]]
    scopes = sorted({*access_token["scope"].split(), "basic", "acr"} - {"openid"})
    decision = _opa(
        platform, "release", release_input(admin, _user(admin, account.username), rp, loa, scopes)
    )
    expected = dict(decision["claims"])
    assert expected, decision  # something is released: the comparison is not vacuous
    assert "tier" in expected and "email" in expected
    if tier is Tier.PRIME:
        assert expected["corporate_number"] == GRANTOR_COMPANY["corporate_number"]
        assert "verified_claims" in expected
        # The company's registered address is `corporate_address`, a plain string: OIDC's own `address`
        # claim is a structured object (and Keycloak's userinfo endpoint fails on a string there).
        assert expected["corporate_address"] == GRANTOR_COMPANY["address"]
        assert "address" not in expected
    else:
        assert "verified_claims" not in expected
    assert _released(id_token) == expected
    # Released claims go to the RP (ID token, userinfo), never into the access token (docs/claims.md).
    assert not set(expected) & set(access_token), sorted(set(expected) & set(access_token))
    assert {k: v for k, v in userinfo.items() if k != "sub"} == expected
    # Single-valued attributes are released as strings, never as one-element lists.
    assert isinstance(id_token["tier"], str) and isinstance(id_token["email"], str)


def test_amr_lists_the_methods_used(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    entry = make_account(Tier.ENTRY)
    result = _sign_in(platform, definitions, "seminar", entry)
    assert result.tokens is not None, result
    assert decode_jwt_payload(result.tokens["id_token"])["amr"] == ["pwd"]

    prime = make_account(Tier.PRIME, company=GRANTOR_COMPANY)
    result = _sign_in(platform, definitions, "jgrants", prime)
    assert result.tokens is not None, result
    for token in ("id_token", "access_token"):
        assert sorted(decode_jwt_payload(result.tokens[token])["amr"]) == ["otp", "pwd"]


def test_a_prime_without_a_second_factor_is_asked_to_set_up_totp(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount
) -> None:
    """No TOTP and no WebAuthn enrolled: instead of a flow error, Keycloak shows the TOTP set-up page
    (CONFIGURE_TOTP); once a code from the new authenticator is confirmed the RP gets aal2 tokens."""
    prime = make_account(
        Tier.PRIME, company=GRANTOR_COMPANY
    )  # `accounts.create` always enrols TOTP for a Prime
    user_id = _user(admin, prime.username)["id"]
    for credential in admin.get_credentials(user_id):
        if credential["type"] != "password":
            admin.delete_credential(user_id, credential["id"])
    assert [c["type"] for c in admin.get_credentials(user_id)] == ["password"]
    client = rp_client(platform, definitions, "jgrants")
    step = submit_password(platform, client, prime.username, prime.password)
    session, page, verify = step.session, step.page, step.verify
    verifier = step.verifier
    assert page.status_code == 200, page.text[:300]
    setup = next((f for f in parse_page(page.text).forms if "totpSecret" in f.fields), None)
    assert setup is not None, f"no TOTP set-up page: {page.text[:500]}"
    assert "totp" in setup.fields

    secret = setup.fields["totpSecret"]
    code = pyotp.TOTP(base64.b32encode(secret.encode()).decode()).now()
    done = session.post(
        urljoin(page.url, setup.action),
        data={**setup.fields, "totp": code, "userLabel": "test phone"},
        verify=verify,
        allow_redirects=False,
    )
    assert done.status_code == 302, done.text[:500]
    location = done.headers["Location"]
    assert location.startswith(client.redirect_uri) and "code=" in location, location
    browser = BrowserFlow(session, platform.issuer, verify)
    code_param = parse_qs(urlsplit(location).query)["code"][0]
    tokens = browser.exchange(client, code_param, verifier)
    assert decode_jwt_payload(tokens["id_token"])["acr"] == "aal2"


# --- delegation -------------------------------------------------------------------------------------


def _set_attribute(admin: Any, username: str, name: str, values: list[str]) -> None:
    user = _user(admin, username)
    attributes = dict(user.get("attributes") or {})
    attributes[name] = values
    admin.update_user(user["id"], {**user, "attributes": attributes})


def _compact(record: dict[str, Any]) -> str:
    return json.dumps(record, separators=(",", ":"), sort_keys=True, ensure_ascii=False)


@pytest.fixture(scope="module")
def delegation_setup(admin: Any, make_account: MakeAccount) -> tuple[CreatedAccount, CreatedAccount, str]:
    """A Prime of Yamada Trading delegates `subsidy-report` at jgrants to a licensed tax accountant (a Prime
    of her own office). Returns (grantor, delegate, delegation id)."""
    grantor = make_account(Tier.PRIME, company=GRANTOR_COMPANY)
    delegate = make_account(Tier.PRIME, company=DELEGATE_COMPANY)
    delegation_id = f"dlg-{uuid.uuid4().hex[:8]}"
    now = dt.datetime.now(dt.UTC)
    record = {
        "id": delegation_id,
        "principal_corporate_number": GRANTOR_COMPANY["corporate_number"],
        "granted_by": grantor.username,
        "delegate_username": delegate.username,
        "rp": "jgrants",
        "procedures": ["subsidy-report"],
        "not_before": (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": (now + dt.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revoked": False,
    }
    other = {**record, "id": f"{delegation_id}-other", "procedures": ["subsidy-application"]}
    licence = {
        "kind": "zeirishi",
        "number": "123456",
        "holder_username": delegate.username,
        "not_after": None,
        "revoked": False,
    }
    _set_attribute(admin, delegate.username, "delegations", [_compact(other), _compact(record)])
    _set_attribute(admin, delegate.username, "licences", [_compact(licence)])
    stored = _user(admin, delegate.username)["attributes"]
    assert json.loads(stored["delegations"][1]) == record  # long JSON values survive (>255 characters)
    assert len(stored["delegations"][1]) > 255
    return grantor, delegate, delegation_id


def test_a_delegate_signs_in_under_a_delegation_and_the_rp_receives_it(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    delegation_setup: tuple[CreatedAccount, CreatedAccount, str],
) -> None:
    _, delegate, delegation_id = delegation_setup
    browser = new_browser(platform)
    result = _sign_in(
        platform,
        definitions,
        "jgrants",
        delegate,
        browser,
        extra={"delegation": delegation_id, "procedure": "subsidy-report"},
    )
    assert result.tokens is not None, result
    id_token = decode_jwt_payload(result.tokens["id_token"])
    claim = id_token.get("delegation")
    assert claim is not None, id_token
    assert claim["delegation_id"] == delegation_id
    assert claim["principal"] == {
        "corporate_number": GRANTOR_COMPANY["corporate_number"],
        "corporate_name": GRANTOR_COMPANY["corporate_name"],
    }
    assert [p["id"] for p in claim["procedures"]] == ["subsidy-report"]
    assert claim["procedures"][0]["licences"] == [{"kind": "zeirishi", "number": "123456"}]
    assert id_token.get("procedure") == "subsidy-report"  # the procedure named, judged covered
    assert "delegation" not in decode_jwt_payload(result.tokens["access_token"])  # docs/claims.md
    assert browser.userinfo(result.tokens["access_token"])["delegation"] == claim

    # The same browser signs in again at the same RP (SSO) without asking for a delegation: the delegation of
    # the earlier sign-in must not linger in the client session and reach the new tokens.
    plain = _sign_in(platform, definitions, "jgrants", delegate, browser)
    assert plain.tokens is not None, plain
    assert not {"delegation", "procedure"} & set(decode_jwt_payload(plain.tokens["id_token"]))
    assert "delegation" not in browser.userinfo(plain.tokens["access_token"])


def test_a_delegation_not_held_by_the_account_is_refused(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    delegation_setup: tuple[CreatedAccount, CreatedAccount, str],
) -> None:
    """The parameter only selects a record on the signed-in account: another account naming the same id (or
    any id it does not hold) is refused with access_denied, before any second factor is asked."""
    _, _, delegation_id = delegation_setup
    stranger = make_account(Tier.PRIME, company=DELEGATE_COMPANY)
    result = _sign_in(platform, definitions, "jgrants", stranger, extra={"delegation": delegation_id})
    assert result.tokens is None
    assert result.error == "access_denied", result
    assert "delegation_invalid" in (result.error_description or "")
    assert not result.otp_prompted


def test_a_suspended_grantor_stops_the_delegation_at_once(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    make_account: MakeAccount,
) -> None:
    """The grantor's *current* record is judged: suspend the Prime and its delegate is refused."""
    grantor = make_account(Tier.PRIME, company=GRANTOR_COMPANY)
    delegate = make_account(Tier.PRIME, company=DELEGATE_COMPANY)
    now = dt.datetime.now(dt.UTC)
    record = {
        "id": "dlg-suspended",
        "principal_corporate_number": GRANTOR_COMPANY["corporate_number"],
        "granted_by": grantor.username,
        "delegate_username": delegate.username,
        "rp": "jgrants",
        "procedures": ["subsidy-application"],
        "not_before": (now - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": (now + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "revoked": False,
    }
    _set_attribute(admin, delegate.username, "delegations", [_compact(record)])
    _set_attribute(admin, grantor.username, "account_status", ["suspended"])
    result = _sign_in(platform, definitions, "jgrants", delegate, extra={"delegation": "dlg-suspended"})
    assert result.error == "access_denied", result
    assert "grantor_inactive" in (result.error_description or "")
