"""An Admin REST API client for the local platform (admin credentials exist only for the local platform)."""

from __future__ import annotations

from keycloak import KeycloakAdmin

from realm import admin
from scripts.settings import REALM, Settings


def admin_client(settings: Settings, realm: str = REALM) -> KeycloakAdmin:
    """A KeycloakAdmin logged in as the local bootstrap admin, working on `realm`, verifying the local CA."""
    return admin.admin_client(settings.target(), realm=realm)
