"""The operator audit trail of a deployed target in S3 (realm/operator_audit_s3.py), against a real
S3-compatible server on loopback (MinIO, tests/s3_server.py; AWS S3 itself cannot run here).

One object per entry, chained like the file trail; exactly once under concurrent operators (a conditional
PUT that loses re-reads and chains after the winner); every PUT accepted by a bucket with Object Lock (S3
refuses one without an integrity header: tests/test_s3_ledger.py); a removed, hidden or changed entry found
by `verify`; a bad bucket refused before anything is written; `bizid audit verify --target` reads it back.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from realm import loader
from realm.operator_audit import GENESIS, AuditEntry, AuditError, digest
from realm.operator_audit_s3 import S3OperatorAuditTrail
from realm.s3_store import S3StoreError
from realm.targets import OperatorTrail
from scripts import cli
from tests.s3_server import S3Server

REGION = "ap-northeast-1"


@pytest.fixture(autouse=True)
def aws_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The trail builds its client from the usual AWS chain, as on an operator's machine."""
    for name, value in s3_server.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


def _entry(n: int, account: str = "acc-1") -> AuditEntry:
    return AuditEntry(
        time=f"2026-12-01T10:00:{n:02d}Z",
        operator="op.tanaka",
        action="suspend",
        account_id=account,
        account="pr***(9)",
        tier="prime",
        reason=f"reason {n}",
        changes={"account_status": ["active", "suspended"]},
    )


def _trail(server: S3Server, bucket: str, prefix: str = "operator-trail/") -> S3OperatorAuditTrail:
    home = OperatorTrail(bucket=bucket, prefix=prefix, region=REGION, endpoint_url=server.endpoint)
    return S3OperatorAuditTrail(home)


def test_entries_are_objects_chained_in_order(s3_server: S3Server) -> None:
    bucket = s3_server.bucket(locked=True)
    trail = _trail(s3_server, bucket)
    trail.check_writable()
    first = trail.append(_entry(1))
    second = trail.append(_entry(2, "acc-2"))
    assert first.prev == GENESIS and second.prev == digest(first.line())
    client = s3_server.client()
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["operator-trail/000000000001.json", "operator-trail/000000000002.json"]
    body = client.get_object(Bucket=bucket, Key=keys[1])["Body"].read().decode()
    assert body == second.line()
    # Locked: the entry's version cannot be deleted (compliance mode), not even by whoever wrote it.
    version = client.list_object_versions(Bucket=bucket, Prefix=keys[0])["Versions"][0]["VersionId"]
    with pytest.raises(Exception, match=r"AccessDenied|WORM protected"):
        client.delete_object(Bucket=bucket, Key=keys[0], VersionId=version)
    # Read back by a fresh trail (another machine): same entries, intact chain, filter by account.
    again = _trail(s3_server, bucket)
    again.verify()
    assert [e.reason for e in again.entries()] == ["reason 1", "reason 2"]
    assert [e.account_id for e in again.entries("acc-2")] == ["acc-2"]


def test_two_operators_at_once_each_write_exactly_once(s3_server: S3Server) -> None:
    """A reads the last entry, B writes the same next number first: A's conditional PUT gets 412, A re-reads
    and chains after B. Nothing is overwritten, nothing lost, the chain holds."""
    bucket = s3_server.bucket(locked=True)
    a, b = _trail(s3_server, bucket), _trail(s3_server, bucket)
    a.append(_entry(1))
    real_put = a.store.put_if_absent
    outcomes: list[bool] = []

    def racing_put(name: str, body: bytes, content_type: str = "application/json") -> bool:
        if not outcomes:
            b.append(_entry(2, "acc-b"))  # B wins entry 2 while A is about to write it
        result = real_put(name, body, content_type)
        outcomes.append(result)
        return result

    a.store.put_if_absent = racing_put  # type: ignore[method-assign]
    written = a.append(_entry(3, "acc-a"))
    assert outcomes == [False, True]  # the first PUT lost the race (HTTP 412), the retry won
    entries = _trail(s3_server, bucket).entries()
    assert [e.account_id for e in entries] == ["acc-1", "acc-b", "acc-a"]
    assert written.prev == digest(entries[1].line())
    _trail(s3_server, bucket).verify()


def test_verify_finds_a_changed_or_missing_entry(s3_server: S3Server) -> None:
    """In a bucket without Object Lock (a wrong bucket, or a hand-made copy) entries can be replaced or
    removed: the chain and the numbering show it."""
    bucket = s3_server.bucket(locked=False)
    trail = _trail(s3_server, bucket)
    for n in (1, 2, 3):
        trail.append(_entry(n))
    client = s3_server.client()
    key = "operator-trail/000000000001.json"
    changed = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
    changed["reason"] = "nothing happened"
    body = json.dumps(changed, sort_keys=True, separators=(",", ":")).encode()
    client.put_object(Bucket=bucket, Key=key, Body=body)
    with pytest.raises(AuditError, match="entry 2 does not follow entry 1"):
        trail.verify()
    client.delete_object(Bucket=bucket, Key="operator-trail/000000000002.json")
    with pytest.raises(AuditError, match="entry 2 is missing"):
        trail.verify()


def test_a_missing_bucket_is_refused_before_anything_is_written(s3_server: S3Server) -> None:
    trail = _trail(s3_server, "bizid-no-such-bucket-here")
    with pytest.raises(S3StoreError, match=r"s3://bizid-no-such-bucket-here/operator-trail/.*NoSuchBucket"):
        trail.check_writable()


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _definitions(tmp_path: Path, trail: dict[str, Any]) -> Path:
    directory = tmp_path / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    body: dict[str, Any] = {
        "keycloak_url": "https://127.0.0.1:9",  # nothing listens: the command must not need Keycloak
        "opa_url": "http://127.0.0.1:8181",
        "service_account": {"secret": {"env": "BIZID_TEST_RECONCILER_SECRET"}},
        "operator_account": {"secret": {"env": "BIZID_TEST_OPERATOR_SECRET"}},
        "operator_trail": trail,
        "client_secrets": {"files": str(tmp_path / "rp-secrets")},
        "smtp": {"host": "127.0.0.1", "port": 2525},
        "rps": {
            rp.client_id: {"redirect_uris": [f"https://{rp.client_id}.stand-in.example/cb"]}
            for rp in loader.load().rps
        },
    }
    (directory / "targets" / "s3-stand-in.yaml").write_text(yaml.safe_dump(body))
    return directory


def test_audit_verify_reads_the_target_trail_back(
    s3_server: S3Server,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bucket = s3_server.bucket(locked=True)
    monkeypatch.setenv("BIZID_TEST_OPERATOR_SECRET", "operator-secret")
    trail = {"bucket": bucket, "region": REGION, "endpoint_url": s3_server.endpoint}
    directory = _definitions(tmp_path, trail)
    _trail(s3_server, bucket).append(_entry(1))
    args = ("--target", "s3-stand-in", "--definitions", str(directory))
    code, out, err = _run("audit", "verify", *args)
    assert code == 0, (out, err)
    assert f"s3://{bucket}/operator-trail/: 1 entries, chain intact" in out
    # A bad bucket name: refused when the target file is read, naming the file, field and value.
    (directory / "targets" / "s3-stand-in.yaml").write_text(
        (directory / "targets" / "s3-stand-in.yaml").read_text().replace(bucket, "Bizid_Audit")
    )
    code, out, err = _run("audit", "verify", *args)
    assert code == 2 and "s3-stand-in.yaml" in err and "operator_trail.bucket" in err, err
    assert "Bizid_Audit" in err and "Traceback" not in err
