"""The operator account on the real Keycloak, and the lifecycle commands through `--target` (issue 13).

A target file for a loopback stand-in of a deployed platform — this checkout's own platform, reached only
through the target file: its Keycloak URL and CA, secrets from environment variables (a deployed target reads
them from Secrets Manager: tests/test_targets.py), mail through its Mailpit as `smtp`, and the operator audit
trail in a real S3-compatible server on loopback (MinIO, tests/s3_server.py; AWS S3 cannot run here). The
one-time `bizid realm bootstrap` makes `bizid-operator` with the bootstrap admin; everything after that signs
in as the operator account, and Keycloak's admin events show it was that account that changed the user (not
the bootstrap admin, not the reconciler).
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from realm import loader, operator_account, service_account
from realm.admin_api import AdminApi
from realm.models import Tier
from realm.operator_audit_s3 import S3OperatorAuditTrail
from realm.reconcile import connect
from realm.target import ServiceAccountLogin, Target
from realm.targets import OperatorTrail
from scripts import cli_lifecycle
from scripts.settings import Settings
from scripts.targets import BOOTSTRAP_PASSWORD_ENV, BOOTSTRAP_USERNAME_ENV
from tests.conftest import MakeAccount
from tests.conftest import run_cli as run
from tests.s3_server import S3Server

pytestmark = pytest.mark.platform

TARGET = "operator-stand-in"
OPERATOR_SECRET_ENV = "BIZID_STAND_IN_OPERATOR_SECRET"
RECONCILER_SECRET_ENV = "BIZID_STAND_IN_RECONCILER_SECRET"
REALM = "bizid"
OPERATOR = "op.suzuki"
REGION = "ap-northeast-1"


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def operator_secret(monkeypatch_module: pytest.MonkeyPatch) -> str:
    value = secrets.token_urlsafe(32)
    monkeypatch_module.setenv(OPERATOR_SECRET_ENV, value)
    monkeypatch_module.setenv(RECONCILER_SECRET_ENV, secrets.token_urlsafe(32))
    return value


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server, monkeypatch_module: pytest.MonkeyPatch) -> str:
    """A locked bucket like the audit archive; the AWS chain of this process reaches the S3 server."""
    for name, value in s3_server.environ().items():
        monkeypatch_module.setenv(name, value)
    monkeypatch_module.delenv("AWS_PROFILE", raising=False)
    return s3_server.bucket(locked=True)


def _target_file(platform: Settings, rp_secrets: Path, trail: dict[str, Any]) -> dict[str, Any]:
    return {
        "keycloak_url": platform.keycloak_url,
        "ca_cert": str(platform.paths.ca_cert),
        "opa_url": platform.opa_url,
        "service_account": {"client_id": "bizid-realm-admin", "secret": {"env": RECONCILER_SECRET_ENV}},
        "operator_account": {"client_id": "bizid-operator", "secret": {"env": OPERATOR_SECRET_ENV}},
        "operator_trail": trail,
        "client_secrets": {"files": str(rp_secrets)},
        "smtp": {"host": "127.0.0.1", "port": platform.ports.mail_smtp},
        "rps": {
            rp.client_id: {"redirect_uris": [f"https://{rp.client_id}.stand-in.example/callback"]}
            for rp in loader.load().rps
        },
    }


@pytest.fixture(scope="module")
def definitions_dir(
    tmp_path_factory: pytest.TempPathFactory,
    platform: Settings,
    bucket: str,
    s3_server: S3Server,
) -> Path:
    directory = tmp_path_factory.mktemp("operator-target") / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    trail = {"bucket": bucket, "region": REGION, "endpoint_url": s3_server.endpoint}
    body = _target_file(platform, directory.parent / "rp-secrets", trail)
    (directory / "targets" / f"{TARGET}.yaml").write_text(yaml.safe_dump(body))
    bad = {**trail, "bucket": "bizid-no-such-audit-bucket"}
    body = _target_file(platform, directory.parent / "rp-secrets", bad)
    (directory / "targets" / f"{TARGET}-bad-bucket.yaml").write_text(yaml.safe_dump(body))
    return directory


@pytest.fixture(scope="module")
def bootstrapped(
    platform: Settings,
    definitions_dir: Path,
    operator_secret: str,
    monkeypatch_module: pytest.MonkeyPatch,
) -> str:
    """`bizid realm bootstrap --target` once, as the stand-in's bootstrap admin; then the secret."""
    from scripts import cli

    monkeypatch_module.setenv(BOOTSTRAP_USERNAME_ENV, platform.admin_username)
    monkeypatch_module.setenv(BOOTSTRAP_PASSWORD_ENV, platform.secret("admin-password"))
    argv = ["realm", "bootstrap", "--target", TARGET, "--definitions", str(definitions_dir)]
    assert cli.main(argv) == 0
    monkeypatch_module.delenv(BOOTSTRAP_USERNAME_ENV)
    monkeypatch_module.delenv(BOOTSTRAP_PASSWORD_ENV)
    return operator_secret


def _operator(platform: Settings, secret: str) -> AdminApi:
    return connect(
        Target(
            keycloak_url=platform.keycloak_url,
            login=ServiceAccountLogin("bizid-operator", secret),
            ca_cert=platform.paths.ca_cert,
            opa_url=platform.opa_url,
        )
    )


def _operator_user_id(platform: Settings) -> str:
    admin = connect(platform.target())
    (client,) = admin.get("/admin/realms/master/clients", clientId="bizid-operator")
    return str(admin.get(f"/admin/realms/master/clients/{client['id']}/service-account-user")["id"])


def _args(definitions_dir: Path, target: str = TARGET) -> tuple[str, ...]:
    return ("--target", target, "--definitions", str(definitions_dir))


def _user_admin_events(admin: Any, user_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = admin.get_admin_events({"resourcePath": f"users/{user_id}*", "max": 1000})
    return events


def test_bootstrap_gives_the_operator_exactly_its_roles(
    platform: Settings, definitions_dir: Path, bootstrapped: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _out, err = run(capsys, "realm", "bootstrap", *_args(definitions_dir))
    assert code == 2 and BOOTSTRAP_USERNAME_ENV in err  # the bootstrap admin is given only for the bootstrap
    admin = connect(platform.target())
    (client,) = admin.get("/admin/realms/master/clients", clientId="bizid-operator")
    assert client["serviceAccountsEnabled"] and not client["publicClient"]
    assert not (client["standardFlowEnabled"] or client["directAccessGrantsEnabled"])
    assert not client["implicitFlowEnabled"] and client["redirectUris"] == []
    user = admin.get(f"/admin/realms/master/clients/{client['id']}/service-account-user")
    mappings = admin.get(f"/admin/realms/master/users/{user['id']}/role-mappings")
    assert not mappings.get("realmMappings"), mappings
    granted = {name: {r["name"] for r in m["mappings"]} for name, m in mappings["clientMappings"].items()}
    assert granted == {f"{REALM}-realm": set(operator_account.OPERATOR_ROLES)}
    # The reconciler is a different client with its own roles: neither holds the other's write roles.
    (reconciler,) = admin.get("/admin/realms/master/clients", clientId="bizid-realm-admin")
    assert reconciler["id"] != client["id"]
    assert not {"manage-realm", "manage-clients"} & set(operator_account.OPERATOR_ROLES)
    assert "manage-users" not in service_account.REALM_ROLES
    assert not admin.get(f"/admin/realms/{REALM}/clients", clientId="bizid-operator")  # not a bizid client


def test_the_operator_cannot_change_the_realm_or_its_clients(
    platform: Settings, bootstrapped: str, make_account: MakeAccount, admin: Any
) -> None:
    """403 for every realm, client, flow and privilege change: a leaked operator secret manages accounts,
    nothing else."""
    api = _operator(platform, bootstrapped)
    entry = make_account(Tier.ENTRY)
    realm_management = admin.get_client_id("realm-management")
    manage_realm = admin.get_client_role(realm_management, "manage-realm")
    refused = [
        ("get", f"/admin/realms/{REALM}/clients", None),
        ("put", f"/admin/realms/{REALM}", '{"registrationAllowed": true}'),
        ("post", f"/admin/realms/{REALM}/clients", '{"clientId": "stolen", "publicClient": true}'),
        ("get", f"/admin/realms/{REALM}/authentication/flows", None),
        ("put", f"/admin/realms/{REALM}/events/config", '{"eventsEnabled": false}'),
        ("post", "/admin/realms", '{"realm": "stolen", "enabled": true}'),
        ("get", "/admin/realms/master/users", None),
        ("post", f"/admin/realms/{REALM}/users/{entry.user_id}/impersonation", ""),
        (
            "post",
            f"/admin/realms/{REALM}/users/{entry.user_id}/role-mappings/clients/{realm_management}",
            f'[{{"id": "{manage_realm["id"]}", "name": "manage-realm"}}]',
        ),
    ]
    for method, path, body in refused:
        call = getattr(api._c, f"raw_{method}")
        response = call(path) if body is None else call(path, data=body)
        assert response.status_code == 403, (method, path, response.status_code, response.text[:200])
    # What it may do: read the account and the events.
    assert api._c.raw_get(f"/admin/realms/{REALM}/users/{entry.user_id}").status_code == 200
    assert api._c.raw_get(f"/admin/realms/{REALM}/events", max="1").status_code == 200
    assert api._c.raw_get(f"/admin/realms/{REALM}/admin-events", max="1").status_code == 200


def test_suspend_reactivate_and_trace_as_the_operator_account(
    platform: Settings,
    definitions_dir: Path,
    bootstrapped: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    local_trail = cli_lifecycle.trail_path(platform)
    local_before = local_trail.read_bytes() if local_trail.exists() else b""
    args = _args(definitions_dir)
    code, out, err = run(
        capsys, "accounts", "suspend", "--username", prime.username, "--reason", "lost seal, call 0312345678",
        "--operator", OPERATOR, *args,
    )  # fmt: skip
    assert code == 0, (out, err)
    assert admin.get_user(prime.user_id)["attributes"]["account_status"] == ["suspended"]
    code, out, err = run(
        capsys, "accounts", "reactivate", "--username", prime.username, "--reason", "seal found",
        "--operator", OPERATOR, *args,
    )  # fmt: skip
    assert code == 0, (out, err)
    assert admin.get_user(prime.user_id)["attributes"]["account_status"] == ["active"]

    # Keycloak says who changed the account: the operator account's service-account user, nobody else.
    operator_user = _operator_user_id(platform)
    changes = [e for e in _user_admin_events(admin, prime.user_id) if e["operationType"] == "UPDATE"]
    assert len(changes) >= 2 and {e["authDetails"]["userId"] for e in changes} == {operator_user}, changes

    # The trail went to the target's S3 bucket, chained and masked; this machine's trail file is untouched.
    home = OperatorTrail(bucket=bucket, region=REGION, endpoint_url=s3_server.endpoint)
    trail = S3OperatorAuditTrail(home)
    trail.verify()
    entries = trail.entries(prime.user_id)
    assert [(e.action, e.operator) for e in entries] == [("suspend", OPERATOR), ("reactivate", OPERATOR)]
    assert entries[0].reason == "lost seal, call [digits]" and prime.username not in entries[0].line()
    assert (local_trail.read_bytes() if local_trail.exists() else b"") == local_before

    # The trace reads the trail back from S3 (chain verified) and Keycloak's events as the operator.
    code, out, err = run(capsys, "audit", "trace", "--account", prime.username, *args)
    assert code == 0, (out, err)
    rows = out.splitlines()
    assert any("operator" in r and "suspend" in r and OPERATOR in r for r in rows), out
    assert any("operator" in r and "reactivate" in r for r in rows), out
    assert any("keycloak-admin" in r for r in rows), out
    code, out, err = run(capsys, "audit", "verify", *args)
    assert code == 0 and f"s3://{bucket}/operator-trail/" in out and "chain intact" in out, (out, err)


def test_a_bad_bucket_changes_nothing(
    platform: Settings,
    definitions_dir: Path,
    bootstrapped: str,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The trail cannot be written: the command stops before the account is touched."""
    prime = make_account(Tier.PRIME)
    before = len(_user_admin_events(admin, prime.user_id))
    code, out, err = run(
        capsys, "accounts", "suspend", "--username", prime.username, "--reason", "test",
        "--operator", OPERATOR, *_args(definitions_dir, f"{TARGET}-bad-bucket"),
    )  # fmt: skip
    assert code == 2, (out, err)
    assert "s3://bizid-no-such-audit-bucket/operator-trail/" in err and "NoSuchBucket" in err, err
    assert admin.get_user(prime.user_id)["attributes"]["account_status"] == ["active"]
    assert len(_user_admin_events(admin, prime.user_id)) == before


def test_an_operator_secret_that_keycloak_refuses_is_a_clear_error(
    definitions_dir: Path,
    bootstrapped: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(OPERATOR_SECRET_ENV, "not-the-secret")
    code, _out, err = run(capsys, "accounts", "list", "--tier", "prime", *_args(definitions_dir))
    assert code == 2 and "refused the login of operator account bizid-operator" in err, err
