"""The Keycloak Admin REST API client: python-keycloak's `KeycloakAdmin`, logged in on a `Target`."""

from __future__ import annotations

from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from realm.target import Target


def admin_client(target: Target, realm: str | None = None) -> KeycloakAdmin:
    """A KeycloakAdmin logged in as the target's administrator, working on `realm` (default: the
    target's realm), verifying TLS with the target's CA."""
    connection = KeycloakOpenIDConnection(
        server_url=target.keycloak_url,
        username=target.admin_username,
        password=target.admin_password,
        realm_name=realm or target.realm,
        user_realm_name=target.admin_realm,
        client_id=target.admin_client_id,
        verify=str(target.ca_cert) if target.ca_cert is not None else True,
    )
    return KeycloakAdmin(connection=connection)


def user_attribute(user: dict[str, Any], name: str) -> str | None:
    """The first value of a user attribute in an Admin API user representation; None when absent
    (also when Keycloak sends `attributes: null`)."""
    values = (user.get("attributes") or {}).get(name) or []
    return str(values[0]) if values else None
