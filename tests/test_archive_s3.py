"""The S3 audit archive reader (realm/archive_s3.py) against a real S3-compatible server (MinIO,
tests/s3_server.py; AWS S3 cannot run here), the stack it reads, and the operator's grant to read it.

The objects are written as AWS writes them (docs/audit.md, "The archive on AWS"): each CloudWatch Logs
subscription record is a gzip member holding `{"messageType", "owner", "logGroup", "logStream",
"subscriptionFilters", "logEvents": [{"id", "timestamp", "message"}]}`, Firehose concatenates records without
a delimiter under `<source>/YYYY/MM/DD/`; CloudWatch Logs' CONTROL_MESSAGE records are among them. The
platform-backed join and counts (`audit trace|report monthly --target`) are tests/test_archive_s3_e2e.py.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fnmatch
import gzip
import io
import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.components import audit
from realm import archive_s3, loader
from realm.archive_s3 import ArchiveError, S3AuditArchive
from realm.s3_store import S3StoreError
from scripts import cli
from scripts import targets as target_files
from tests.infra.conftest import graph_of
from tests.s3_server import S3Server

REGION = "ap-northeast-1"
DAY = dt.datetime(2026, 11, 30, 23, 58, tzinfo=dt.UTC)
T0 = int(DAY.timestamp() * 1000)


def keycloak_line(message: str, millis: int) -> str:
    """A Keycloak log line as KC_LOG_CONSOLE_OUTPUT=json writes it (Quarkus JSON logging; the field names of
    Keycloak's "Configuring logging" guide), on the archive listener's logger."""
    stamp = dt.datetime.fromtimestamp(millis / 1000, dt.UTC).isoformat()
    return json.dumps(
        {
            "timestamp": stamp,
            "sequence": millis % 100000,
            "loggerClassName": "org.jboss.logging.Logger",
            "loggerName": "org.keycloak.events",
            "level": "INFO",
            "message": message,
            "threadName": "executor-thread-1",
            "threadId": 42,
            "mdc": {},
            "ndc": "",
            "hostName": "ip-10-0-1-23.ap-northeast-1.compute.internal",
            "processName": "QuarkusEntryPoint",
            "processId": 1,
        },
        separators=(",", ":"),
    )


def record(log_group: str, messages: list[tuple[int, str]], stream: str = "keycloak/keycloak/abc") -> bytes:
    """One CloudWatch Logs subscription record as Firehose receives it: gzip'd JSON."""
    body = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": log_group,
        "logStream": stream,
        "subscriptionFilters": [f"{log_group}-filter"],
        "logEvents": [
            {"id": f"{3795 + i}{millis}", "timestamp": millis, "message": message}
            for i, (millis, message) in enumerate(messages)
        ],
    }
    return gzip.compress(json.dumps(body).encode())


def control_record(log_group: str) -> bytes:
    body = {
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [
            {
                "id": "",
                "timestamp": T0,
                "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
            }
        ],
    }
    return gzip.compress(json.dumps(body).encode())


def firehose_key(source: str, when: dt.datetime, n: int = 0) -> str:
    """`<prefix><stream>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz` (Firehose's S3 object name format)."""
    return (
        f"{source}/{when:%Y/%m/%d}/bizid-dev-audit-tokyo-{source}-1-{when:%Y-%m-%d-%H-%M-%S}-"
        f"0b0c{n:04d}-7a1e-4c61-9f0e-5d3e2a1b{n:04d}.gz"
    )


def event_line(event_id: str, millis: int, **fields: Any) -> str:
    body = {"kind": "login", "id": event_id, "time": millis, "realm": "bizid", **fields}
    return "bizid-event " + json.dumps(body, separators=(",", ":"))


def decision_line(decision_id: str, account_id: str, millis: int) -> str:
    now = dt.datetime.fromtimestamp(millis / 1000, dt.UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "decision_id": decision_id,
            "input": {
                "account": {"id": account_id},
                "rp": {"client_id": "jgrants"},
                "now": now,
                "decision_id": decision_id,
            },
            "labels": {"id": "opa-1", "version": "1.0.0"},
            "level": "info",
            "msg": "Decision Log",
            "path": "bizid/access/decision",
            "result": {"allow": True, "reasons": []},
            "time": now,
            "timestamp": now,
            "type": "openpolicyagent.org/decision_logs",
        },
        separators=(",", ":"),
    )


@pytest.fixture(autouse=True)
def aws_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in s3_server.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


def _archive(server: S3Server, bucket: str) -> S3AuditArchive:
    return S3AuditArchive.at(bucket, REGION, server.endpoint)


def _put(server: S3Server, bucket: str, key: str, body: bytes) -> None:
    import base64
    import hashlib

    md5 = base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()
    server.client().put_object(Bucket=bucket, Key=key, Body=body, ContentMD5=md5)


# --- the format ---------------------------------------------------------------------------------------------


def test_an_object_of_several_records_decodes_to_every_log_event() -> None:
    group = "/bizid/dev/keycloak"
    body = (
        control_record(group)
        + record(group, [(T0, "a"), (T0 + 1, "b")])
        + record(group, [(T0 + 2, "c")], stream="keycloak/keycloak/def")
    )
    events = archive_s3.decode("s3://b/k.gz", body)
    assert [(e.message, e.timestamp, e.log_stream) for e in events] == [
        ("a", T0, "keycloak/keycloak/abc"),
        ("b", T0 + 1, "keycloak/keycloak/abc"),
        ("c", T0 + 2, "keycloak/keycloak/def"),
    ]
    assert {e.log_group for e in events} == {group} and {e.object_uri for e in events} == {"s3://b/k.gz"}


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (record("/g", [(T0, "a")])[:-5], "truncated gzip member at byte 0"),
        (record("/g", [(T0, "a")]) + record("/g", [(T0, "b")])[:20], "truncated gzip member at byte"),
        (b"not gzip at all", "not gzip at byte 0"),
        (gzip.compress(b"{not json"), "record 1 is not JSON"),
        (gzip.compress(b'{"messageType": "OTHER"}'), "not a CloudWatch Logs subscription record"),
        (
            gzip.compress(json.dumps({"messageType": "DATA_MESSAGE", "logEvents": [{"id": "1"}]}).encode()),
            "log event without message or timestamp",
        ),
    ],
)
def test_a_bad_object_is_an_error_naming_it(body: bytes, says: str) -> None:
    with pytest.raises(ArchiveError, match=r"s3://bucket/keycloak-events/x\.gz: .*") as caught:
        archive_s3.decode("s3://bucket/keycloak-events/x.gz", body)
    assert says in str(caught.value)


def test_the_prefixes_are_the_stacks() -> None:
    """The reader lists exactly where Firehose writes: `<source>/YYYY/MM/DD/`, objects as they come."""
    assert archive_s3.SOURCES == audit.SOURCES  # one definition: audit.py takes them from archive_s3
    graph = graph_of("dev")
    streams = graph.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    configs = [s.inputs["extendedS3Configuration"] for s in streams]
    assert sorted(c["prefix"] for c in configs) == sorted(
        f"{s}/!{{timestamp:yyyy/MM/dd}}/" for s in audit.SOURCES
    )
    assert {c["compressionFormat"] for c in configs} == {"UNCOMPRESSED"}
    assert {c.get("fileExtension") for c in configs} == {".gz"}
    assert archive_s3.day_prefixes("opa-decisions", DAY, DAY) == [
        "opa-decisions/2026/11/29/",
        "opa-decisions/2026/11/30/",
        "opa-decisions/2026/12/01/",
    ]


# --- against MinIO ------------------------------------------------------------------------------------------


def _fill(server: S3Server, bucket: str) -> None:
    kc, opa = "/bizid/dev/keycloak", "/bizid/dev/opa"
    late = DAY + dt.timedelta(minutes=4)  # Firehose wrote it after midnight: next day's prefix
    _put(
        server,
        bucket,
        firehose_key("keycloak-events", late),
        control_record(kc)
        + record(
            kc,
            [
                (T0, keycloak_line(event_line("e1", T0, type="LOGIN", client="jgrants", user="u1"), T0)),
                # Keycloak's own jboss-logging event line on the same logger: not the archive's
                (T0 + 1, keycloak_line('type="LOGIN", realmId="bizid", clientId="jgrants"', T0 + 1)),
            ],
        )
        + record(kc, [(T0 + 2, keycloak_line(event_line("e2", T0 + 2, type="USER_INFO_REQUEST"), T0 + 2))]),
    )
    # Firehose delivers at least once: the same record again in another object counts once.
    _put(
        server,
        bucket,
        firehose_key("keycloak-events", late, 1),
        record(
            kc, [(T0, keycloak_line(event_line("e1", T0, type="LOGIN", client="jgrants", user="u1"), T0))]
        ),
    )
    _put(
        server,
        bucket,
        firehose_key("opa-decisions", DAY),
        control_record(opa) + record(opa, [(T0, decision_line("d1", "u1", T0))], stream="opa/opa/abc"),
    )


def test_the_archive_reads_back_events_and_decisions(s3_server: S3Server) -> None:
    bucket = s3_server.bucket(locked=True)
    _fill(s3_server, bucket)
    archive = _archive(s3_server, bucket)
    events = list(archive.keycloak_events())
    assert [(e.id, e.type, e.client, e.user) for e in events] == [
        ("e1", "LOGIN", "jgrants", "u1"),
        ("e2", "USER_INFO_REQUEST", None, None),
    ]
    assert events[0].time == dt.datetime.fromtimestamp(T0 / 1000, dt.UTC)
    assert [d["decision_id"] for d in archive.decisions()] == ["d1"]
    # A window lists its days (and one either side): the object of the next morning is found.
    assert [e.id for e in archive.keycloak_events(DAY, DAY + dt.timedelta(minutes=1))] == ["e1", "e2"]
    # A window far away lists other days only.
    later = DAY + dt.timedelta(days=10)
    assert list(archive.keycloak_events(later, later)) == [] and list(archive.decisions(later, later)) == []


def test_a_corrupt_object_in_the_bucket_is_named(s3_server: S3Server) -> None:
    bucket = s3_server.bucket(locked=True)
    _fill(s3_server, bucket)
    key = firehose_key("opa-decisions", DAY, 7)
    _put(s3_server, bucket, key, record("/g", [(T0, decision_line("d2", "u1", T0))])[:-3])
    with pytest.raises(ArchiveError, match=rf"s3://{bucket}/{key}: truncated gzip member"):
        list(_archive(s3_server, bucket).decisions())
    cut = firehose_key("keycloak-events", DAY, 8)
    _put(s3_server, bucket, cut, record("/g", [(T0, keycloak_line('bizid-event {"id":"e9","time":', T0))]))
    with pytest.raises(ArchiveError, match=rf"s3://{bucket}/{cut}: log event .*does not parse"):
        list(_archive(s3_server, bucket).keycloak_events())


def test_a_missing_bucket_is_an_error_naming_it(s3_server: S3Server) -> None:
    with pytest.raises(
        S3StoreError, match=r"s3://bizid-no-such-archive/: list keycloak-events/: NoSuchBucket"
    ):
        list(_archive(s3_server, "bizid-no-such-archive").keycloak_events())


# --- the operator's grant: exactly what the reader asks for -------------------------------------------------


def _statements(stack: str) -> list[dict[str, Any]]:
    graph = graph_of(stack)
    (policy,) = [
        p for p in graph.of_type("aws:iam/policy:Policy") if p.inputs.get("name") == f"bizid-{stack}-operator"
    ]
    document = policy.inputs["policy"]
    return list((json.loads(document) if isinstance(document, str) else document)["Statement"])


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def allowed(statements: list[dict[str, Any]], action: str, resource: str, prefix: str | None = None) -> bool:
    """IAM's evaluation for these Allow-only statements: action and resource match (wildcards), and a
    `StringLike s3:prefix` condition, when there is one, matches the request's prefix."""
    for st in statements:
        if st["Effect"] != "Allow" or action not in _as_list(st["Action"]):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(st["Resource"])):
            continue
        condition = st.get("Condition") or {}
        like = (condition.get("StringLike") or {}).get("s3:prefix")
        if like is not None and (prefix is None or not any(fnmatch.fnmatchcase(prefix, p) for p in like)):
            continue
        if set(condition) - {"StringLike", "StringEquals"}:
            continue
        return True
    return False


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_operator_may_read_the_archive_prefixes_and_nothing_more(stack: str) -> None:
    graph = graph_of(stack)
    statements = _statements(stack)
    locked = [b for b in graph.of_type("aws:s3/bucket:Bucket") if b.inputs.get("objectLockEnabled")]
    assert locked
    for bucket in locked:
        arn = bucket.state["arn"]
        for source in archive_s3.SOURCES:
            # What S3AuditArchive asks: ListObjectsV2 under a day (or the whole source), then GetObject.
            for prefix in (f"{source}/", *archive_s3.day_prefixes(source, DAY, DAY)):
                assert allowed(statements, "s3:ListBucket", arn, prefix), (stack, prefix)
            key = firehose_key(source, DAY)
            assert allowed(statements, "s3:GetObject", f"{arn}/{key}"), (stack, key)
            assert not allowed(statements, "s3:PutObject", f"{arn}/{key}"), (stack, key)
            assert not allowed(statements, "s3:DeleteObject", f"{arn}/{key}"), (stack, key)
        # Nothing else of the bucket: Firehose's error objects, the whole bucket, another prefix.
        assert not allowed(statements, "s3:GetObject", f"{arn}/errors/keycloak-events/x.gz")
        assert not allowed(statements, "s3:ListBucket", arn, "errors/")
        assert not allowed(statements, "s3:ListBucket", arn, "")
        assert not allowed(statements, "s3:ListBucket", arn, None)
        assert not allowed(statements, "s3:GetObject", f"{arn}/keycloak-eventsX/x.gz")
    # The landing bucket (unlocked copies) is not the operator's.
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        if not bucket.inputs.get("objectLockEnabled"):
            arn = bucket.state["arn"]
            assert not allowed(statements, "s3:GetObject", f"{arn}/{firehose_key('keycloak-events', DAY)}")
    # The objects are SSE-KMS with the region's stack key: decrypt through S3 only.
    kms = [
        st for st in statements if "kms:Decrypt" in _as_list(st["Action"]) and st["Sid"].startswith("Trail")
    ]
    assert kms and all(st["Condition"]["StringEquals"]["kms:ViaService"].startswith("s3.") for st in kms)


# --- the bucket from the stack's outputs, not a hand copy ---------------------------------------------------


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("stack", ["dev", "staging", "prod"])
def test_each_deployed_target_names_its_bucket_by_a_stack_output(
    stack: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pulumi stack output --json` of the stack (here: the mocked graph's outputs, the same names and
    values a real `pulumi up` exports) gives the target its archive bucket: its region's locked bucket."""
    graph = graph_of(stack)
    target = yaml.safe_load((loader.DEFINITIONS_DIR / "targets" / f"{stack}.yaml").read_text())
    trail = target["operator_trail"]
    assert "bucket" not in trail and trail["bucket_output"] in graph.outputs
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(graph.outputs))
    monkeypatch.setenv("BIZID_TEST_OPERATOR_SECRET", "s")
    definition = target_files.load_definition(stack, loader.DEFINITIONS_DIR)[1]
    assert definition.operator_trail is not None
    home, missing = target_files._trail_home(Path(f"{stack}.yaml"), definition.operator_trail, outputs)
    assert missing is None and home is not None
    by_name = {b.state["bucket"]: b for b in graph.of_type("aws:s3/bucket:Bucket")}
    assert home.bucket in by_name and by_name[home.bucket].inputs.get("objectLockEnabled")
    assert by_name[home.bucket].region == home.region
    # Without the file: no trail, and the reason says how to get it.
    home, missing = target_files._trail_home(Path(f"{stack}.yaml"), definition.operator_trail, None)
    assert home is None and missing and "--stack-outputs" in missing and "pulumi" in missing


def _stand_in(tmp_path: Path, trail: dict[str, Any]) -> Path:
    directory = tmp_path / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    body: dict[str, Any] = {
        "keycloak_url": "https://127.0.0.1:9",  # nothing listens: a request to Keycloak would show
        "opa_url": "http://127.0.0.1:8181",
        "service_account": {"secret": {"env": "BIZID_TEST_RECONCILER_SECRET"}},
        "operator_account": {"secret": {"env": "BIZID_TEST_OPERATOR_SECRET"}},
        "operator_trail": trail,
        "client_secrets": {"files": str(tmp_path / "rp-secrets")},
        "smtp": {"host": "127.0.0.1", "port": 2525},
        "rps": {
            rp.client_id: {"redirect_uris": [f"https://{rp.client_id}.example/cb"]}
            for rp in loader.load().rps
        },
    }
    (directory / "targets" / "stand-in.yaml").write_text(yaml.safe_dump(body))
    return directory


def test_stack_outputs_bad_input_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BIZID_TEST_OPERATOR_SECRET", "s")
    monkeypatch.delenv("BIZID_STACK_OUTPUTS", raising=False)
    directory = _stand_in(tmp_path, {"bucket_output": "tokyoAuditBucket", "region": REGION})
    out_dir = tmp_path / "reports"
    args = ("--target", "stand-in", "--definitions", str(directory))
    code, _out, err = _run("report", "monthly", "--month", "2026-11", "--out", str(out_dir), *args)
    assert code == 2 and "operator_trail.bucket_output" in err and "--stack-outputs" in err, err
    for body, says in (
        ("{not json", "not JSON"),
        ("[1]", "not a JSON object"),
        (json.dumps({"osakaAuditBucket": "bizid-dev-audit-1"}), "no stack output 'tokyoAuditBucket'"),
        (json.dumps({"tokyoAuditBucket": "Not_A_Bucket"}), "not an S3 bucket name (value: 'Not_A_Bucket')"),
    ):
        outputs = tmp_path / "outputs.json"
        outputs.write_text(body)
        code, _out, err = _run(
            "report", "monthly", "--out", str(out_dir), *args, "--stack-outputs", str(outputs)
        )
        assert code == 2 and says in err and str(outputs) in err and "Traceback" not in err, (body, err)
    code, _out, err = _run("audit", "verify", *args, "--stack-outputs", str(tmp_path / "none.json"))
    assert code == 2 and "none.json: cannot read it" in err, err
    # Both or neither: refused when the file is read.
    (directory / "targets" / "stand-in.yaml").write_text(
        (directory / "targets" / "stand-in.yaml")
        .read_text()
        .replace(
            "bucket_output: tokyoAuditBucket", "bucket_output: tokyoAuditBucket\n  bucket: bizid-dev-audit-1"
        )
    )
    code, _out, err = _run("audit", "verify", *args)
    assert code == 2 and "stand-in.yaml" in err and "name the bucket once" in err, err
    assert not out_dir.exists()


def test_report_and_trace_stop_at_a_bad_archive_writing_nothing(
    s3_server: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corrupt object or a missing bucket: exit 2 with the s3:// URI, before Keycloak is asked (nothing
    listens at this target's Keycloak: a request would say so) and before any file is written."""
    monkeypatch.setenv("BIZID_TEST_OPERATOR_SECRET", "s")
    bucket = s3_server.bucket(locked=True)
    _fill(s3_server, bucket)
    key = firehose_key("keycloak-events", DAY, 9)
    _put(s3_server, bucket, key, b"\x1f\x8b\x08\x00garbage")
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps({"tokyoAuditBucket": bucket}))
    trail = {"bucket_output": "tokyoAuditBucket", "region": REGION, "endpoint_url": s3_server.endpoint}
    directory = _stand_in(tmp_path, trail)
    out_dir = tmp_path / "reports"
    args = ("--target", "stand-in", "--definitions", str(directory), "--stack-outputs", str(outputs))
    code, out, err = _run("report", "monthly", "--month", "2026-11", "--out", str(out_dir), *args)
    assert code == 2 and f"s3://{bucket}/{key}" in err and "Traceback" not in err, (out, err)
    assert "cannot reach" not in err and not out_dir.exists()
    code, out, err = _run("audit", "trace", "--account", "someone", *args)
    assert code == 2 and f"s3://{bucket}/{key}" in err and "Traceback" not in err, (out, err)
    assert "cannot reach" not in err and out == "", (out, err)
    outputs.write_text(json.dumps({"tokyoAuditBucket": "bizid-no-such-archive"}))
    code, out, err = _run("report", "monthly", "--month", "2026-11", "--out", str(out_dir), *args)
    assert code == 2 and "s3://bizid-no-such-archive/" in err and "NoSuchBucket" in err, err
    assert not out_dir.exists()
    # No access: credentials S3 refuses.
    outputs.write_text(json.dumps({"tokyoAuditBucket": bucket}))
    import boto3

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)  # boto3 keeps the credentials it resolved first
    code, out, err = _run("report", "monthly", "--month", "2026-11", "--out", str(out_dir), *args)
    assert code == 2 and f"s3://{bucket}/" in err and "SignatureDoesNotMatch" in err, err
    assert "Traceback" not in err and not out_dir.exists()
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    boto3.DEFAULT_SESSION = None
    # Unreachable: nothing listens at the endpoint.
    unreachable = {**trail, "endpoint_url": "http://127.0.0.1:9"}
    directory = _stand_in(tmp_path / "unreachable", unreachable)
    args = ("--target", "stand-in", "--definitions", str(directory), "--stack-outputs", str(outputs))
    code, out, err = _run("report", "monthly", "--month", "2026-11", "--out", str(out_dir), *args)
    assert code == 2 and f"s3://{bucket}/" in err and "Traceback" not in err, err
    assert not out_dir.exists()
