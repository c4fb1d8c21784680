"""`bizid realm plan|apply|drift --target` against a second, fresh local platform standing in for a deployed
one (its own state folder and database, ports shifted by STAND_IN_OFFSET), reached only as the
service-account client `bizid-realm-admin` of its master realm (issue 11 §3).

The stand-in's bootstrap admin is used once, by `bizid realm bootstrap`, and then disabled, as
docs/infra.md ("Day one") tells a platform engineer to; everything after that signs in with client
credentials whose secret comes from an environment variable (a deployed target reads it from AWS Secrets
Manager: that path is tested in tests/test_targets.py). The stand-in is started by this module on an empty
database and stopped at its end.
"""

from __future__ import annotations

import contextlib
import io
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
import yaml

from realm import loader, service_account
from realm.admin_api import AdminApi
from realm.reconcile import connect
from realm.target import PasswordLogin, ServiceAccountLogin, Target
from scripts import cli, services, settings
from scripts.settings import Settings
from scripts.targets import BOOTSTRAP_PASSWORD_ENV, BOOTSTRAP_USERNAME_ENV

pytestmark = pytest.mark.platform

STAND_IN_OFFSET_ENV = "BIZID_STAND_IN_PORT_OFFSET"


def stand_in_offset() -> int:
    """The stand-in's port offset: BIZID_STAND_IN_PORT_OFFSET, else this checkout's BIZID_PORT_OFFSET + 50
    (clones spaced 100 apart keep their stand-ins apart too)."""
    own = int(os.environ.get("BIZID_PORT_OFFSET", "0"))
    return int(os.environ.get(STAND_IN_OFFSET_ENV, str(own + 50)))


TARGET = "stand-in"
SECRET_ENV = "BIZID_STAND_IN_REALM_ADMIN_SECRET"
REALM = "bizid"


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def stand_in() -> Iterator[Settings]:
    """A second local platform on an empty database: Keycloak creates its bootstrap admin at first start."""
    own = settings.load()
    cfg = settings.for_platform(own.paths.state / "stand-in", stand_in_offset())
    services.stop_all(cfg)  # left over from an interrupted run
    shutil.rmtree(cfg.paths.pgdata.parent, ignore_errors=True)
    shutil.rmtree(cfg.paths.secrets, ignore_errors=True)
    try:
        services.start_all(cfg)
        yield cfg
    finally:
        services.stop_all(cfg)


@pytest.fixture(scope="module")
def sa_secret(monkeypatch_module: pytest.MonkeyPatch) -> str:
    value = secrets.token_urlsafe(32)
    monkeypatch_module.setenv(SECRET_ENV, value)
    return value


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def _target_file(stand_in: Settings, rp_secrets: Path, **changes: Any) -> dict[str, Any]:
    defs = loader.load()
    body: dict[str, Any] = {
        "keycloak_url": stand_in.keycloak_url,
        "ca_cert": str(stand_in.paths.ca_cert),
        "opa_url": stand_in.opa_url,
        "service_account": {"client_id": "bizid-realm-admin", "secret": {"env": SECRET_ENV}},
        "client_secrets": {"files": str(rp_secrets)},
        "smtp": {"host": "127.0.0.1", "port": stand_in.ports.mail_smtp},  # the stand-in's own Mailpit
        "rps": {
            rp.client_id: {"redirect_uris": [f"https://{rp.client_id}.stand-in.example/callback"]}
            for rp in defs.rps
        },
    }
    body.update(changes)
    return body


@pytest.fixture(scope="module")
def definitions_dir(tmp_path_factory: pytest.TempPathFactory, stand_in: Settings) -> Path:
    """The one set of definitions with a target file for the stand-in (as dev.yaml is for the dev stack)."""
    directory = tmp_path_factory.mktemp("target") / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    rp_secrets = directory.parent / "rp-secrets"
    (directory / "targets" / f"{TARGET}.yaml").write_text(yaml.safe_dump(_target_file(stand_in, rp_secrets)))
    return directory


def _bootstrap_admin(stand_in: Settings) -> Target:
    return Target(
        keycloak_url=stand_in.keycloak_url,
        login=PasswordLogin(stand_in.admin_username, stand_in.secret("admin-password")),
        ca_cert=stand_in.paths.ca_cert,
        opa_url=stand_in.opa_url,
    )


def _service_account(stand_in: Settings, secret: str) -> AdminApi:
    return connect(
        Target(
            keycloak_url=stand_in.keycloak_url,
            login=ServiceAccountLogin("bizid-realm-admin", secret),
            ca_cert=stand_in.paths.ca_cert,
            opa_url=stand_in.opa_url,
        )
    )


def _admin_events(api: AdminApi) -> int:
    events = api.get(f"/admin/realms/{REALM}/admin-events", max="10000") or []
    return len(events)


def test_a_target_without_its_service_account_is_refused(
    stand_in: Settings, definitions_dir: Path, sa_secret: str
) -> None:
    """Before the bootstrap, plan fails on the service account's login: it never falls back to an admin."""
    code, out, err = _run("realm", "plan", "--target", TARGET, "--definitions", str(definitions_dir))
    assert code == 2, (out, err)
    assert "refused the login of service account bizid-realm-admin" in err, err


def test_bootstrap_creates_the_service_account_with_least_roles(
    stand_in: Settings, definitions_dir: Path, sa_secret: str, monkeypatch_module: pytest.MonkeyPatch
) -> None:
    monkeypatch_module.setenv(BOOTSTRAP_USERNAME_ENV, stand_in.admin_username)
    monkeypatch_module.setenv(BOOTSTRAP_PASSWORD_ENV, stand_in.secret("admin-password"))
    code, out, err = _run("realm", "bootstrap", "--target", TARGET, "--definitions", str(definitions_dir))
    assert code == 0, (out, err)
    code, out, err = _run("realm", "bootstrap", "--target", TARGET, "--definitions", str(definitions_dir))
    assert code == 0 and "0 Admin API writes" in out, (out, err)

    admin = connect(_bootstrap_admin(stand_in))
    (client,) = admin.get("/admin/realms/master/clients", clientId="bizid-realm-admin")
    assert client["serviceAccountsEnabled"] and not client["publicClient"]
    assert not (client["standardFlowEnabled"] or client["directAccessGrantsEnabled"])
    assert not client["implicitFlowEnabled"] and client["redirectUris"] == []
    user = admin.get(f"/admin/realms/master/clients/{client['id']}/service-account-user")
    mappings = admin.get(f"/admin/realms/master/users/{user['id']}/role-mappings")
    assert not mappings.get("realmMappings"), mappings
    granted = {name: {r["name"] for r in m["mappings"]} for name, m in mappings["clientMappings"].items()}
    assert granted == {f"{REALM}-realm": set(service_account.REALM_ROLES)}
    # The bizid realm holds no client-credentials client: the service account lives in master.
    assert not admin.get(f"/admin/realms/{REALM}/clients", clientId="bizid-realm-admin")

    # Day one, after the bootstrap: the bootstrap admin is disabled; from here on only the service account.
    users = admin.get("/admin/realms/master/users", username=stand_in.admin_username, exact="true")
    admin.put(f"/admin/realms/master/users/{users[0]['id']}", {**users[0], "enabled": False})
    token = requests.post(
        f"{stand_in.keycloak_url}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": stand_in.admin_username,
            "password": stand_in.secret("admin-password"),
        },
        verify=str(stand_in.paths.ca_cert),
        timeout=30,
    )
    assert token.status_code in (400, 401), token.text


def test_plan_apply_drift_through_the_service_account(
    stand_in: Settings, definitions_dir: Path, sa_secret: str
) -> None:
    args = ("--target", TARGET, "--definitions", str(definitions_dir))
    code, out, err = _run("realm", "plan", *args)
    assert code == 0 and "create client jgrants" in out, (out, err)
    code, out, err = _run("realm", "drift", *args)
    assert code == 1 and "DRIFT" in out, (out, err)
    code, out, err = _run("realm", "apply", *args)
    assert code == 0, (out, err)
    assert "OPA's data travels in the signed bundle" in out
    code, out, err = _run("realm", "apply", *args)
    assert code == 0 and "0 Admin API writes" in out, (out, err)
    code, out, err = _run("realm", "drift", *args)
    assert code == 0 and "no drift" in out, (out, err)

    api = _service_account(stand_in, sa_secret)
    clients = {c["clientId"]: c for c in api.get(f"/admin/realms/{REALM}/clients")}
    assert clients["jgrants"]["redirectUris"] == ["https://jgrants.stand-in.example/callback"]
    # The RP's secret went to the target's store, and nowhere near this checkout's own platform.
    kept = (definitions_dir.parent / "rp-secrets" / "clients" / "jgrants").read_text().strip()
    live = api.get(f"/admin/realms/{REALM}/clients/{clients['jgrants']['id']}/client-secret")["value"]
    assert kept == live
    # The flows call the target's OPA, not this checkout's.
    rows = api.get(f"/admin/realms/{REALM}/authentication/flows/{quote('bizid-browser')}/executions")
    urls = set()
    for row in rows:
        if row.get("authenticationConfig"):
            config = api.get(f"/admin/realms/{REALM}/authentication/config/{row['authenticationConfig']}")
            if "opaUrl" in config.get("config", {}):
                urls.add(config["config"]["opaUrl"])
    assert urls == {stand_in.opa_url}, urls
    # The realm sends mail through the target's server (its `smtp`), not realm.yaml's default.
    smtp = api.get(f"/admin/realms/{REALM}")["smtpServer"]
    assert (smtp["host"], smtp["port"]) == ("127.0.0.1", str(stand_in.ports.mail_smtp))


def test_a_hand_change_is_drift_and_apply_repairs_it(
    stand_in: Settings, definitions_dir: Path, sa_secret: str
) -> None:
    api = _service_account(stand_in, sa_secret)
    (seminar,) = api.get(f"/admin/realms/{REALM}/clients", clientId="seminar")
    api.put(f"/admin/realms/{REALM}/clients/{seminar['id']}", {**seminar, "directAccessGrantsEnabled": True})
    args = ("--target", TARGET, "--definitions", str(definitions_dir))
    code, out, _ = _run("realm", "drift", *args)
    assert code == 1 and "seminar" in out and "directAccessGrantsEnabled" in out, out
    code, out, _ = _run("realm", "apply", *args)
    assert code == 0
    code, out, _ = _run("realm", "drift", *args)
    assert code == 0, out


def test_a_refused_apply_writes_nothing(stand_in: Settings, definitions_dir: Path, sa_secret: str) -> None:
    """A bad overlay (an RP's redirect URI over plain http to a public host) exits 2 naming the file, the
    field and the value, before any request: the live realm keeps every admin event count and setting."""
    api = _service_account(stand_in, sa_secret)
    before_events = _admin_events(api)
    before = api.get(f"/admin/realms/{REALM}/clients", clientId="jgrants")[0]["redirectUris"]
    target_file = definitions_dir / "targets" / f"{TARGET}.yaml"
    good = target_file.read_text()
    body = yaml.safe_load(good)
    body["rps"]["jgrants"]["redirect_uris"] = ["http://jgrants.stand-in.example/callback"]
    target_file.write_text(yaml.safe_dump(body))
    try:
        code, out, err = _run("realm", "apply", "--target", TARGET, "--definitions", str(definitions_dir))
    finally:
        target_file.write_text(good)
    assert code == 2, (out, err)
    assert str(target_file) in err and "rps.jgrants.redirect_uris" in err, err
    assert "http://jgrants.stand-in.example/callback" in err and "Traceback" not in err
    assert _admin_events(api) == before_events
    assert api.get(f"/admin/realms/{REALM}/clients", clientId="jgrants")[0]["redirectUris"] == before
    code, out, _ = _run("realm", "drift", "--target", TARGET, "--definitions", str(definitions_dir))
    assert code == 0, out


def test_the_service_account_holds_no_more_than_the_realm_roles(stand_in: Settings, sa_secret: str) -> None:
    """No accounts, no other realm, no new realm: a leaked reconciler secret cannot read a person's data."""
    api = _service_account(stand_in, sa_secret)
    for method, path in (
        ("get", f"/admin/realms/{REALM}/users"),
        ("get", "/admin/realms/master/clients"),
        ("get", "/admin/realms/master/users"),
    ):
        response = getattr(api._c, f"raw_{method}")(path)
        assert response.status_code == 403, (path, response.status_code)
    response = api._c.raw_post("/admin/realms", data='{"realm": "stolen", "enabled": true}')
    assert response.status_code == 403, response.status_code


def test_the_local_platform_registers_redirect_uris_on_its_rp_port(platform: Settings) -> None:
    """`--target local` (the default): the RPs' loopback redirect URIs follow BIZID_PORT_OFFSET."""
    api = connect(platform.target())
    clients = {c["clientId"]: c for c in api.get(f"/admin/realms/{REALM}/clients")}
    for rp in loader.load().rps:
        expected = [str(u).replace(":18900/", f":{platform.ports.rp}/") for u in rp.redirect_uris]
        assert clients[rp.client_id]["redirectUris"] == sorted(expected), rp.client_id
