"""The stock baseline realm of the load benchmark: plain Keycloak beside bizid, on the same server.

`bench-stock` is a realm created with Keycloak's defaults (its built-in browser flow with conditional OTP,
default client scopes and mappers, no bizid authenticator, no OPA, no custom mapper, brute-force
protection at Keycloak's default: off) and one change: the password policy hashes with the same Argon2
parameters as the bizid realm (realm/definitions/realm.yaml). It gets the same accounts as the bizid realm
(`loadtests.seed` with this realm and an id prefix of its own: same usernames, passwords, enrolled TOTP
for Prime and Member) and one client per bizid RP of the journey, of the same type, redirect URI and PKCE,
so a visit has the same shape in both realms (authorization code + PKCE through the login form, TOTP for
the accounts that have it, userinfo, refresh, SSO at a second client, logout).

Why it cannot weaken bizid's promise: it is a separate realm (its own issuer, keys, clients and users), so
no client in it can obtain a token of the bizid realm, and a bizid RP refuses its tokens (wrong `iss`, wrong
keys). It exists only on the local platform: `check_local` refuses any target that is not the loopback
platform signed in as its local bootstrap admin (every deployed target signs in with a service account),
before anything is created, and the benchmark removes it when it ends (`remove`, also `bizid load
baseline --remove-stock` after a crash).
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from typing import Any

from loadtests import seed
from loadtests.journey import FIRST_RP, SECOND_RP, NotLoopback, RealmProfile, assert_loopback
from realm import admin_paths as ap
from realm import loader
from realm.models import Definitions
from realm.oidc.browser_flow import Client
from realm.target import PasswordLogin, Target
from scripts.settings import REALM, Settings

STOCK_REALM = "bench-stock"
STOCK_ID_PREFIX = "57ac"
"""Row ids of the accounts seeded into the stock realm start with this (the bizid realm's: `10ad`)."""
CLIENT_PREFIX = "bench-stock-"
SECRETS_FILE = "bench-stock-clients.json"
"""Secrets of the stock realm's confidential clients (local secrets folder, mode 0600, removed with it)."""
JOURNEY_RPS = sorted({*FIRST_RP.values(), *(rp for rp in SECOND_RP.values() if rp)})


class StockRealmRefused(RuntimeError):
    """The stock realm may exist on the local loopback platform only."""


def check_local(target: Target) -> None:
    """Refuse anything but the local platform: loopback Keycloak and the local bootstrap admin's login."""
    if target.realm != REALM:
        raise StockRealmRefused(f"target realm {target.realm!r}: the baseline runs beside {REALM!r} only")
    if not isinstance(target.login, PasswordLogin):
        raise StockRealmRefused(
            f"{target.keycloak_url}: signs in with a service account, i.e. a deployed target; the stock"
            f" realm {STOCK_REALM!r} is created on the local platform only"
        )
    try:
        assert_loopback(target.keycloak_url)
    except NotLoopback as exc:
        raise StockRealmRefused(f"the stock realm {STOCK_REALM!r} is local only: {exc}") from None


def password_policy(defs: Definitions) -> str:
    """The bizid realm's hash parameters and nothing else of its password policy (the other rules apply
    when a password is set, never at a sign-in)."""
    p = defs.realm.password
    return f"hashAlgorithm({p.hash_algorithm}) and hashIterations({p.hash_iterations})"


def client_id(rp: str) -> str:
    return f"{CLIENT_PREFIX}{rp}"


def representation(defs: Definitions, client_secrets: dict[str, str]) -> dict[str, Any]:
    """The realm as created: Keycloak's defaults, the bizid hash parameters, one client per journey RP.
    `defs` must carry this platform's redirect URIs (Settings.definitions)."""
    clients = []
    for rp in defs.rps:
        if rp.client_id not in JOURNEY_RPS:
            continue
        confidential = rp.client_type == "confidential"
        client: dict[str, Any] = {
            "clientId": client_id(rp.client_id),
            "enabled": True,
            "protocol": "openid-connect",
            "publicClient": not confidential,
            "standardFlowEnabled": True,
            "directAccessGrantsEnabled": False,
            "implicitFlowEnabled": False,
            "serviceAccountsEnabled": False,
            "redirectUris": [str(u) for u in rp.redirect_uris],
            "attributes": {"pkce.code.challenge.method": "S256"},
        }
        if confidential:
            client["clientAuthenticatorType"] = "client-secret"
            client["secret"] = client_secrets[rp.client_id]
        clients.append(client)
    return {
        "realm": STOCK_REALM,
        "displayName": "Stock Keycloak baseline (load benchmark only)",
        "enabled": True,
        "passwordPolicy": password_policy(defs),
        "clients": clients,
    }


_path = ap.path


def _secrets_path(cfg: Settings) -> Any:
    return cfg.paths.secrets / SECRETS_FILE


def _admin(cfg: Settings) -> Any:
    from scripts.keycloak_admin import admin_client

    return admin_client(cfg, realm="master")


def exists(cfg: Settings) -> bool:
    check_local(cfg.target())
    response = _admin(cfg).connection.raw_get(_path(ap.REALM, realm=STOCK_REALM))
    return bool(response.status_code == 200)


def create(cfg: Settings) -> None:
    """Create the stock realm (replacing one a crashed run left behind) and keep its client secrets."""
    check_local(cfg.target())
    defs = cfg.definitions()
    if exists(cfg):
        remove(cfg)
    client_secrets = {
        rp.client_id: secrets.token_urlsafe(32)
        for rp in defs.rps
        if rp.client_id in JOURNEY_RPS and rp.client_type == "confidential"
    }
    path = _secrets_path(cfg)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(client_secrets, f)
    response = _admin(cfg).connection.raw_post(
        _path(ap.REALMS), data=json.dumps(representation(defs, client_secrets))
    )
    if response.status_code != 201:
        path.unlink(missing_ok=True)
        raise RuntimeError(f"creating realm {STOCK_REALM}: HTTP {response.status_code} {response.text[:300]}")


def remove(cfg: Settings) -> bool:
    """Delete the stock realm (its users, sessions and clients go with it) and its kept secrets; True if
    there was one."""
    check_local(cfg.target())
    response = _admin(cfg).connection.raw_delete(_path(ap.REALM, realm=STOCK_REALM))
    _secrets_path(cfg).unlink(missing_ok=True)
    if response.status_code not in (204, 404):
        raise RuntimeError(f"removing realm {STOCK_REALM}: HTTP {response.status_code} {response.text[:300]}")
    return bool(response.status_code == 204)


def seed_accounts(cfg: Settings, accounts: int, progress: bool = False) -> seed.SeedReport:
    """The bizid realm's accounts 0..accounts-1, seeded into the stock realm (same usernames, passwords,
    TOTP secrets, hash parameters; row ids of its own)."""
    check_local(cfg.target())
    return seed.seed(cfg, accounts, progress=progress, realm=STOCK_REALM, id_prefix=STOCK_ID_PREFIX)


@dataclass(frozen=True)
class StockTarget:
    """What a visit needs to sign in to the stock realm: clients under the bizid RP ids they stand in for,
    and the realm profile (issuer, user ids, no bizid acr rules)."""

    clients: dict[str, Client]
    profile: RealmProfile


def journey_target(cfg: Settings) -> StockTarget:
    defs = cfg.definitions()
    path = _secrets_path(cfg)
    if not path.exists():
        raise RuntimeError(
            f"no {path}: the stock realm {STOCK_REALM!r} has not been created (bizid load baseline)"
        )
    kept: dict[str, str] = json.loads(path.read_text())
    clients = {
        rp.client_id: Client(client_id(rp.client_id), str(rp.redirect_uris[0]), kept.get(rp.client_id))
        for rp in defs.rps
        if rp.client_id in JOURNEY_RPS
    }
    profile = RealmProfile(
        issuer=f"{cfg.keycloak_url}/realms/{STOCK_REALM}", id_prefix=STOCK_ID_PREFIX, check_acr=False
    )
    return StockTarget(clients, profile)


def differences_from_defaults(cfg: Settings) -> list[str]:
    """What the live stock realm has beyond Keycloak's defaults and the hash parameters (empty: as meant).
    Compared with a realm Keycloak creates from nothing but a name, on the same server."""
    check_local(cfg.target())
    admin = _admin(cfg)
    probe = f"{STOCK_REALM}-probe"
    admin.connection.raw_delete(_path(ap.REALM, realm=probe))
    created = admin.connection.raw_post(_path(ap.REALMS), data=json.dumps({"realm": probe, "enabled": True}))
    if created.status_code != 201:
        raise RuntimeError(f"creating {probe}: HTTP {created.status_code}")
    try:
        problems: list[str] = []
        stock = admin.connection.raw_get(_path(ap.REALM, realm=STOCK_REALM)).json()
        plain = admin.connection.raw_get(_path(ap.REALM, realm=probe)).json()
        want_policy = password_policy(loader.load())
        if stock.get("passwordPolicy") != want_policy:
            problems.append(f"passwordPolicy {stock.get('passwordPolicy')!r} != {want_policy!r}")
        for key in (
            "browserFlow", "directGrantFlow", "registrationFlow", "resetCredentialsFlow",
            "clientAuthenticationFlow", "firstBrokerLoginFlow", "bruteForceProtected", "otpPolicyType",
            "otpPolicyAlgorithm",
            "otpPolicyDigits", "otpPolicyPeriod", "otpPolicyLookAheadWindow", "defaultSignatureAlgorithm",
            "accessTokenLifespan", "ssoSessionIdleTimeout", "ssoSessionMaxLifespan", "eventsEnabled",
            "adminEventsEnabled", "eventsListeners", "requiredCredentials", "revokeRefreshToken",
        ):  # fmt: skip
            if stock.get(key) != plain.get(key):
                problems.append(f"{key}: {stock.get(key)!r}, Keycloak's default {plain.get(key)!r}")

        def flows(realm: str) -> dict[str, list[str]]:
            out = {}
            for flow in admin.connection.raw_get(_path(ap.FLOWS, realm=realm)).json():
                steps = admin.connection.raw_get(
                    _path(ap.FLOW_EXECUTIONS, realm=realm, flow_alias=flow["alias"])
                ).json()
                out[flow["alias"]] = [str(s.get("providerId") or s.get("displayName")) for s in steps]
            return out

        if flows(STOCK_REALM) != flows(probe):
            problems.append("authentication flows differ from Keycloak's defaults")
        for c in admin.connection.raw_get(_path(ap.CLIENTS, realm=STOCK_REALM)).json():
            if not str(c["clientId"]).startswith(CLIENT_PREFIX):
                continue
            mappers = [m.get("protocolMapper") for m in c.get("protocolMappers", [])]
            if mappers:
                problems.append(f"client {c['clientId']} has its own protocol mappers {mappers}")
            if c.get("authenticationFlowBindingOverrides"):
                problems.append(
                    f"client {c['clientId']} overrides flows {c['authenticationFlowBindingOverrides']}"
                )
        return problems
    finally:
        admin.connection.raw_delete(_path(ap.REALM, realm=probe))
