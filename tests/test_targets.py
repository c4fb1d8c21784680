"""Target files (realm/definitions/targets/*.yaml): validation, the overlay, where secrets come from and how
they agree with the stacks. No platform: the real Keycloak path is tests/test_target_apply.py."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.stub import Stubber

from infra.components.common import OPA_PORT
from infra.config import STACKS, load_stack_config
from realm import loader, secret_sources, targets
from realm.loader import DefinitionError
from realm.platform import LOCAL_RP_PORT
from realm.target import ServiceAccountLogin
from realm.targets import AwsSecret, AwsSecrets, EnvSecret
from scripts import cli, settings
from scripts import targets as cli_targets
from tests.infra.conftest import graph_of


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _edit(path: Path, change: dict[str, Any]) -> None:
    data = yaml.safe_load(path.read_text()) or {}
    data.update(change)
    path.write_text(yaml.safe_dump(data))


@pytest.mark.parametrize("name", ["local", *STACKS])
def test_shipped_targets_validate(name: str) -> None:
    defs = loader.load()
    target = targets.load(loader.DEFINITIONS_DIR, name, defs)
    assert target.local == (name == "local")


@pytest.mark.parametrize("stack", STACKS)
def test_deployed_targets_agree_with_their_stack(stack: str) -> None:
    """The target file names what the stack deploys and exports: its URL, the sidecar OPA the task's
    Keycloak calls, the service account's secret, the RP secrets' prefix and the stack's keys."""
    config = load_stack_config(stack)
    target = targets.load(loader.DEFINITIONS_DIR, stack, loader.load())
    graph = graph_of(stack)
    assert str(target.keycloak_url).rstrip("/") == graph.outputs["url"] == f"https://{config.dns.hostname}"
    assert str(target.opa_url).rstrip("/") == f"http://127.0.0.1:{OPA_PORT}"
    assert target.service_account is not None
    assert isinstance(target.service_account.secret, AwsSecret)
    assert target.service_account.secret.aws_secret == graph.outputs["realmAdminSecretName"]
    assert target.service_account.secret.region == config.primary.region
    home = target.client_secrets
    assert isinstance(home, AwsSecrets)
    assert home.aws_prefix == graph.outputs["rpSecretPrefix"] and home.region == config.primary.region
    aliases = {a.region: a.inputs["name"] for a in graph.of_type("aws:kms/alias:Alias")}
    assert home.kms_key == aliases[config.primary.region]
    assert home.replicas == {r.region: aliases[r.region] for r in config.regions if r is not config.primary}
    assert target.smtp is not None and target.smtp.auth is not None  # SES, not the local Mailpit
    assert (target.smtp.auth.secret, target.smtp.auth.region) == (
        graph.outputs["smtpSecretName"],
        config.primary.region,
    )
    assert target.smtp.host == f"email-smtp.{config.primary.region}.amazonaws.com" and target.smtp.starttls


@pytest.mark.parametrize("stack", STACKS)
def test_the_service_account_secret_is_created_empty_and_replicated(stack: str) -> None:
    """Its value is written by `bizid realm bootstrap`, never by the stack (so it is in no Pulumi state)."""
    graph = graph_of(stack)
    config = load_stack_config(stack)
    secret = next(
        s
        for s in graph.of_type("aws:secretsmanager/secret:Secret")
        if s.inputs.get("name") == graph.outputs["realmAdminSecretName"]
    )
    assert secret.region == config.primary.region and secret.inputs["kmsKeyId"]
    regions = {r["region"] for r in secret.inputs.get("replicas") or []}
    assert regions == {r.region for r in config.regions if r is not config.primary}
    versions = [
        v
        for v in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion")
        if v.inputs["secretId"] == secret.state["id"]
    ]
    assert versions == []
    assert secret.inputs["recoveryWindowInDays"] == (30 if config.is_prod else 0)


def test_local_redirect_uris_follow_the_port_offset() -> None:
    cfg = settings.for_platform(Path("/nonexistent"), 300)
    assert cfg.ports.rp == LOCAL_RP_PORT + 300
    defs = cfg.definitions()
    for rp in defs.rps:
        for uri in rp.redirect_uris:
            assert uri.port == LOCAL_RP_PORT + 300, uri
    unshifted = settings.for_platform(Path("/nonexistent"), 0).definitions()
    assert [str(u) for rp in unshifted.rps for u in rp.redirect_uris] == [
        str(u) for rp in loader.load().rps for u in rp.redirect_uris
    ]


def test_deployed_overlay_replaces_redirect_uris() -> None:
    target = targets.load(loader.DEFINITIONS_DIR, "prod", loader.load())
    uris = {cid: tuple(str(u) for u in rp.redirect_uris) for cid, rp in target.rps.items()}
    defs = targets.overlay(loader.load(), uris, None)
    assert str(defs.rp("jgrants").redirect_uris[0]) == "https://jgrants.rp.example.go.jp/callback"


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"drop_jgrants": True}, "rps.jgrants.redirect_uris", "missing"),
        (
            {"rps_extra": {"redirect_uris": ["https://x.example/cb"]}},
            "rps.nosuch",
            "nosuch",
        ),
        ({"jgrants_uri": "http://jgrants.example/cb"}, "redirect_uris", "http://jgrants.example/cb"),
        ({"jgrants_uri": "http://127.0.0.1:9/cb"}, "rps.jgrants.redirect_uris", "http://127.0.0.1:9/cb"),
        (
            {"keycloak_url": "http://id.dev.bizid.example.jp"},
            "keycloak_url",
            "http://id.dev.bizid.example.jp",
        ),
        ({"client_secrets": {"files": "/tmp/secrets"}}, "client_secrets.files", "Secrets Manager"),
        ({"admin_password": "hunter2"}, "admin_password", "hunter2"),
        ({"service_account": None}, "service_account", "required"),
        (
            {"service_account": {"secret": {"aws_secret": "x", "region": "tokyo"}}},
            "service_account.secret",
            "tokyo",
        ),
    ],
)
def test_bad_target_files_name_file_field_and_value(
    definitions_copy: Path, change: dict[str, Any], field: str, value: str
) -> None:
    path = definitions_copy / "targets" / "dev.yaml"
    data = yaml.safe_load(path.read_text())
    if "rps_extra" in change:
        data["rps"]["nosuch"] = change.pop("rps_extra")
    if change.pop("drop_jgrants", False):
        del data["rps"]["jgrants"]
    if "jgrants_uri" in change:
        data["rps"]["jgrants"]["redirect_uris"] = [change.pop("jgrants_uri")]
    data.update(change)
    if data.get("service_account", 1) is None:
        del data["service_account"]
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(DefinitionError) as caught:
        targets.load(definitions_copy, "dev", loader.load(definitions_copy))
    message = str(caught.value)
    assert str(path) in message and field in message and value in message, message
    code, out, err = _run("realm", "plan", "--target", "dev", "--definitions", str(definitions_copy))
    assert code == 2 and str(path) in err and "Traceback" not in err, (out, err)


def test_the_local_target_takes_nothing_from_its_file(definitions_copy: Path) -> None:
    _edit(definitions_copy / "targets" / "local.yaml", {"keycloak_url": "https://elsewhere.example"})
    with pytest.raises(DefinitionError, match="keycloak_url: the local target takes it from the local"):
        targets.load(definitions_copy, "local", loader.load(definitions_copy))


def test_an_unknown_target_is_named(definitions_copy: Path) -> None:
    code, _, err = _run("realm", "apply", "--target", "qa", "--definitions", str(definitions_copy))
    assert code == 2 and "no target 'qa'" in err and "dev, local, prod, staging" in err, err


def test_a_deployed_target_without_its_secret_says_how_to_bootstrap(
    definitions_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _edit(
        definitions_copy / "targets" / "dev.yaml",
        {"service_account": {"secret": {"env": "BIZID_TEST_UNSET_SECRET"}}},
    )
    monkeypatch.delenv("BIZID_TEST_UNSET_SECRET", raising=False)
    code, _, err = _run("realm", "plan", "--target", "dev", "--definitions", str(definitions_copy))
    assert code == 2 and "BIZID_TEST_UNSET_SECRET has no value" in err and "bizid realm bootstrap" in err


def test_the_bootstrap_admin_is_read_only_for_bootstrap(
    definitions_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deployed target signs in as its service account; the bootstrap needs the admin named explicitly,
    and refuses the local target (whose admin is the local platform's)."""
    _edit(definitions_copy / "targets" / "dev.yaml", {"service_account": {"secret": {"env": "BIZID_T_SA"}}})
    monkeypatch.setenv("BIZID_T_SA", "s3cret-value")
    resolved = cli_targets.resolve("dev", definitions_copy)
    assert resolved.target.login == ServiceAccountLogin("bizid-realm-admin", "s3cret-value")
    monkeypatch.delenv(cli_targets.BOOTSTRAP_USERNAME_ENV, raising=False)
    code, _, err = _run("realm", "bootstrap", "--target", "dev", "--definitions", str(definitions_copy))
    assert code == 2 and cli_targets.BOOTSTRAP_USERNAME_ENV in err, err
    code, _, err = _run("realm", "bootstrap", "--target", "local", "--definitions", str(definitions_copy))
    assert code == 2 and "no service account to bootstrap" in err, err


# --- AWS Secrets Manager: the requests the stores make (no AWS here: botocore's Stubber checks them) ------


def _stubbed(region: str = "ap-northeast-1") -> tuple[Any, Stubber]:
    import boto3

    client = boto3.client(
        "secretsmanager", region_name=region, aws_access_key_id="x", aws_secret_access_key="y"
    )
    return client, Stubber(client)


def test_secrets_manager_store_creates_missing_rp_secrets_with_the_stack_key_and_replicas() -> None:
    client, stub = _stubbed()
    home = AwsSecrets(
        aws_prefix="bizid-prod/rp-client/",
        region="ap-northeast-1",
        kms_key="alias/bizid-prod-tokyo",
        replicas={"ap-northeast-3": "alias/bizid-prod-osaka"},
    )
    store = secret_sources.SecretsManagerClientSecrets(home, client)
    stub.add_client_error(
        "get_secret_value",
        "ResourceNotFoundException",
        expected_params={"SecretId": "bizid-prod/rp-client/jgrants"},
    )
    stub.add_client_error(
        "put_secret_value",
        "ResourceNotFoundException",
        expected_params={"SecretId": "bizid-prod/rp-client/jgrants", "SecretString": "v1"},
    )
    stub.add_response(
        "create_secret",
        {"Name": "bizid-prod/rp-client/jgrants"},
        expected_params={
            "Name": "bizid-prod/rp-client/jgrants",
            "Description": "bizid: client secret of the RP jgrants (written by `bizid realm apply`)",
            "SecretString": "v1",
            "KmsKeyId": "alias/bizid-prod-tokyo",
            "AddReplicaRegions": [{"Region": "ap-northeast-3", "KmsKeyId": "alias/bizid-prod-osaka"}],
        },
    )
    stub.add_response(
        "get_secret_value",
        {"SecretString": "v1"},
        expected_params={"SecretId": "bizid-prod/rp-client/jgrants"},
    )
    with stub:
        assert store.get("jgrants") is None
        store.put("jgrants", "v1")
        assert store.get("jgrants") == "v1"
    stub.assert_no_pending_responses()


def test_secrets_manager_errors_are_named_not_tracebacks() -> None:
    client, stub = _stubbed()
    stub.add_client_error("get_secret_value", "AccessDeniedException")
    with stub, pytest.raises(secret_sources.SecretSourceError, match=r"bizid-dev/realm-admin-client.*Access"):
        secret_sources.read(
            AwsSecret(aws_secret="bizid-dev/realm-admin-client", region="ap-northeast-1"), client=client
        )


def test_an_empty_stack_secret_reads_as_none_and_bootstrap_writes_it() -> None:
    client, stub = _stubbed()
    source = AwsSecret(aws_secret="bizid-dev/realm-admin-client", region="ap-northeast-1")
    stub.add_client_error("get_secret_value", "ResourceNotFoundException")
    stub.add_response(
        "put_secret_value",
        {"Name": source.aws_secret},
        expected_params={"SecretId": source.aws_secret, "SecretString": "new"},
    )
    with stub:
        assert secret_sources.read(source, client=client) is None
        secret_sources.write(source, "new", client=client)
    stub.assert_no_pending_responses()


def test_an_environment_secret_is_read_never_written() -> None:
    source = EnvSecret(env="BIZID_SOME_SECRET")
    assert secret_sources.read(source, environ={"BIZID_SOME_SECRET": " v \n"}) == "v"
    assert secret_sources.read(source, environ={}) is None
    with pytest.raises(secret_sources.SecretSourceError, match="export BIZID_SOME_SECRET"):
        secret_sources.write(source, "v")


def test_the_admin_api_is_reached_at_admin_url_when_given(
    definitions_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The public URL blocks /admin and /realms/master (WAF, ALB): the private admin path is named apart."""
    path = definitions_copy / "targets" / "dev.yaml"
    _edit(path, {"service_account": {"secret": {"env": "BIZID_T_SA"}}})
    monkeypatch.setenv("BIZID_T_SA", "s3cret-value")
    # The shipped file names the stack's internal admin path (tests/infra/test_admin_path.py).
    assert (
        cli_targets.resolve("dev", definitions_copy).target.keycloak_url
        == "https://admin.id.dev.bizid.example.jp"
    )
    _edit(path, {"admin_url": "https://keycloak-admin.dev.internal:8443"})
    resolved = cli_targets.resolve("dev", definitions_copy)
    assert resolved.target.keycloak_url == "https://keycloak-admin.dev.internal:8443"
    _edit(path, {"admin_url": "http://keycloak-admin.dev.internal:8080"})
    with pytest.raises(DefinitionError, match="admin_url: must be https"):
        cli_targets.resolve("dev", definitions_copy)


def test_a_deployed_targets_ses_login_is_read_from_its_secret() -> None:
    """`realm apply --target dev` reads the SES SMTP login the stack wrote, named in its target file."""
    from realm import smtp

    defs = loader.load()
    target = targets.load(loader.DEFINITIONS_DIR, "dev", defs)
    assert target.smtp is not None and target.smtp.auth is not None
    client, stub = _stubbed()
    stub.add_response(
        "get_secret_value",
        {"Name": target.smtp.auth.secret, "SecretString": '{"username": "AKIA1", "password": "p"}'},
        expected_params={"SecretId": target.smtp.auth.secret},
    )
    stub.add_client_error("get_secret_value", "ResourceNotFoundException")
    with stub:
        login = smtp.aws_reader(client)(target.smtp.auth)
        assert (login.username, login.password) == ("AKIA1", "p")
        with pytest.raises(smtp.SmtpConfigError, match=r"bizid-dev/ses-smtp.*no value"):
            smtp.aws_reader(client)(target.smtp.auth)


def test_a_deployed_target_without_its_mail_server_is_refused(definitions_copy: Path) -> None:
    """Without `smtp`, a deployed realm would send to realm.yaml's local Mailpit address: no mail at all."""
    path = definitions_copy / "targets" / "dev.yaml"
    text = path.read_text()
    start, end = text.index("smtp:"), text.index("rps:")
    path.write_text(text[:start] + text[end:])
    with pytest.raises(DefinitionError, match=r"dev.yaml.*smtp: required for a deployed target"):
        targets.load(definitions_copy, "dev", loader.load(definitions_copy))
