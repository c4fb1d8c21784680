"""Stack config is validated before any resource is declared; errors name the key as the stack file has it."""

from __future__ import annotations

import copy
import json
import runpy
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from infra.config import (
    INFRA_DIR,
    ConfigError,
    parse_config,
    read_pulumi_config,
    read_pulumi_secrets,
    read_stack_file,
)
from infra.graph import GraphMocks
from tests.infra.conftest import graph_of


def _raw(stack: str = "prod") -> dict[str, Any]:
    return copy.deepcopy(read_stack_file(stack))


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        parse_config(raw)
    return str(caught.value)


@pytest.mark.parametrize(
    ("path", "value", "key"),
    [
        (("primary", "vpcCidr"), "10.10.0.0/33", "bizid:primary.vpcCidr"),
        (("primary", "natGateways"), "two", "bizid:primary.natGateways"),
        (("primary", "availabilityZones"), ["ap-northeast-1a"], "bizid:primary.availabilityZones"),
        (("standby", "region"), "us-east-1", "bizid:standby.region"),
        (("database", "backupRetentionDays"), 90, "bizid:database.backupRetentionDays"),
        (("database", "engineVersion"), 16.6, "bizid:database.engineVersion"),
        (("edge", "loginRateLimit"), 5, "bizid:edge.loginRateLimit"),
        (("audit", "logRetentionDays"), 42, "bizid:audit.logRetentionDays"),
        (("keycloak", "cpu"), 3000, "bizid:keycloak.cpu"),
        (("alarms", "emails"), ["not-an-address"], "bizid:alarms.emails[0]"),
    ],
)
def test_wrong_value_names_its_key(path: tuple[str, str], value: object, key: str) -> None:
    raw = _raw()
    raw[path[0]][path[1]] = value
    assert key in _error(raw)


@pytest.mark.parametrize(
    "block", ["primary", "dns", "database", "keycloak", "edge", "audit", "alarms", "environment"]
)
def test_missing_block_names_its_key(block: str) -> None:
    raw = _raw()
    del raw[block]
    assert f"bizid:{block}: Field required" in _error(raw)


def test_missing_nested_value_and_typo_name_their_keys() -> None:
    raw = _raw()
    del raw["database"]["masterUsername"]
    raw["audit"]["objectLockDay"] = raw["audit"].pop("objectLockDays")
    message = _error(raw)
    assert "bizid:database.masterUsername: Field required" in message
    assert "bizid:audit.objectLockDays: Field required" in message
    assert "bizid:audit.objectLockDay: Extra inputs are not permitted" in message


@pytest.mark.parametrize(
    ("stack", "change", "message"),
    [
        ("prod", lambda r: r.pop("standby"), "bizid:standby is required for prod"),
        ("staging", lambda r: r.pop("standby"), "bizid:standby is required for staging"),
        ("dev", lambda r: r.__setitem__("standby", _raw("prod")["standby"]), "bizid:standby must be absent"),
        (
            "prod",
            lambda r: r["database"].__setitem__("deletionProtection", False),
            "bizid:database.deletionProtection",
        ),
        (
            "prod",
            lambda r: r["standby"].__setitem__("vpcCidr", "10.10.128.0/20"),
            "bizid:standby.vpcCidr overlaps",
        ),
        (
            "prod",
            lambda r: r["keycloak"].__setitem__("image", {"uri": "x/keycloak:latest"}),
            "bizid:keycloak.image.uri",
        ),
        (
            "prod",
            lambda r: r["primary"].__setitem__("availabilityZones", ["ap-northeast-3a", "ap-northeast-3b"]),
            "bizid:primary: availabilityZones",
        ),
        (
            "prod",
            lambda r: r["keycloak"].__setitem__("image", {"dockerfile": "no/such/Dockerfile"}),
            "bizid:keycloak.image: dockerfile",
        ),
    ],
)
def test_stack_rules(stack: str, change: Any, message: str) -> None:
    raw = _raw(stack)
    change(raw)
    assert message in _error(raw)


def _run_entrypoint(raw: dict[str, Any], mocks: GraphMocks) -> None:
    """Run infra/__main__.py as `pulumi up` would, with config set the way the engine passes it."""
    values = {f"bizid:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    values |= {
        "bizid:dbMasterPassword": "from-cli",
        "bizid:keycloakDbPassword": "from-cli-for-keycloak",
        "bizid:keycloakAdminPassword": "from-cli-too",
        "bizid:opaToken": "opa-token-from-cli",
    }
    pulumi.runtime.set_all_config(
        values,
        secret_keys=[
            "bizid:dbMasterPassword",
            "bizid:keycloakDbPassword",
            "bizid:keycloakAdminPassword",
            "bizid:opaToken",
        ],
    )
    runtime_settings.ROOT.set(None)
    pulumi.runtime.set_mocks(mocks, project="bizid", stack="prod", preview=False)
    try:

        def entrypoint() -> None:
            runpy.run_path(str(INFRA_DIR / "__main__.py"))

        _sync_await(run_pulumi_func(entrypoint))
    finally:
        pulumi.runtime.set_all_config({})


def test_entrypoint_declares_the_stack_from_engine_config() -> None:
    mocks = GraphMocks("bizid", "prod")
    _run_entrypoint(_raw(), mocks)
    assert len(mocks.resources) == len(graph_of("prod").resources)


def test_invalid_config_declares_no_resource() -> None:
    """A bad stack file ends the run in __main__ before a single resource exists."""
    raw = _raw()
    raw["primary"]["vpcCidr"] = "not-a-cidr"
    mocks = GraphMocks("bizid", "prod")
    with pytest.raises(ConfigError, match=r"bizid:primary\.vpcCidr"):
        _run_entrypoint(raw, mocks)
    assert mocks.resources == []


def test_secrets_are_not_plain_config() -> None:
    raw = _raw()
    raw["dbMasterPassword"] = "hunter2"
    assert "bizid:dbMasterPassword: Extra inputs are not permitted" in _error(raw)


def test_pulumi_config_path_reads_the_same_values() -> None:
    """__main__ reads config from the engine: structured values come as JSON text, secrets as secrets."""
    raw = _raw()
    values = {f"bizid:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
    values |= {
        "bizid:dbMasterPassword": "from-cli",
        "bizid:keycloakDbPassword": "from-cli-for-keycloak",
        "bizid:keycloakAdminPassword": "from-cli-too",
        "bizid:opaToken": "opa-token-from-cli",
    }
    pulumi.runtime.set_all_config(
        values,
        secret_keys=[
            "bizid:dbMasterPassword",
            "bizid:keycloakDbPassword",
            "bizid:keycloakAdminPassword",
            "bizid:opaToken",
        ],
    )
    try:
        cfg = pulumi.Config("bizid")
        assert parse_config(read_pulumi_config(cfg)) == parse_config(raw)
        secrets = read_pulumi_secrets(cfg)
        assert _sync_await(secrets.db_master_password.future()) == "from-cli"
        assert _sync_await(secrets.db_master_password.is_secret()) is True
        assert _sync_await(secrets.keycloak_db_password.future()) == "from-cli-for-keycloak"
        assert _sync_await(secrets.keycloak_db_password.is_secret()) is True
        assert _sync_await(secrets.keycloak_admin_password.future()) == "from-cli-too"
        assert _sync_await(secrets.opa_token.is_secret()) is True
        assert _sync_await(secrets.opa_token.is_secret()) is True
    finally:
        pulumi.runtime.set_all_config({})


def test_missing_secret_is_named() -> None:
    pulumi.runtime.set_all_config({})
    with pytest.raises(pulumi.ConfigMissingError, match="bizid:dbMasterPassword"):
        read_pulumi_secrets(pulumi.Config("bizid"))
