"""The reconciler's own login on a deployed target: a confidential service-account client, created once.

Where it lives, and why: the **master** realm, as `bizid-realm-admin`. The bizid realm promises that every
client and grant that yields a token passes the OPA access decision or is disabled
(tests/test_token_paths.py walks them all); a client-credentials client there would be a token path that
asks no policy. In master it yields only Admin API tokens, and holds only roles of the `bizid-realm` client
(master's handle on the bizid realm) — exactly `REALM_ROLES`: no master-realm role, no `create-realm`, no
user management, no impersonation, no identity providers. It cannot read or change an account.

Bootstrap (`bizid realm bootstrap --target <name>`, once per deployed platform, with the bootstrap
administrator Keycloak creates at its first start): creates the bizid realm (empty and disabled; the first
`realm apply` configures and enables it) so its `bizid-realm` client exists, then the service-account
client with the secret from the target's secret source, and gives its service-account user exactly
`REALM_ROLES` (its default master roles removed). Running it again changes nothing. Afterwards the
bootstrap administrator is disabled (docs/infra.md, "Day one"); every later plan, apply and drift signs in
as the service account.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from realm import admin_paths as paths
from realm.admin_api import AdminApi

MASTER = "master"

REALM_ROLES = (
    "view-realm",
    "manage-realm",
    "view-clients",
    "manage-clients",
    "view-events",
    "manage-events",
)
"""Roles of master's `<realm>-realm` client the reconciler needs, and no more: realm settings, flows, client
scopes, client policies and the user profile (manage-realm), the RPs and built-in clients (manage-clients),
the events configuration (manage-events); each view role to read what it plans against."""


def realm_client_id(realm: str) -> str:
    """Master's client that holds the admin roles of `realm` (Keycloak names it `<realm>-realm`)."""
    return f"{realm}-realm"


def client_representation(
    client_id: str,
    secret: str,
    roles: tuple[str, ...] = REALM_ROLES,
    name: str = "bizid realm reconciler",
    purpose: str = "bizid realm plan/apply/drift (realm/service_account.py)",
) -> dict[str, Any]:
    """Confidential, client credentials only: no browser flow, no password grant, no redirect URIs."""
    return {
        "clientId": client_id,
        "name": name,
        "description": f"{purpose}; roles: " + ", ".join(roles),
        "enabled": True,
        "protocol": "openid-connect",
        "publicClient": False,
        "clientAuthenticatorType": "client-secret",
        "secret": secret,
        "serviceAccountsEnabled": True,
        "standardFlowEnabled": False,
        "implicitFlowEnabled": False,
        "directAccessGrantsEnabled": False,
        "redirectUris": [],
        "webOrigins": [],
        "attributes": {"oauth2.device.authorization.grant.enabled": "false", "bizid.managed": "true"},
    }


@dataclass(frozen=True)
class BootstrapResult:
    writes: int
    realm_created: bool
    client_created: bool


def _p(pattern: str, **values: str) -> str:
    return paths.path(pattern, **values)


def bootstrap(
    api: AdminApi,
    realm: str,
    client_id: str,
    secret: str,
    roles: tuple[str, ...] = REALM_ROLES,
    wanted: dict[str, Any] | None = None,
) -> BootstrapResult:
    """Make the service-account client exist in master with `secret` and exactly `roles` (default
    `REALM_ROLES`) of `<realm>-realm`. `api` is logged in as the bootstrap administrator. Idempotent (0
    writes the second time). `wanted`: the client's representation (default: the reconciler's)."""
    start = api.writes
    realm_created = api.get_or_none(_p(paths.REALM, realm=realm)) is None
    if realm_created:
        api.post(_p(paths.REALMS), {"realm": realm, "enabled": False})
    found = api.get(_p(paths.CLIENTS, realm=MASTER), clientId=client_id)
    wanted = wanted or client_representation(client_id, secret)
    if not found:
        api.post(_p(paths.CLIENTS, realm=MASTER), wanted)
        found = api.get(_p(paths.CLIENTS, realm=MASTER), clientId=client_id)
    client = found[0]
    client_created = api.writes - start > (1 if realm_created else 0)
    current_secret = api.get(_p(paths.CLIENT_SECRET, realm=MASTER, id=client["id"])).get("value")
    owned = {k: v for k, v in wanted.items() if k not in ("secret", "attributes", "description", "name")}
    if any(client.get(k) != v for k, v in owned.items()) or current_secret != secret:
        body = {
            **client,
            **wanted,
            "attributes": {**(client.get("attributes") or {}), **wanted["attributes"]},
        }
        api.put(_p(paths.CLIENT, realm=MASTER, id=client["id"]), body)
    user = api.get(_p(paths.CLIENT_SERVICE_ACCOUNT_USER, realm=MASTER, id=client["id"]))
    _only_realm_roles(api, user["id"], realm, roles)
    return BootstrapResult(api.writes - start, realm_created, client_created)


def _only_realm_roles(api: AdminApi, user_id: str, realm: str, wanted_roles: tuple[str, ...]) -> None:
    """The service-account user holds exactly `wanted_roles` of `<realm>-realm`, nothing of master itself."""
    realm_roles = api.get(_p(paths.USER_REALM_ROLE_MAPPINGS, realm=MASTER, user_id=user_id)) or []
    if realm_roles:  # default-roles-master (offline_access, uma_authorization, account roles): not needed
        api.delete_with_body(_p(paths.USER_REALM_ROLE_MAPPINGS, realm=MASTER, user_id=user_id), realm_roles)
    clients = {c["clientId"]: c for c in api.get(_p(paths.CLIENTS, realm=MASTER))}
    for name, other in sorted(clients.items()):
        if name == realm_client_id(realm):
            continue
        mapped = api.get(_p(paths.USER_CLIENT_ROLE_MAPPINGS, realm=MASTER, user_id=user_id, id=other["id"]))
        if mapped:
            api.delete_with_body(
                _p(paths.USER_CLIENT_ROLE_MAPPINGS, realm=MASTER, user_id=user_id, id=other["id"]), mapped
            )
    holder = clients[realm_client_id(realm)]
    roles = {r["name"]: r for r in api.get(_p(paths.CLIENT_ROLES, realm=MASTER, id=holder["id"]))}
    missing_roles = [r for r in wanted_roles if r not in roles]
    if missing_roles:
        raise ValueError(f"{realm_client_id(realm)} in master has no roles {missing_roles}")
    mapping = _p(paths.USER_CLIENT_ROLE_MAPPINGS, realm=MASTER, user_id=user_id, id=holder["id"])
    have = {r["name"]: r for r in api.get(mapping) or []}
    extra = [r for name, r in have.items() if name not in wanted_roles]
    if extra:
        api.delete_with_body(mapping, extra)
    add = [roles[name] for name in wanted_roles if name not in have]
    if add:
        api.post(mapping, add)
