"""Every path to a token in the LIVE realm ends in the OPA access decision or is refused (issue 10, §1).

Nothing here lists clients, grants or flows by hand: they are read from the Admin API, so a client, grant
or flow added later (by hand or by a definitions change) without the policy fails these tests. For every
enabled client, each grant Keycloak would let it use is tried for a suspended account and must be refused;
the flows bound to the realm, to a client (overrides) or to an identity provider must end in
`bizid-access` (phase complete) or deny everyone.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import pyotp
import pytest
import requests

from realm import reconcile
from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import Client, LoginResult
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client

pytestmark = pytest.mark.platform

USER_FLOW_BINDINGS_EXEMPT = {
    "clientAuthenticationFlow": "authenticates clients, not accounts: no client may use client credentials",
    "dockerAuthenticationFlow": "the docker protocol: no client of the realm speaks it",
}
"""Realm flow bindings that cannot end in an account's token, and why (each reason is asserted below)."""


@pytest.fixture(scope="module")
def api(platform: Settings) -> reconcile.AdminApi:
    return reconcile.connect(platform.target())


@pytest.fixture(scope="module")
def realm_name(definitions: Definitions) -> str:
    return definitions.realm.name


@pytest.fixture(scope="module")
def live_realm(api: reconcile.AdminApi, realm_name: str) -> dict[str, Any]:
    realm: dict[str, Any] = api.get(f"/admin/realms/{quote(realm_name)}")
    return realm


@pytest.fixture(scope="module")
def live_clients(api: reconcile.AdminApi, realm_name: str) -> list[dict[str, Any]]:
    clients: list[dict[str, Any]] = api.get(f"/admin/realms/{quote(realm_name)}/clients")
    return clients


@pytest.fixture(scope="module")
def enabled_clients(live_clients: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for c in live_clients if c.get("enabled")]


@pytest.fixture(scope="module")
def suspended(make_account: MakeAccount) -> Iterator[dict[str, CreatedAccount]]:
    prime = make_account(Tier.PRIME, "tp-prime")
    yield {
        "entry": make_account(Tier.ENTRY, "tp-susp-entry", status="suspended"),
        "prime": make_account(Tier.PRIME, "tp-susp-prime", status="suspended"),
        "member": make_account(
            Tier.MEMBER, "tp-susp-member", status="suspended", prime_username=prime.username
        ),
    }


def _flow_verdict(api: reconcile.AdminApi, realm: str, alias: str) -> str:
    """'access' when the flow's last top-level step is a REQUIRED bizid-access with phase complete (nothing
    after it, so every way through ends in the decision), 'deny' when a top-level REQUIRED step refuses
    everyone, else a description of what is wrong."""
    rows = api.get(f"/admin/realms/{quote(realm)}/authentication/flows/{quote(alias)}/executions")
    top = [r for r in rows if r["level"] == 0 and r.get("requirement") != "DISABLED"]
    if any(
        r.get("providerId") == "deny-access-authenticator" and r["requirement"] == "REQUIRED" for r in top
    ):
        return "deny"
    if not top:
        return f"flow {alias} has no enabled step"
    last = top[-1]
    if last.get("providerId") != "bizid-access" or last.get("requirement") != "REQUIRED":
        name = last.get("providerId") or last.get("displayName")
        return f"flow {alias} ends in {name} ({last['requirement']})"
    phase = "complete"
    if last.get("authenticationConfig"):
        cfg = api.get(f"/admin/realms/{quote(realm)}/authentication/config/{last['authenticationConfig']}")
        phase = (cfg.get("config") or {}).get("phase") or "complete"
    return "access" if phase == "complete" else f"flow {alias} ends in bizid-access with phase {phase}"


def _flows_by_id(api: reconcile.AdminApi, realm: str) -> dict[str, str]:
    return {f["id"]: f["alias"] for f in api.get(f"/admin/realms/{quote(realm)}/authentication/flows")}


def test_every_realm_flow_binding_ends_in_the_access_decision_or_denies(
    api: reconcile.AdminApi,
    realm_name: str,
    live_realm: dict[str, Any],
    enabled_clients: list[dict[str, Any]],
) -> None:
    bindings = {k: v for k, v in live_realm.items() if k.endswith("Flow") and isinstance(v, str)}
    assert {"browserFlow", "registrationFlow", "directGrantFlow", "resetCredentialsFlow"} <= bindings.keys()
    for binding, alias in sorted(bindings.items()):
        if binding in USER_FLOW_BINDINGS_EXEMPT:
            continue
        assert _flow_verdict(api, realm_name, alias) in ("access", "deny"), binding
    # The exemptions hold only while nothing can use them.
    assert not [c["clientId"] for c in enabled_clients if c.get("serviceAccountsEnabled")]
    assert not [c["clientId"] for c in enabled_clients if c.get("protocol") == "docker-v2"]


def test_every_client_and_identity_provider_flow_override_ends_in_the_decision_or_denies(
    api: reconcile.AdminApi, realm_name: str, live_clients: list[dict[str, Any]]
) -> None:
    flows = _flows_by_id(api, realm_name)
    for client in live_clients:
        for kind, flow_id in (client.get("authenticationFlowBindingOverrides") or {}).items():
            verdict = _flow_verdict(api, realm_name, flows[flow_id])
            assert verdict in ("access", "deny"), f"client {client['clientId']} {kind}: {verdict}"
    for idp in api.get(f"/admin/realms/{quote(realm_name)}/identity-provider/instances"):
        for key in ("firstBrokerLoginFlowAlias", "postBrokerLoginFlowAlias"):
            if idp.get(key) and idp.get("enabled"):
                verdict = _flow_verdict(api, realm_name, idp[key])
                assert verdict in ("access", "deny"), f"identity provider {idp['alias']} {key}: {verdict}"


def test_no_enabled_client_offers_a_grant_that_skips_the_browser_flow(
    enabled_clients: list[dict[str, Any]],
) -> None:
    """Implicit, password, client credentials, device, CIBA and token exchange are switched off."""
    for client in enabled_clients:
        attrs = client.get("attributes") or {}
        offered = {
            "implicit": client.get("implicitFlowEnabled"),
            "password": client.get("directAccessGrantsEnabled"),
            "client_credentials": client.get("serviceAccountsEnabled"),
            "device": attrs.get("oauth2.device.authorization.grant.enabled") == "true",
            "ciba": attrs.get("oidc.ciba.grant.enabled") == "true",
            "token_exchange": attrs.get("standard.token.exchange.enabled") == "true",
        }
        assert not [g for g, on in offered.items() if on], client["clientId"]


def _secret(platform: Settings, client_id: str) -> str | None:
    return platform.client_secrets().get(client_id)


def _token(platform: Settings, client_id: str, data: dict[str, str]) -> requests.Response:
    secret = _secret(platform, client_id)
    auth = (client_id, secret) if secret else None
    return requests.post(
        f"{platform.issuer}/protocol/openid-connect/token",
        data={"client_id": client_id, **data},
        auth=auth,
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )


def test_password_grant_is_refused_at_every_client(
    platform: Settings, enabled_clients: list[dict[str, Any]], suspended: dict[str, CreatedAccount]
) -> None:
    """The verified hole: admin-cli gave a suspended account a token through the password grant."""
    for client in enabled_clients:
        for account in suspended.values():
            data = {"grant_type": "password", "username": account.username, "password": account.password}
            if account.totp_secret:
                data["totp"] = pyotp.TOTP(account.totp_base32 or "").now()
            response = _token(platform, client["clientId"], {**data, "scope": "openid"})
            assert response.status_code != 200 and "access_token" not in response.text, (
                client["clientId"],
                account.username,
                response.text[:300],
            )


def test_client_credentials_device_and_ciba_are_refused_at_every_client(
    platform: Settings, enabled_clients: list[dict[str, Any]]
) -> None:
    base = f"{platform.issuer}/protocol/openid-connect"
    for client in enabled_clients:
        client_id = client["clientId"]
        response = _token(platform, client_id, {"grant_type": "client_credentials"})
        assert response.status_code != 200, (client_id, response.text[:300])
        secret = _secret(platform, client_id)
        auth = (client_id, secret) if secret else None
        device = requests.post(
            f"{base}/auth/device",
            data={"client_id": client_id, "scope": "openid"},
            auth=auth,
            verify=str(platform.paths.ca_cert),
            timeout=30,
        )
        assert device.status_code != 200 or "device_code" not in device.text, (client_id, device.text[:300])
        ciba = requests.post(
            f"{base}/ext/ciba/auth",
            data={"client_id": client_id, "scope": "openid", "login_hint": "anyone"},
            auth=auth,
            verify=str(platform.paths.ca_cert),
            timeout=30,
        )
        assert ciba.status_code != 200 or "auth_req_id" not in ciba.text, (client_id, ciba.text[:300])


def _browser_client(platform: Settings, client: dict[str, Any]) -> Client | None:
    """A redirect URI Keycloak accepts for the client (wildcards resolved under the client's base), if any."""
    uris = [u for u in client.get("redirectUris") or [] if u]
    if not uris:
        return None
    uri = uris[0]
    if uri.startswith("/"):
        uri = platform.issuer.split("/realms/")[0] + uri
    uri = uri.rstrip("*")
    return Client(
        client_id=client["clientId"], redirect_uri=uri, secret=_secret(platform, client["clientId"])
    )


def _sign_in(platform: Settings, client: Client, account: CreatedAccount) -> LoginResult:
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None
    return new_browser(platform).login(client, account.username, account.password, otp=otp)


def test_browser_sign_in_of_a_suspended_account_is_refused_at_every_client(
    platform: Settings,
    api: reconcile.AdminApi,
    realm_name: str,
    live_realm: dict[str, Any],
    enabled_clients: list[dict[str, Any]],
    suspended: dict[str, CreatedAccount],
) -> None:
    flows = _flows_by_id(api, realm_name)
    tried = 0
    for client in enabled_clients:
        if not (client.get("standardFlowEnabled") or client.get("implicitFlowEnabled")):
            continue
        override = (client.get("authenticationFlowBindingOverrides") or {}).get("browser")
        alias = flows[override] if override else live_realm["browserFlow"]
        assert _flow_verdict(api, realm_name, alias) in ("access", "deny"), client["clientId"]
        browser_client = _browser_client(platform, client)
        if browser_client is None:
            continue  # Keycloak accepts no redirect URI: no code can be delivered
        result = _sign_in(platform, browser_client, suspended["entry"])
        assert result.tokens is None and result.error == "access_denied", (client["clientId"], result)
        assert "account_suspended" in (result.error_description or ""), result
        tried += 1
    assert tried >= 2  # at least the account console and one RP were really tried


# --- the account console (a platform client) -------------------------------------------------------


def _account_console(platform: Settings, live_clients: list[dict[str, Any]]) -> Client:
    client = next(c for c in live_clients if c["clientId"] == "account-console")
    browser_client = _browser_client(platform, client)
    assert browser_client is not None
    return browser_client


@pytest.mark.parametrize("tier", [Tier.ENTRY, Tier.PRIME, Tier.MEMBER, Tier.PROVISIONAL_PRIME])
def test_every_tier_reaches_its_own_account_page(
    platform: Settings,
    live_clients: list[dict[str, Any]],
    make_account: MakeAccount,
    tier: Tier,
) -> None:
    """Issue 10: the account console refused every tier (unknown_rp). A provisional Prime valid only at
    it-subsidy still reaches its own account page."""
    fields: dict[str, Any] = {}
    if tier is Tier.MEMBER:
        fields["prime_username"] = make_account(Tier.PRIME, "tp-acct-prime").username
    if tier is Tier.PROVISIONAL_PRIME:
        fields["provisional_rps"] = ("it-subsidy",)
    account = make_account(tier, "tp-acct", **fields)
    result = _sign_in(platform, _account_console(platform, live_clients), account)
    assert result.tokens is not None, result
    assert result.otp_prompted == (tier is not Tier.ENTRY)
    me = requests.get(
        f"{platform.issuer}/account/",
        headers={"Authorization": f"Bearer {result.tokens['access_token']}", "Accept": "application/json"},
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )
    assert me.status_code == 200, me.text[:300]
    assert me.json()["username"] == account.username


def test_a_provisional_prime_is_still_refused_at_other_rps(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    account = make_account(Tier.PROVISIONAL_PRIME, "tp-prov", provisional_rps=("it-subsidy",))
    result = _sign_in(platform, rp_client(platform, definitions, "seminar"), account)
    assert result.error == "access_denied" and "provisional_rp_not_allowed" in (
        result.error_description or ""
    )


def test_every_refresh_at_every_client_passes_the_access_policy_again(
    api: reconcile.AdminApi, realm_name: str
) -> None:
    """The refresh grant does not run a flow: the client policy's executor asks OPA again (test_withdrawal.py
    proves it acts). It must apply to every client, so a client added later is covered too."""
    base = f"/admin/realms/{quote(realm_name)}/client-policies"
    profiles = {p["name"]: p for p in (api.get(f"{base}/profiles") or {}).get("profiles") or []}
    rechecking = {
        name
        for name, p in profiles.items()
        if any(e.get("executor") == "bizid-access-recheck" for e in p["executors"])
    }
    covering = [
        policy
        for policy in (api.get(f"{base}/policies") or {}).get("policies") or []
        if policy.get("enabled")
        and set(policy.get("profiles") or []) & rechecking
        and policy.get("conditions")
        and all(  # conditions are all required: any other one would narrow the policy
            c.get("condition") == "any-client" and not (c.get("configuration") or {}).get("is_negative_logic")
            for c in policy["conditions"]
        )
    ]
    assert covering, "no enabled client policy applies bizid-access-recheck to every client"
