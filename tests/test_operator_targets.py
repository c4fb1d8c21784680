"""The operator account and trail in the target files and the stacks (no platform: the real Keycloak path is
tests/test_operator_account_e2e.py, the S3 trail tests/test_operator_audit_s3.py).

- every deployed target names its operator account's secret as its stack exports it; the stack creates that
  secret empty (bootstrap writes it) and replicated, separate from the reconciler's;
- the IAM policy an operator's role attaches grants only what the commands use (AWS's rules: no "*", no
  delete, the bucket listed only under the trail's prefix, KMS only through the service);
- a bad operator block is refused naming the file, the field and the value; a lifecycle command with a bad
  target exits 2 before any request (Keycloak is not reachable in these targets: a request would show);
- every lifecycle command takes --target.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.config import STACKS, load_stack_config
from realm import loader, targets
from realm.targets import AwsSecret
from scripts import cli
from tests.infra.conftest import graph_of

LIFECYCLE_COMMANDS = [
    ("accounts", "create"),
    ("accounts", "show"),
    ("accounts", "list"),
    ("accounts", "suspend"),
    ("accounts", "reactivate"),
    ("accounts", "renew"),
    ("accounts", "reset-authenticator"),
    ("accounts", "change-representative"),
    ("review", "submit"),
    ("review", "list"),
    ("review", "approve"),
    ("review", "reject"),
    ("review", "recover"),
    ("members", "permit"),
    ("members", "revoke"),
    ("members", "show"),
    ("delegation", "grant"),
    ("delegation", "revoke"),
    ("delegation", "list"),
    ("licence", "record"),
    ("licence", "revoke"),
    ("licence", "list"),
    ("notify", "reminders"),
    ("audit", "trace"),
    ("audit", "verify"),
    ("report", "monthly"),
]


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _subparser(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and name in action.choices:
            found: argparse.ArgumentParser = action.choices[name]
            return found
    raise AssertionError(f"no command {name}")


@pytest.mark.parametrize("command", LIFECYCLE_COMMANDS, ids=" ".join)
def test_every_lifecycle_command_takes_target(command: tuple[str, str]) -> None:
    parser = cli.build_parser()
    for name in command:
        parser = _subparser(parser, name)
    target = next(a for a in parser._actions if "--target" in a.option_strings)
    assert target.default == "local"
    assert parser.get_default("func").__module__ == "scripts.operating"  # the one shared helper


@pytest.mark.parametrize("stack", STACKS)
def test_targets_name_the_stacks_operator_secret(stack: str) -> None:
    config = load_stack_config(stack)
    target = targets.load(loader.DEFINITIONS_DIR, stack, loader.load())
    graph = graph_of(stack)
    account = target.operator_account
    assert account is not None and account.client_id == "bizid-operator"
    assert isinstance(account.secret, AwsSecret)
    assert (
        account.secret.aws_secret == graph.outputs["operatorSecretName"] == f"bizid-{stack}/operator-client"
    )
    assert account.secret.region == config.primary.region
    assert account.secret != target.service_account.secret  # type: ignore[union-attr]
    secret = next(
        s
        for s in graph.of_type("aws:secretsmanager/secret:Secret")
        if s.inputs.get("name") == graph.outputs["operatorSecretName"]
    )
    assert secret.region == config.primary.region and secret.inputs["kmsKeyId"]
    regions = {r["region"] for r in secret.inputs.get("replicas") or []}
    assert regions == {r.region for r in config.regions if r is not config.primary}
    versions = [
        v
        for v in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion")
        if v.inputs["secretId"] == secret.state["id"]
    ]
    assert versions == []  # written by `bizid realm bootstrap`, never in Pulumi state


def _statements(stack: str) -> list[dict[str, Any]]:
    graph = graph_of(stack)
    (policy,) = [
        p for p in graph.of_type("aws:iam/policy:Policy") if p.inputs.get("name") == f"bizid-{stack}-operator"
    ]
    assert graph.outputs["operatorPolicyArn"] == policy.state["arn"]
    document = policy.inputs["policy"]
    return list((json.loads(document) if isinstance(document, str) else document)["Statement"])


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize("stack", STACKS)
def test_the_operator_policy_grants_only_what_the_commands_use(stack: str) -> None:
    graph = graph_of(stack)
    config = load_stack_config(stack)
    statements = _statements(stack)
    allowed = {
        "secretsmanager:GetSecretValue",
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "s3:ListBucket",
        "s3:GetObject",
        "s3:PutObject",
    }
    for st in statements:
        assert st["Effect"] == "Allow"
        assert set(_list(st["Action"])) <= allowed, st
        assert all(r != "*" and not r.endswith(":*") for r in _list(st["Resource"])), st
    # Secrets: exactly the operator account's and the SES login; never the reconciler's or Aurora's.
    secret_resources = {
        r for st in statements if "secretsmanager:GetSecretValue" in st["Action"] for r in st["Resource"]
    }
    by_name = {
        s.inputs.get("name"): s.state["arn"] for s in graph.of_type("aws:secretsmanager/secret:Secret")
    }
    assert secret_resources == {by_name[graph.outputs["operatorSecretName"]], graph.outputs["smtpSecretArn"]}
    # S3: each region's audit archive, listed only under the trail's prefix, objects only under it.
    buckets = {
        b.state["arn"] for b in graph.of_type("aws:s3/bucket:Bucket") if b.inputs.get("objectLockEnabled")
    }
    assert len(buckets) == len(config.regions)
    review = {
        st["Sid"] for st in statements if "ReviewQueue" in st["Sid"]
    }  # tests/infra/test_review_grant.py
    statements = [st for st in statements if st["Sid"] not in review]
    lists = [st for st in statements if st["Action"] == ["s3:ListBucket"]]
    assert {r for st in lists for r in st["Resource"]} == buckets
    trail_lists = [st for st in lists if st["Sid"].startswith("ListOperatorTrail")]
    assert len(trail_lists) == len(buckets)
    for st in trail_lists:
        assert st["Condition"] == {"StringLike": {"s3:prefix": ["operator-trail/", "operator-trail/*"]}}
    objects = {r for st in statements if "s3:PutObject" in st["Action"] for r in st["Resource"]}
    assert objects == {f"{b}/operator-trail/*" for b in buckets}
    # The audit archive (tests/test_archive_s3.py has the rest): read only, only Firehose's prefixes.
    archive_lists = [st for st in lists if st["Sid"].startswith("ListAuditArchive")]
    assert len(archive_lists) + len(trail_lists) == len(lists)
    # KMS: only through Secrets Manager or S3 of the key's own region.
    for st in statements:
        if any(a.startswith("kms:") for a in st["Action"]):
            (service,) = st["Condition"]["StringEquals"]["kms:ViaService"].split(".")[:1]
            assert service in ("secretsmanager", "s3")
    assert graph.outputs["operatorTrailPrefix"] == targets.OperatorTrail.model_fields["prefix"].default


def _definitions(tmp_path: Path, **changes: Any) -> Path:
    directory = tmp_path / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    body: dict[str, Any] = {
        "keycloak_url": "https://127.0.0.1:9",  # nothing listens: a request would fail with "cannot reach"
        "opa_url": "http://127.0.0.1:8181",
        "service_account": {"secret": {"env": "BIZID_TEST_RECONCILER_SECRET"}},
        "operator_account": {"secret": {"env": "BIZID_TEST_OPERATOR_SECRET"}},
        "operator_trail": {"bucket": "bizid-test-audit", "region": "ap-northeast-1"},
        "client_secrets": {"files": str(tmp_path / "rp-secrets")},
        "smtp": {"host": "127.0.0.1", "port": 2525},
        "rps": {
            rp.client_id: {"redirect_uris": [f"https://{rp.client_id}.example/cb"]}
            for rp in loader.load().rps
        },
    }
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}
    (directory / "targets" / "stand-in.yaml").write_text(yaml.safe_dump(body))
    return directory


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        (
            {
                "operator_account": {
                    "client_id": "bizid-realm-admin",
                    "secret": {"env": "BIZID_TEST_OPERATOR_SECRET"},
                }
            },
            "operator_account.client_id",
            "bizid-realm-admin",
        ),
        (
            {"operator_account": {"secret": {"env": "BIZID_TEST_RECONCILER_SECRET"}}},
            "operator_account.secret",
            "service_account.secret",
        ),
        (
            {"operator_trail": {"bucket": "Bizid_Audit", "region": "ap-northeast-1"}},
            "operator_trail.bucket",
            "Bizid_Audit",
        ),
        (
            {"operator_trail": {"bucket": "10.0.0.1", "region": "ap-northeast-1"}},
            "operator_trail.bucket",
            "10.0.0.1",
        ),
        (
            {"operator_trail": {"bucket": "bizid..audit", "region": "ap-northeast-1"}},
            "operator_trail.bucket",
            "bizid..audit",
        ),
        ({"operator_trail": {"bucket": "bizid-audit", "region": "tokyo"}}, "operator_trail.region", "tokyo"),
        (
            {"operator_trail": {"bucket": "bizid-audit", "region": "ap-northeast-1", "prefix": "/trail"}},
            "operator_trail.prefix",
            "/trail",
        ),
        (
            {
                "operator_trail": {
                    "bucket": "bizid-audit",
                    "region": "ap-northeast-1",
                    "endpoint_url": "https://s3.example.com",
                }
            },
            "operator_trail.endpoint_url",
            "https://s3.example.com",
        ),
    ],
)
def test_bad_operator_blocks_are_refused_naming_file_field_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, changes: dict[str, Any], field: str, value: str
) -> None:
    monkeypatch.setenv("BIZID_TEST_OPERATOR_SECRET", "operator-secret")
    directory = _definitions(tmp_path, **changes)
    code, out, err = _run(
        "accounts", "show", "--username", "someone", "--target", "stand-in", "--definitions", str(directory)
    )
    assert code == 2, (out, err)
    assert "stand-in.yaml" in err and field in err and value in err, err
    assert "Traceback" not in err and "cannot reach" not in err


def test_a_deployed_endpoint_url_is_refused(tmp_path: Path) -> None:
    """An S3 endpoint other than AWS's only for a target on loopback (a stand-in)."""
    directory = _definitions(
        tmp_path,
        keycloak_url="https://id.dev.bizid.example.jp",
        operator_trail={
            "bucket": "bizid-audit",
            "region": "ap-northeast-1",
            "endpoint_url": "http://127.0.0.1:9000",
        },
        client_secrets={"aws_prefix": "bizid-dev/rp-client/", "region": "ap-northeast-1"},
    )
    with pytest.raises(loader.DefinitionError, match=r"operator_trail\.endpoint_url"):
        targets.load(directory, "stand-in", loader.load(directory))


def test_the_local_target_takes_no_operator_block(tmp_path: Path) -> None:
    directory = tmp_path / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    (directory / "targets" / "local.yaml").write_text(
        yaml.safe_dump({"local": True, "operator_account": {"secret": {"env": "BIZID_TEST_OPERATOR_SECRET"}}})
    )
    with pytest.raises(loader.DefinitionError, match=r"operator_account: the local target takes it"):
        targets.load(directory, "local", loader.load(directory))


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--target", "nosuch"], "no target 'nosuch'"),
        (["--target", "../etc/passwd"], "not a target name"),
    ],
)
def test_an_unknown_target_is_refused(argv: list[str], expected: str) -> None:
    code, _out, err = _run(
        "accounts", "suspend", "--username", "x", "--reason", "r", "--operator", "op.a", *argv
    )
    assert code == 2 and expected in err and "Traceback" not in err, err


def test_a_target_without_operator_account_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never the reconciler's login instead: the command stops naming the missing block."""
    monkeypatch.setenv("BIZID_TEST_RECONCILER_SECRET", "reconciler-secret")
    directory = _definitions(tmp_path, operator_account=None)
    code, _out, err = _run(
        "accounts", "suspend", "--username", "x", "--reason", "r", "--operator", "op.a",
        "--target", "stand-in", "--definitions", str(directory),
    )  # fmt: skip
    assert code == 2 and "operator_account: missing" in err and "stand-in.yaml" in err, err
    assert "cannot reach" not in err


def test_an_unset_operator_secret_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIZID_TEST_OPERATOR_SECRET", raising=False)
    directory = _definitions(tmp_path)
    code, _out, err = _run("accounts", "list", "--target", "stand-in", "--definitions", str(directory))
    assert code == 2 and "operator_account.secret" in err and "bizid realm bootstrap" in err, err


def test_a_deployed_target_without_trail_refuses_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without operator_trail a changing command cannot record itself off this machine: refused before any
    request (the target's Keycloak is not reachable here; a request would say "cannot reach")."""
    monkeypatch.setenv("BIZID_TEST_OPERATOR_SECRET", "operator-secret")
    directory = _definitions(tmp_path, operator_trail=None)
    for argv in (
        ["audit", "verify"],
        ["accounts", "suspend", "--username", "x", "--reason", "r", "--operator", "op.a"],
        ["accounts", "reset-authenticator", "--username", "x", "--reason", "r", "--operator", "op.a"],
    ):
        code, _out, err = _run(*argv, "--target", "stand-in", "--definitions", str(directory))
        assert code == 2 and "operator_trail: missing" in err and "cannot reach" not in err, (argv, err)
