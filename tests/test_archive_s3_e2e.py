"""`bizid audit trace --target` and `bizid report monthly --target` read the stack's S3 audit archive, against
the real Keycloak and OPA and a real S3-compatible server (MinIO; AWS S3 cannot run here).

The records are the real platform's: after a sign-in (with a userinfo call) the archive listener's
`bizid-event` lines of `.bizid/logs/keycloak.log` and OPA's decision-log lines of `.bizid/logs/opa.log` are
wrapped as AWS would deliver them — the Keycloak line as Quarkus JSON logging writes it on ECS
(`KC_LOG_CONSOLE_OUTPUT=json`), each batch a gzip'd CloudWatch Logs subscription record, several records and a
CONTROL_MESSAGE concatenated into Firehose objects under `<source>/YYYY/MM/DD/` — and put into a locked
bucket. The target is a loopback stand-in of a deployed platform (this checkout's own Keycloak reached as
the operator account only, tests/test_operator_account_e2e.py) whose trail names its bucket by a stack
output, read from a `pulumi stack output --json`-shaped file. Same records, same output as the local
platform's commands, which read the files.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from realm import event_archive, loader
from realm.models import Definitions, Tier
from scripts.settings import Settings
from scripts.targets import BOOTSTRAP_PASSWORD_ENV, BOOTSTRAP_USERNAME_ENV
from tests.conftest import MakeAccount, new_browser, rp_client
from tests.conftest import run_cli as run
from tests.s3_server import S3Server
from tests.test_archive_s3 import _put, control_record, firehose_key, keycloak_line, record

pytestmark = pytest.mark.platform

TARGET = "archive-stand-in"
OPERATOR_SECRET_ENV = "BIZID_ARCHIVE_OPERATOR_SECRET"
RECONCILER_SECRET_ENV = "BIZID_ARCHIVE_RECONCILER_SECRET"
REGION = "ap-northeast-1"
BATCH = 3
"""Log events per CloudWatch Logs record; records per Firehose object: BATCH too (several of each)."""


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server, monkeypatch_module: pytest.MonkeyPatch) -> str:
    for name, value in s3_server.environ().items():
        monkeypatch_module.setenv(name, value)
    monkeypatch_module.delenv("AWS_PROFILE", raising=False)
    monkeypatch_module.setenv(OPERATOR_SECRET_ENV, secrets.token_urlsafe(32))
    monkeypatch_module.setenv(RECONCILER_SECRET_ENV, secrets.token_urlsafe(32))
    return s3_server.bucket(locked=True)


@pytest.fixture(scope="module")
def stand_in(
    tmp_path_factory: pytest.TempPathFactory,
    platform: Settings,
    bucket: str,
    s3_server: S3Server,
    monkeypatch_module: pytest.MonkeyPatch,
) -> tuple[str, ...]:
    """The target file (bucket by stack output), the outputs file, the one-time bootstrap; the CLI args."""
    from scripts import cli

    root = tmp_path_factory.mktemp("archive-target")
    directory = root / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    body = {
        "keycloak_url": platform.keycloak_url,
        "ca_cert": str(platform.paths.ca_cert),
        "opa_url": platform.opa_url,
        "service_account": {"client_id": "bizid-realm-admin", "secret": {"env": RECONCILER_SECRET_ENV}},
        "operator_account": {"client_id": "bizid-operator", "secret": {"env": OPERATOR_SECRET_ENV}},
        "operator_trail": {
            "bucket_output": "tokyoAuditBucket",
            "region": REGION,
            "endpoint_url": s3_server.endpoint,
        },
        "client_secrets": {"files": str(root / "rp-secrets")},
        "smtp": {"host": "127.0.0.1", "port": platform.ports.mail_smtp},
        "rps": {
            rp.client_id: {"redirect_uris": [f"https://{rp.client_id}.stand-in.example/callback"]}
            for rp in loader.load().rps
        },
    }
    (directory / "targets" / f"{TARGET}.yaml").write_text(yaml.safe_dump(body))
    outputs = root / "stack-outputs.json"  # as `pulumi stack output --json` prints it
    outputs.write_text(json.dumps({"tokyoAuditBucket": bucket, "operatorTrailPrefix": "operator-trail/"}))
    args = ("--target", TARGET, "--definitions", str(directory), "--stack-outputs", str(outputs))
    monkeypatch_module.setenv(BOOTSTRAP_USERNAME_ENV, platform.admin_username)
    monkeypatch_module.setenv(BOOTSTRAP_PASSWORD_ENV, platform.secret("admin-password"))
    assert cli.main(["realm", "bootstrap", "--target", TARGET, "--definitions", str(directory)]) == 0
    monkeypatch_module.delenv(BOOTSTRAP_USERNAME_ENV)
    monkeypatch_module.delenv(BOOTSTRAP_PASSWORD_ENV)
    return args


def _keycloak_messages(platform: Settings) -> list[tuple[int, str]]:
    """(time ms, the log message) of every archive line: what Keycloak logs on org.keycloak.events."""
    found = []
    for path in event_archive.log_files(platform.paths.logs):
        for line in path.read_text(errors="replace").splitlines():
            at = line.find(event_archive.MARKER)
            if at >= 0:
                raw = event_archive.payload(line)
                assert raw is not None, line
                found.append((int(raw["time"]), line[at:]))
    return found


def _opa_messages(platform: Settings) -> list[tuple[int, str]]:
    found = []
    for path in sorted(platform.paths.logs.glob("opa.log*")):
        for line in path.read_text(errors="replace").splitlines():
            if '"Decision Log"' in line:
                given = json.loads(line)
                stamp = re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", str(given.get("time") or ""))
                assert stamp, line
                when = dt.datetime.fromisoformat(stamp.group(0)).replace(tzinfo=dt.UTC)
                found.append((int(when.timestamp() * 1000), line))
    return found


def _upload(server: S3Server, bucket: str, source: str, group: str, events: list[tuple[int, str]]) -> int:
    """Firehose objects of CloudWatch Logs records, BATCH events per record and BATCH records per object,
    each object under the day of its first event, a CONTROL_MESSAGE in the first; returns objects written."""
    records = [events[i : i + BATCH] for i in range(0, len(events), BATCH)]
    objects = [records[i : i + BATCH] for i in range(0, len(records), BATCH)]
    for n, batch in enumerate(objects):
        body = control_record(group) if n == 0 else b""
        body += b"".join(record(group, r, stream=f"{source}/task/{n % 2}") for r in batch)
        when = dt.datetime.fromtimestamp(batch[0][0][0] / 1000, dt.UTC)
        _put(server, bucket, firehose_key(source, when, n), body)
    return len(objects)


def _wait(probe: Any, what: str, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := probe()):
        assert time.monotonic() < deadline, f"not found in time: {what}"
        time.sleep(0.5)
    return found


@pytest.fixture(scope="module")
def archived(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    bucket: str,
    s3_server: S3Server,
) -> Any:
    """A Prime signed in at jgrants and called userinfo; then every archive and decision line of the platform
    so far is in the bucket as AWS would have put it."""
    prime = make_account(Tier.PRIME)
    import pyotp

    browser = new_browser(platform)
    otp = (lambda: pyotp.TOTP(prime.totp_base32 or "").now()) if prime.totp_secret else None
    result = browser.login(
        rp_client(platform, definitions, "jgrants"), prime.username, prime.password, otp=otp
    )
    assert result.ok and result.tokens, result
    browser.userinfo(result.tokens["access_token"])

    def mine(kind: str) -> bool:
        return any(
            e.user == prime.user_id and e.type == kind
            for e in event_archive.read(event_archive.log_files(platform.paths.logs))
        )

    _wait(lambda: mine("LOGIN") and mine("USER_INFO_REQUEST"), "the sign-in's archive lines")
    _wait(lambda: any(prime.user_id in m for _, m in _opa_messages(platform)), "its decision-log lines")
    time.sleep(1)  # the request's last lines (the same second)
    kc = _keycloak_messages(platform)
    opa = _opa_messages(platform)
    wrapped = [(t, keycloak_line(m, t)) for t, m in kc]
    assert _upload(s3_server, bucket, "keycloak-events", "/bizid/stand-in/keycloak", wrapped) >= 2
    assert _upload(s3_server, bucket, "opa-decisions", "/bizid/stand-in/opa", opa) >= 1
    return prime


def test_audit_trace_on_the_target_joins_the_archive_as_the_local_trace_joins_the_files(
    archived: Any, stand_in: tuple[str, ...], capsys: pytest.CaptureFixture[str]
) -> None:
    code, local, err = run(capsys, "audit", "trace", "--account", archived.username)
    assert code == 0, err
    code, remote, err = run(capsys, "audit", "trace", "--account", archived.username, *stand_in)
    assert code == 0, err
    assert "audit archive s3://" in err, err
    rows = remote.splitlines()
    # The joined rows are there: OPA's access and release decisions, the token and userinfo rows with the
    # release decision id (USER_INFO_REQUEST is only in the archived copy, not in Keycloak's store).
    assert any(" opa " in r and "bizid.access" in r and "allow" in r for r in rows), remote
    release = [re.search(r"release_decision_id=(\S+)", r) for r in rows if "USER_INFO_REQUEST" in r]
    assert release and release[0], remote
    assert any(" opa " in r and f"decision_id={release[0].group(1)}" in r for r in rows), remote
    assert any("keycloak-login" in r and " LOGIN " in r and "client=jgrants" in r for r in rows), remote
    # Same records, same view.
    assert remote == local


def _sections(md: str) -> dict[str, str]:
    parts = re.split(r"^## ", md, flags=re.M)[1:]
    return {p.split("\n", 1)[0]: p for p in parts}


def test_report_monthly_on_the_target_counts_the_archived_events(
    archived: Any, stand_in: tuple[str, ...], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    code, _, err = run(capsys, "report", "monthly", "--month", month, "--out", str(tmp_path / "local"))
    assert code == 0, err
    code, _, err = run(capsys, "report", "monthly", "--month", month, "--out", str(tmp_path / "t"), *stand_in)
    assert code == 0, err
    local = _sections((tmp_path / "local" / f"monthly-{month}.md").read_text())
    remote = _sections((tmp_path / "t" / f"monthly-{month}.md").read_text())
    for section in ("Sign-ins per RP", "Userinfo calls per RP", "New accounts per tier"):
        assert remote[section] == local[section], (section, remote[section], local[section])
    assert re.search(r"^\| jgrants \| [1-9]\d* \|$", remote["Sign-ins per RP"], re.M), remote
    assert re.search(r"^\| jgrants \| [1-9]\d* \|$", remote["Userinfo calls per RP"], re.M), remote
    assert re.search(r"^\| prime \| [1-9]\d* \|$", remote["New accounts per tier"], re.M), remote
