"""An Admin REST API client for the local platform (admin credentials exist only for the local platform)."""

from __future__ import annotations

from keycloak import KeycloakAdmin, KeycloakOpenIDConnection

from scripts.settings import REALM, Settings


def admin_client(settings: Settings, realm: str = REALM) -> KeycloakAdmin:
    """A KeycloakAdmin logged in as the local bootstrap admin, working on `realm`, verifying the local CA."""
    connection = KeycloakOpenIDConnection(
        server_url=settings.keycloak_url,
        username=settings.admin_username,
        password=settings.secret("admin-password"),
        realm_name=realm,
        user_realm_name="master",
        client_id="admin-cli",
        verify=str(settings.paths.ca_cert),
    )
    return KeycloakAdmin(connection=connection)
