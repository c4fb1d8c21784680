"""What the internal admin path relies on in Keycloak 26's hostname v2, shown on the real local Keycloak.

On AWS Keycloak runs with `KC_HOSTNAME=https://<public name>` and the reminders job calls it as
`https://admin.<public name>` through the internal ALB (infra/components/admin_path.py), with no other
hostname option (`hostname-admin` concerns the admin console only, which the path does not serve;
`hostname-backchannel-dynamic` only changes the URLs discovery advertises, which python-keycloak does not
read). The local platform has the same shape: `KC_HOSTNAME=https://127.0.0.1:<port>`, and the same listener
also answers as `https://localhost:<port>` (its certificate names both), a second name as the internal one is.

So, with a client-credentials client of the master realm like the job's (`bizid-operator`'s roles): a token
got through the second name carries the issuer of `KC_HOSTNAME`, not the name asked; the Admin API accepts it
through either name; the Admin API still refuses what the client's roles do not cover (the real guard behind
the ALB's path rules).
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from realm import operator_account
from realm.admin import admin_client
from realm.platform import LOOPBACK
from realm.reconcile import connect
from realm.target import ServiceAccountLogin, Target
from scripts.settings import Settings

pytestmark = pytest.mark.platform

CLIENT = "bizid-admin-path-probe"
REALM = "bizid"


@pytest.fixture(scope="module")
def probe_secret(platform: Settings) -> Iterator[str]:
    """A master-realm client-credentials client with the operator account's roles, removed afterwards."""
    api = connect(platform.target())
    secret = secrets.token_urlsafe(32)
    operator_account.bootstrap(api, REALM, CLIENT, secret)
    yield secret
    for client in api.get("/admin/realms/master/clients", clientId=CLIENT):
        api.delete(f"/admin/realms/master/clients/{client['id']}")


def _other_name(platform: Settings) -> str:
    """The platform's URL under its second name: what `admin.<hostname>` is on AWS."""
    assert f"//{LOOPBACK}:" in platform.keycloak_url
    return platform.keycloak_url.replace(f"//{LOOPBACK}:", "//localhost:")


def _token(platform: Settings, base: str, secret: str) -> str:
    response = requests.post(
        f"{base}/realms/master/protocol/openid-connect/token",
        data={"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": secret},
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def _claims(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


def _admin_get(platform: Settings, base: str, token: str, path: str) -> requests.Response:
    return requests.get(
        f"{base}{path}",
        headers={"Authorization": f"Bearer {token}"},
        params={"max": 1},
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )


def test_the_issuer_is_the_configured_hostname_whatever_name_was_asked(
    platform: Settings, probe_secret: str
) -> None:
    public, internal = platform.keycloak_url, _other_name(platform)
    for base in (public, internal):
        assert _claims(_token(platform, base, probe_secret))["iss"] == f"{public}/realms/master"
    # Discovery through the second name names the configured one too (no hostname-backchannel-dynamic).
    discovery = requests.get(
        f"{internal}/realms/master/.well-known/openid-configuration",
        verify=str(platform.paths.ca_cert),
        timeout=30,
    ).json()
    assert discovery["issuer"] == f"{public}/realms/master"
    assert discovery["token_endpoint"].startswith(public)


def test_a_token_got_through_one_name_is_accepted_by_the_admin_api_on_the_other(
    platform: Settings, probe_secret: str
) -> None:
    public, internal = platform.keycloak_url, _other_name(platform)
    for got_at, used_at in ((internal, public), (public, internal), (internal, internal)):
        token = _token(platform, got_at, probe_secret)
        response = _admin_get(platform, used_at, token, f"/admin/realms/{REALM}/users")
        assert response.status_code == 200, (got_at, used_at, response.status_code, response.text[:200])
        assert isinstance(response.json(), list)


def test_the_admin_api_still_refuses_what_the_roles_do_not_cover(
    platform: Settings, probe_secret: str
) -> None:
    internal = _other_name(platform)
    token = _token(platform, internal, probe_secret)
    assert _admin_get(platform, internal, token, "/admin/realms/master/users").status_code == 403
    assert _admin_get(platform, internal, token, f"/admin/realms/{REALM}/clients").status_code == 403


def test_the_jobs_admin_client_works_at_the_second_name(platform: Settings, probe_secret: str) -> None:
    """What `--target <env>` does with `admin_url`: python-keycloak's KeycloakAdmin at that URL."""
    target = Target(
        keycloak_url=_other_name(platform),
        login=ServiceAccountLogin(CLIENT, probe_secret),
        ca_cert=platform.paths.ca_cert,
        opa_url=platform.opa_url,
    )
    users = admin_client(target).get_users({"max": 1})
    assert isinstance(users, list)
