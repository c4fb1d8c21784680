"""The Keycloak Admin REST API client: python-keycloak's `KeycloakAdmin`, logged in on a `Target`."""

from __future__ import annotations

from typing import Any

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from realm.target import PasswordLogin, Target


def admin_client(target: Target, realm: str | None = None) -> KeycloakAdmin:
    """A KeycloakAdmin logged in on the target (its bootstrap admin's password, or its service-account
    client's credentials), working on `realm` (default: the target's realm), verifying TLS with the
    target's CA."""
    login = target.login
    verify = str(target.ca_cert) if target.ca_cert is not None else True
    if isinstance(login, PasswordLogin):
        connection = KeycloakOpenIDConnection(
            server_url=target.keycloak_url,
            username=login.username,
            password=login.password,
            realm_name=realm or target.realm,
            user_realm_name=target.admin_realm,
            client_id=login.client_id,
            verify=verify,
        )
    else:
        connection = KeycloakOpenIDConnection(
            server_url=target.keycloak_url,
            realm_name=realm or target.realm,
            user_realm_name=target.admin_realm,
            client_id=login.client_id,
            client_secret_key=login.secret,
            grant_type="client_credentials",
            verify=verify,
        )
    return KeycloakAdmin(connection=connection)


def user_attribute(user: dict[str, Any], name: str) -> str | None:
    """The first value of a user attribute in an Admin API user representation; None when absent
    (also when Keycloak sends `attributes: null`)."""
    values = (user.get("attributes") or {}).get(name) or []
    return str(values[0]) if values else None
