"""The review queue of a deployed target, shared by every operator's desk (realm/review_queue_s3.py), against
the real Keycloak (this checkout's platform, reached as a deployed stand-in through its operator account, as
tests/test_operator_account_e2e.py does) and a real S3 server on loopback (MinIO, a bucket with Object Lock
in compliance mode like the audit archive).

- desk A submits, desk B (another state folder: nothing shared but S3) lists and approves: the account is a
  Prime, the objects are `review/<id>/application.json|claim-001.json|outcome-001.json`, named by ids only,
  and no command prints the representative's name or the address;
- an approval and a rejection of one application at the same time: exactly one is applied, the other is
  refused ("already decided by ... at ..."), Keycloak changed once (its admin events);
- Keycloak refusing the upgrade leaves the account unchanged and the application pending (attempt 2 decides);
  a desk that loses S3 or stops midway leaves a `claimed` application that `review list` shows and
  `review recover` settles from the account, both ways;
- bad input (unknown or malformed id, already decided, an unreachable bucket, no operator_trail) exits 2
  with a message naming the value, and writes nothing to S3 or Keycloak.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from realm import loader, upgrade_review
from realm.admin import admin_client
from realm.lifecycle import Actor, LifecycleError
from realm.models import Definitions, Tier
from realm.operator_audit_s3 import S3OperatorAuditTrail
from realm.review_queue_s3 import S3ReviewQueue, queue_for
from realm.s3_store import S3StoreError
from realm.target import ServiceAccountLogin, Target
from realm.targets import OperatorTrail
from realm.upgrade_review import Evidence
from scripts import cli
from scripts.settings import Settings
from scripts.targets import BOOTSTRAP_PASSWORD_ENV, BOOTSTRAP_USERNAME_ENV
from tests.conftest import MakeAccount
from tests.conftest import run_cli as run
from tests.s3_server import S3Server
from tests.test_lifecycle import _company
from tests.test_operator_account_e2e import _target_file, _user_admin_events

pytestmark = pytest.mark.platform

TARGET = "review-stand-in"
OPERATOR_SECRET_ENV = "BIZID_STAND_IN_OPERATOR_SECRET"
RECONCILER_SECRET_ENV = "BIZID_STAND_IN_RECONCILER_SECRET"
REGION = "ap-northeast-1"
DESK_A, DESK_B = "op.desk-a", "op.desk-b"
REPRESENTATIVE = "Hanako Daihyo"
ADDRESS = "2-2 Otemachi, Chiyoda-ku, Tokyo"


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def bucket(s3_server: S3Server, monkeypatch_module: pytest.MonkeyPatch) -> str:
    for name, value in s3_server.environ().items():
        monkeypatch_module.setenv(name, value)
    monkeypatch_module.delenv("AWS_PROFILE", raising=False)
    return s3_server.bucket(locked=True)


@pytest.fixture(scope="module")
def definitions_dir(
    tmp_path_factory: pytest.TempPathFactory, platform: Settings, bucket: str, s3_server: S3Server
) -> Path:
    directory = tmp_path_factory.mktemp("review-target") / "definitions"
    shutil.copytree(loader.DEFINITIONS_DIR, directory)
    trail = {"bucket": bucket, "region": REGION, "endpoint_url": s3_server.endpoint}
    for name, home in (
        (TARGET, trail),
        (f"{TARGET}-bad-bucket", {**trail, "bucket": "bizid-no-such-review-bucket"}),
        (f"{TARGET}-no-trail", None),
    ):
        body = _target_file(platform, directory.parent / "rp-secrets", home or {})
        if home is None:
            del body["operator_trail"]
        (directory / "targets" / f"{name}.yaml").write_text(yaml.safe_dump(body))
    return directory


@pytest.fixture(scope="module")
def operator_secret(platform: Settings, definitions_dir: Path, monkeypatch_module: pytest.MonkeyPatch) -> str:
    """`bizid realm bootstrap --target` once (bizid-operator gets this module's secret)."""
    value = secrets.token_urlsafe(32)
    monkeypatch_module.setenv(OPERATOR_SECRET_ENV, value)
    monkeypatch_module.setenv(RECONCILER_SECRET_ENV, secrets.token_urlsafe(32))
    monkeypatch_module.setenv(BOOTSTRAP_USERNAME_ENV, platform.admin_username)
    monkeypatch_module.setenv(BOOTSTRAP_PASSWORD_ENV, platform.secret("admin-password"))
    assert cli.main(["realm", "bootstrap", "--target", TARGET, "--definitions", str(definitions_dir)]) == 0
    monkeypatch_module.delenv(BOOTSTRAP_USERNAME_ENV)
    monkeypatch_module.delenv(BOOTSTRAP_PASSWORD_ENV)
    return value


@pytest.fixture
def desks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Two operators' machines: each its own state folder (`.bizid`); only S3 is shared."""
    return {DESK_A: tmp_path / "desk-a" / ".bizid", DESK_B: tmp_path / "desk-b" / ".bizid"}


def _at(
    desk: str,
    desks: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    definitions_dir: Path,
    *argv: str,
    target: str = TARGET,
) -> tuple[int, str, str]:
    monkeypatch.setenv("BIZID_STATE_DIR", str(desks[desk]))
    try:
        return run(capsys, *argv, "--target", target, "--definitions", str(definitions_dir))
    finally:
        monkeypatch.delenv("BIZID_STATE_DIR")


def _evidence(**overrides: str) -> Evidence:
    fields = {
        "corporate_number": _company()["corporate_number"],
        "corporate_name": "Shared Queue K.K.",
        "representative_name": REPRESENTATIVE,
        "address": ADDRESS,
        "seal_certificate": "SEAL-2026-000777",
        **overrides,
    }
    return Evidence(**fields)


def _submit_args(username: str, evidence: Evidence) -> tuple[str, ...]:
    return (
        "review", "submit", "--username", username, "--corporate-number", evidence.corporate_number or "",
        "--corporate-name", evidence.corporate_name, "--representative-name", evidence.representative_name,
        "--address", evidence.address, "--seal-certificate", evidence.seal_certificate,
    )  # fmt: skip


def _keys(s3_server: S3Server, bucket: str, under: str = "review/") -> list[str]:
    listed = s3_server.client().list_objects_v2(Bucket=bucket, Prefix=under)
    return sorted(o["Key"] for o in listed.get("Contents", []))


def _state(admin: Any, user_id: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    user = admin.get_user(user_id)
    return user.get("attributes") or {}, sorted((c["type"], c["id"]) for c in admin.get_credentials(user_id))


def _updates(admin: Any, user_id: str) -> int:
    return len([e for e in _user_admin_events(admin, user_id) if e["operationType"] == "UPDATE"])


def _operator_admin(platform: Settings, secret: str) -> Any:
    return admin_client(
        Target(
            keycloak_url=platform.keycloak_url,
            login=ServiceAccountLogin("bizid-operator", secret),
            ca_cert=platform.paths.ca_cert,
            opa_url=platform.opa_url,
        )
    )


def _home(bucket: str, s3_server: S3Server) -> OperatorTrail:
    return OperatorTrail(bucket=bucket, region=REGION, endpoint_url=s3_server.endpoint)


def test_submitted_at_one_desk_approved_at_another(
    platform: Settings,
    definitions_dir: Path,
    operator_secret: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
    desks: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = make_account(Tier.ENTRY)
    evidence = _evidence()
    code, out, err = _at(
        DESK_A, desks, monkeypatch, capsys, definitions_dir, *_submit_args(entry.username, evidence)
    )
    assert code == 0, (out, err)
    found = re.search(r"app-[0-9a-f]{12}", out)
    assert found, out
    application_id = found.group()

    code, out, err = _at(
        DESK_B, desks, monkeypatch, capsys, definitions_dir, "review", "list", "--status", "pending"
    )
    assert code == 0, (out, err)
    assert application_id in out and "SEAL-2026-000777" in out and f"s3://{bucket}/review/" in out
    printed = out

    code, out, err = _at(
        DESK_B, desks, monkeypatch, capsys, definitions_dir,
        "review", "approve", "--id", application_id, "--reason", "seal checked", "--operator", DESK_B,
    )  # fmt: skip
    assert code == 0, (out, err)
    printed += out
    attributes, credentials = _state(admin, entry.user_id)
    assert attributes["tier"] == ["prime"] and attributes["corporate_number"] == [evidence.corporate_number]
    assert attributes["representative_name"] == [REPRESENTATIVE] and "otp" in {t for t, _ in credentials}

    # Desk A sees the decision; approving again there is refused, naming who decided and when. An application
    # left in its former local folder is not read, and it is told so.
    former = desks[DESK_A] / "targets" / TARGET / "review"
    former.mkdir(parents=True)
    (former / "app-00000000abcd.json").write_text("{}")
    code, out, err = _at(DESK_A, desks, monkeypatch, capsys, definitions_dir, "review", "list")
    assert code == 0 and re.search(rf"{application_id}\s+approved .* by {DESK_B} at ", out), out
    assert f"note: {former} holds applications" in err and "app-00000000abcd" not in out, err
    shutil.rmtree(former)
    printed += out
    updates = _updates(admin, entry.user_id)
    code, out, err = _at(
        DESK_A, desks, monkeypatch, capsys, definitions_dir,
        "review", "approve", "--id", application_id, "--reason", "again", "--operator", DESK_A,
    )  # fmt: skip
    assert code == 2 and f"--id {application_id!r}: already decided by {DESK_B} at " in err, err
    assert _updates(admin, entry.user_id) == updates

    # In S3 only, named by ids; the desks keep no review folder.
    assert _keys(s3_server, bucket) == [
        f"review/{application_id}/application.json",
        f"review/{application_id}/claim-001.json",
        f"review/{application_id}/outcome-001.json",
    ]
    assert all(entry.username not in k and entry.user_id not in k for k in _keys(s3_server, bucket))
    for desk in desks.values():
        assert not list(desk.rglob("review")), desk
    stored = s3_server.client().get_object(Bucket=bucket, Key=f"review/{application_id}/application.json")
    assert json.loads(stored["Body"].read())["evidence"]["address"] == ADDRESS
    # Personal data stays in the bucket: no command printed the representative or the address.
    assert REPRESENTATIVE not in printed and ADDRESS not in printed
    trail = S3OperatorAuditTrail(_home(bucket, s3_server))
    actions = [(e.action, e.operator) for e in trail.entries(entry.user_id)]
    assert actions == [("upgrade", DESK_B)]
    assert REPRESENTATIVE not in trail.entries(entry.user_id)[0].line()


def test_approve_and_reject_at_once_apply_exactly_one(
    platform: Settings,
    definitions: Definitions,
    operator_secret: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
) -> None:
    """Both desks pass every check, then write their claim at the same moment (a barrier): S3 creates one."""
    entry = make_account(Tier.ENTRY)
    home = _home(bucket, s3_server)
    application = upgrade_review.submit(
        _operator_admin(platform, operator_secret), queue_for(home), entry.username, _evidence()
    )
    before, updates = _state(admin, entry.user_id), _updates(admin, entry.user_id)
    barrier = threading.Barrier(2, timeout=60)
    results: dict[str, Any] = {}

    def desk(name: str) -> None:
        queue = queue_for(home)
        real = queue.store.put_if_absent

        def put(name: str, body: bytes, content_type: str = "application/json") -> bool:
            if "/claim-" in name:
                barrier.wait()
            return real(name, body, content_type)

        queue.store.put_if_absent = put  # type: ignore[method-assign]
        actor = Actor(name, f"decided at {name}")
        operator = _operator_admin(platform, operator_secret)
        trail = S3OperatorAuditTrail(home)
        try:
            if name == DESK_A:
                results[name] = upgrade_review.approve(
                    operator, definitions, queue, application.id, actor, trail
                )
            else:
                results[name] = upgrade_review.reject(operator, queue, application.id, actor, trail)
        except LifecycleError as exc:
            results[name] = exc

    threads = [threading.Thread(target=desk, args=(n,)) for n in (DESK_A, DESK_B)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    refused = [n for n, r in results.items() if isinstance(r, LifecycleError)]
    assert len(results) == 2 and len(refused) == 1, results
    (loser,) = refused
    winner = DESK_B if loser == DESK_A else DESK_A
    assert re.search(rf"already decided by {winner} at \S+Z", str(results[loser])), results[loser]
    decided = queue_for(home).get(application.id)
    assert decided.decided_by == winner and decided.attempt == 1
    keys = _keys(s3_server, bucket, f"review/{application.id}/")
    assert [k.rsplit("/", 1)[1] for k in keys] == ["application.json", "claim-001.json", "outcome-001.json"]
    actions = [e.action for e in S3OperatorAuditTrail(home).entries(entry.user_id)]
    if winner == DESK_A:
        assert decided.status == "approved" and _state(admin, entry.user_id)[0]["tier"] == ["prime"]
        assert _updates(admin, entry.user_id) == updates + 1 and actions == ["upgrade"]
    else:
        assert decided.status == "rejected" and _state(admin, entry.user_id) == before
        assert _updates(admin, entry.user_id) == updates and actions == ["upgrade-reject"]


def test_keycloak_refusing_the_upgrade_leaves_it_pending(
    platform: Settings,
    definitions: Definitions,
    operator_secret: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
) -> None:
    entry = make_account(Tier.ENTRY)
    home = _home(bucket, s3_server)
    operator = _operator_admin(platform, operator_secret)
    # Valid as far as bizid checks; Keycloak's user profile refuses a 300-character name.
    application = upgrade_review.submit(
        operator, queue_for(home), entry.username, _evidence(representative_name="R" * 300)
    )
    before = _state(admin, entry.user_id)
    with pytest.raises(LifecycleError, match=r"Keycloak refused the upgrade.*unchanged.*pending again"):
        upgrade_review.approve(
            operator,
            definitions,
            queue_for(home),
            application.id,
            Actor(DESK_A, "ok"),
            S3OperatorAuditTrail(home),
        )
    assert _state(admin, entry.user_id) == before
    again = queue_for(home).get(application.id)
    assert again.status == "pending" and again.attempt == 1
    assert S3OperatorAuditTrail(home).entries(entry.user_id) == []
    # The next decision is attempt 2, by another desk.
    upgrade_review.reject(
        operator, queue_for(home), application.id, Actor(DESK_B, "name too long"), S3OperatorAuditTrail(home)
    )
    names = [k.rsplit("/", 1)[1] for k in _keys(s3_server, bucket, f"review/{application.id}/")]
    assert names == [
        "application.json", "claim-001.json", "claim-002.json", "outcome-001.json", "outcome-002.json"
    ]  # fmt: skip
    assert queue_for(home).get(application.id).status == "rejected"
    assert _state(admin, entry.user_id) == before


def test_a_desk_that_loses_s3_midway_leaves_a_claim_recover_settles(
    platform: Settings,
    definitions: Definitions,
    definitions_dir: Path,
    operator_secret: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
    desks: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The update went in, then the outcome could not be written: the account is put back; the claim stays
    open (shown by `review list`, refusing other desks) until `recover` settles it as failed."""
    entry = make_account(Tier.ENTRY)
    home = _home(bucket, s3_server)
    operator = _operator_admin(platform, operator_secret)
    application = upgrade_review.submit(operator, queue_for(home), entry.username, _evidence())
    before, updates = _state(admin, entry.user_id), _updates(admin, entry.user_id)

    def s3_gone(self: S3ReviewQueue, *args: Any) -> Any:
        raise S3StoreError(f"{self.where}: put outcome: EndpointConnectionError")

    with monkeypatch.context() as broken:
        broken.setattr(S3ReviewQueue, "settle", s3_gone)
        with pytest.raises(LifecycleError, match=r"put back as it was.*review recover --id"):
            upgrade_review.approve(
                operator,
                definitions,
                queue_for(home),
                application.id,
                Actor(DESK_A, "ok"),
                S3OperatorAuditTrail(home),
            )
    assert _updates(admin, entry.user_id) > updates, "the update did not happen: nothing was tested"
    assert _state(admin, entry.user_id)[0] == before[0] and _state(admin, entry.user_id)[1] == before[1]
    code, out, err = _at(
        DESK_B, desks, monkeypatch, capsys, definitions_dir, "review", "list", "--status", "claimed"
    )
    assert code == 0 and application.id in out and f"claimed to approve by {DESK_A}" in out, (out, err)
    assert "no outcome yet" in out and "review recover" in out
    code, out, err = _at(
        DESK_B, desks, monkeypatch, capsys, definitions_dir,
        "review", "approve", "--id", application.id, "--reason", "mine now", "--operator", DESK_B,
    )  # fmt: skip
    assert code == 2 and f"already decided by {DESK_A}" in err and "not yet applied" in err, err
    # A fresh claim may still be in flight at its desk: recover leaves it alone.
    code, out, err = _at(
        DESK_B, desks, monkeypatch, capsys, definitions_dir,
        "review", "recover", "--id", application.id, "--reason", "desk A is down", "--operator", DESK_B,
    )  # fmt: skip
    assert code == 2 and "may still be applying it" in err, err
    later = dt.datetime.now(dt.UTC) + upgrade_review.CLAIM_STALE_AFTER + dt.timedelta(seconds=5)
    done = upgrade_review.recover(
        operator, definitions, queue_for(home), application.id, Actor(DESK_B, "desk A is down"),
        S3OperatorAuditTrail(home), now=later,
    )  # fmt: skip
    assert done.outcome.result == "failed" and done.application.status == "pending", done
    assert _state(admin, entry.user_id) == before
    code, out, err = _at(
        DESK_B, desks, monkeypatch, capsys, definitions_dir,
        "review", "approve", "--id", application.id, "--reason", "documents checked", "--operator", DESK_B,
    )  # fmt: skip
    assert code == 0, (out, err)
    assert queue_for(home).get(application.id).attempt == 2
    assert _state(admin, entry.user_id)[0]["tier"] == ["prime"]


def test_a_desk_that_stops_after_the_update_is_recovered_as_approved(
    platform: Settings,
    definitions: Definitions,
    operator_secret: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process dies between the update and the outcome (nothing puts the account back): `recover` sees
    the upgrade in Keycloak and records it applied; the trail gets the upgrade once."""
    entry = make_account(Tier.ENTRY)
    home = _home(bucket, s3_server)
    operator = _operator_admin(platform, operator_secret)
    application = upgrade_review.submit(operator, queue_for(home), entry.username, _evidence())

    def killed(self: S3ReviewQueue, *args: Any) -> Any:
        raise KeyboardInterrupt  # the desk's process stops here (not an error it handles)

    with monkeypatch.context() as broken:
        broken.setattr(S3ReviewQueue, "settle", killed)
        with pytest.raises(KeyboardInterrupt):
            upgrade_review.approve(
                operator,
                definitions,
                queue_for(home),
                application.id,
                Actor(DESK_A, "ok"),
                S3OperatorAuditTrail(home),
            )
    assert _state(admin, entry.user_id)[0]["tier"] == ["prime"]
    assert queue_for(home).get(application.id).status == "claimed"
    later = dt.datetime.now(dt.UTC) + upgrade_review.CLAIM_STALE_AFTER + dt.timedelta(seconds=5)
    done = upgrade_review.recover(
        operator, definitions, queue_for(home), application.id, Actor(DESK_B, "desk A crashed"),
        S3OperatorAuditTrail(home), now=later,
    )  # fmt: skip
    assert done.outcome.result == "applied" and done.application.status == "approved"
    assert "never delivered" in done.outcome.note
    assert [e.action for e in S3OperatorAuditTrail(home).entries(entry.user_id)] == ["upgrade"]
    with pytest.raises(LifecycleError, match="nothing to recover"):
        upgrade_review.recover(
            operator, definitions, queue_for(home), application.id, Actor(DESK_B, "again"),
            S3OperatorAuditTrail(home), now=later,
        )  # fmt: skip


def test_a_rejection_left_claimed_is_recovered_as_rejected(
    platform: Settings,
    definitions: Definitions,
    operator_secret: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = make_account(Tier.ENTRY)
    home = _home(bucket, s3_server)
    operator = _operator_admin(platform, operator_secret)
    application = upgrade_review.submit(operator, queue_for(home), entry.username, _evidence())
    before, updates = _state(admin, entry.user_id), _updates(admin, entry.user_id)

    def killed(self: S3ReviewQueue, *args: Any) -> Any:
        raise KeyboardInterrupt

    with monkeypatch.context() as broken:
        broken.setattr(S3ReviewQueue, "settle", killed)
        with pytest.raises(KeyboardInterrupt):
            upgrade_review.reject(
                operator,
                queue_for(home),
                application.id,
                Actor(DESK_A, "no seal"),
                S3OperatorAuditTrail(home),
            )
    assert queue_for(home).get(application.id).status == "claimed"
    later = dt.datetime.now(dt.UTC) + upgrade_review.CLAIM_STALE_AFTER + dt.timedelta(seconds=5)
    done = upgrade_review.recover(
        operator, definitions, queue_for(home), application.id, Actor(DESK_B, "desk A crashed"),
        S3OperatorAuditTrail(home), now=later,
    )  # fmt: skip
    assert done.outcome.result == "applied" and done.application.status == "rejected"
    assert done.application.decided_by == DESK_A
    assert [e.action for e in S3OperatorAuditTrail(home).entries(entry.user_id)] == ["upgrade-reject"]
    assert _state(admin, entry.user_id) == before and _updates(admin, entry.user_id) == updates


def test_bad_input_exits_2_naming_the_value_and_writes_nothing(
    platform: Settings,
    definitions_dir: Path,
    operator_secret: str,
    bucket: str,
    s3_server: S3Server,
    make_account: MakeAccount,
    admin: Any,
    desks: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = make_account(Tier.ENTRY)
    objects, updates = _keys(s3_server, bucket, ""), _updates(admin, entry.user_id)

    def at(*argv: str, target: str = TARGET) -> tuple[int, str, str]:
        return _at(DESK_A, desks, monkeypatch, capsys, definitions_dir, *argv, target=target)

    decide = ("--reason", "x", "--operator", DESK_A)
    code, _, err = at("review", "approve", "--id", "app-000000000000", *decide)
    assert code == 2 and "--id 'app-000000000000': no such application" in err, err
    code, _, err = at("review", "reject", "--id", "app-00000000000z", *decide)
    assert code == 2 and "--id 'app-00000000000z'" in err and "not an application id" in err, err
    code, _, err = at("review", "recover", "--id", "app-000000000000", *decide)
    assert code == 2 and "--id 'app-000000000000'" in err, err
    for argv in (
        _submit_args(entry.username, _evidence()),
        ("review", "list"),
        ("review", "approve", "--id", "app-000000000000", *decide),
    ):
        code, _, err = at(*argv, target=f"{TARGET}-bad-bucket")
        assert code == 2 and "s3://bizid-no-such-review-bucket/review/" in err and "NoSuchBucket" in err, err
    code, _, err = at(*_submit_args(entry.username, _evidence()), target=f"{TARGET}-no-trail")
    assert code == 2 and f"{TARGET}-no-trail.yaml" in err and "operator_trail" in err, err
    assert _keys(s3_server, bucket, "") == objects
    assert _updates(admin, entry.user_id) == updates
    assert _state(admin, entry.user_id)[0]["tier"] == ["entry"]

    # Already decided: refused by name and time, nothing more written.
    code, out, err = at(*_submit_args(entry.username, _evidence()))
    assert code == 0, err
    application_id = re.search(r"app-[0-9a-f]{12}", out).group()  # type: ignore[union-attr]
    code, out, err = at(*_submit_args(entry.username, _evidence()))
    assert code == 2 and f"application {application_id} is already pending" in err, err
    code, _, err = at("review", "reject", "--id", application_id, "--reason", "no seal", "--operator", DESK_A)
    assert code == 0, err
    objects = _keys(s3_server, bucket, "")
    for verb in ("approve", "reject"):
        code, _, err = at("review", verb, "--id", application_id, "--reason", "again", "--operator", DESK_B)
        assert code == 2 and f"--id {application_id!r}: already decided by {DESK_A} at " in err, err
        assert "(rejected)" in err
    assert _keys(s3_server, bucket, "") == objects
    assert _state(admin, entry.user_id)[0]["tier"] == ["entry"]
