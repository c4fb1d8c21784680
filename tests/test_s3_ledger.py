"""The S3 store and the reminders' S3 ledger against a real S3 server (MinIO, tests/s3_server.py): conditional
writes, checksums into an Object Lock bucket, two overlapping runs that mail each reminder once, a failed
send that is not recorded, a bad --ledger value refused before anything is mailed.

The runs use a recording notifier (the mail itself is tested through the real Mailpit in
tests/test_report_e2e.py) and accounts as the Admin API returns them, so no Keycloak is needed here."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from realm import reminders
from realm.notify import Recipient
from realm.reminders import FileLedger, ReminderError, S3Ledger, s3_folder
from realm.s3_store import AppendOnceStore, S3Location, S3StoreError
from tests.s3_server import S3Server

NOW = dt.datetime(2027, 3, 1, 0, 0, tzinfo=dt.UTC)


def _store(server: S3Server, bucket: str, prefix: str = "reminders/") -> AppendOnceStore:
    return AppendOnceStore(S3Location.parse(f"s3://{bucket}/{prefix}"), server.client())


# --- the store -------------------------------------------------------------------------------------------


def test_put_if_absent_writes_once(s3_server: S3Server, s3_bucket: str) -> None:
    store = _store(s3_server, s3_bucket)
    assert store.put_if_absent("a/one.json", b'{"n": 1}') is True
    assert store.put_if_absent("a/one.json", b'{"n": 2}') is False
    assert store.get("a/one.json") == b'{"n": 1}'  # the first write stays
    assert store.get("a/none.json") is None
    assert [o.name for o in store.list("a/")] == ["a/one.json"]
    assert store.list("b/") == []
    store.check()


def test_one_of_many_concurrent_writers_wins(s3_server: S3Server, s3_bucket: str) -> None:
    store = _store(s3_server, s3_bucket)
    results: list[bool] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        won = _store(s3_server, s3_bucket).put_if_absent("race.json", str(n).encode())
        with lock:
            results.append(won)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 7 + [True]
    assert store.get("race.json") is not None


def test_an_object_lock_bucket_takes_the_writes(s3_server: S3Server) -> None:
    """Into a compliance-locked bucket (the audit archive's kind) a PUT needs Content-MD5 or a checksum."""
    bucket = s3_server.bucket(locked=True)
    store = _store(s3_server, bucket)
    assert store.put_if_absent("x.json", b"{}") is True
    assert store.put_if_absent("x.json", b"{}") is False
    # Without either header the same server refuses the PUT: the headers are what makes it work (boto3
    # would add a CRC32 by default; told to add checksums only where the API requires one, it sends none).
    import boto3
    from botocore.config import Config

    plain = boto3.client(
        "s3",
        region_name=s3_server.region,
        endpoint_url=s3_server.endpoint,
        aws_access_key_id=s3_server.access_key,
        aws_secret_access_key=s3_server.secret_key,
        config=Config(request_checksum_calculation="when_required", s3={"addressing_style": "path"}),
    )
    with pytest.raises(Exception) as refused:
        plain.put_object(Bucket=bucket, Key="reminders/plain.json", Body=b"{}")
    assert "MD5" in str(refused.value) or "checksum" in str(refused.value).lower(), refused.value


def test_a_missing_bucket_is_named(s3_server: S3Server) -> None:
    store = _store(s3_server, "bizid-test-no-such-bucket")
    with pytest.raises(
        S3StoreError, match=r"s3://bizid-test-no-such-bucket/reminders/: not usable: NoSuchBucket"
    ):
        store.check()


# --- the ledger in runs of `bizid notify reminders` ---------------------------------------------------------


def _account(name: str, days: int, **attributes: str) -> dict[str, Any]:
    until = (NOW + dt.timedelta(days=days)).date().isoformat()
    return {
        "id": f"id-{name}",
        "username": name,
        "email": f"{name}@example.jp",
        "enabled": True,
        "attributes": {"tier": ["prime"], "status": ["active"], "valid_until": [until], **attributes},
    }


class _Admin:
    """The Admin API's user listing (what `realm.delegation_store._all_users` calls)."""

    def __init__(self, users: list[dict[str, Any]]) -> None:
        self.users = users

    def get_users(self, query: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        first = int((query or {}).get("first", 0))
        size = int((query or {}).get("max", 100))
        return self.users[first : first + size]

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the reminders run called {name} on the Admin API")


@dataclass
class _Notifier:
    """Records each mail; `fail` names accounts whose mail does not go out; `gate` holds every send until
    released, so two runs overlap."""

    fail: set[str] = field(default_factory=set)
    gate: threading.Event | None = None
    mails: list[tuple[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, kind: str, to: Recipient, detail: str = "", when: dt.datetime | None = None) -> bool:
        if self.gate is not None:
            self.gate.wait(timeout=30)
        if to.username in self.fail:
            return False
        with self.lock:
            self.mails.append((kind, to.username))
        return True


@pytest.fixture
def users() -> list[dict[str, Any]]:
    return [_account("alice", 5), _account("bob", 10), _account("carol", 90)]


def _run(ledger: reminders.Ledger, notifier: _Notifier, users: list[dict[str, Any]]) -> reminders.RunResult:
    return reminders.run(_Admin(users), notifier, ledger, 30, now=NOW)  # type: ignore[arg-type]


def _ledger(server: S3Server, bucket: str, **kwargs: Any) -> S3Ledger:
    return S3Ledger(_store(server, bucket), **kwargs)


def test_a_second_run_mails_nothing(s3_server: S3Server, s3_bucket: str, users: list[dict[str, Any]]) -> None:
    notifier = _Notifier()
    first = _run(_ledger(s3_server, s3_bucket), notifier, users)
    assert sorted(r.username for r in first.sent) == ["alice", "bob"]
    second = _run(_ledger(s3_server, s3_bucket), notifier, users)
    assert second.sent == [] and len(second.skipped) == 2
    assert sorted(notifier.mails) == [("validity-expiring", "alice"), ("validity-expiring", "bob")]
    # The objects name no account: a hash of the key; the entry has the masked username and address only.
    store = _store(s3_server, s3_bucket)
    names = [o.name for o in store.list("")]
    assert len(names) == 4 and not [n for n in names if "alice" in n or "bob" in n], names
    entry = store.get(f"{s3_folder(first.sent[0].key)}sent.json")
    assert entry is not None and b"alice@" not in entry and b'"kind": "validity-expiring"' in entry


def test_two_overlapping_runs_mail_each_reminder_once(
    s3_server: S3Server, s3_bucket: str, users: list[dict[str, Any]]
) -> None:
    gate = threading.Event()
    notifier = _Notifier(gate=gate)
    results: list[reminders.RunResult] = []

    def one_run() -> None:
        results.append(_run(_ledger(s3_server, s3_bucket), notifier, users))

    runs = [threading.Thread(target=one_run) for _ in range(2)]
    for t in runs:
        t.start()
    # Both runs are past their listing and inside a send (or skipping) before any send completes.
    deadline = dt.datetime.now() + dt.timedelta(seconds=20)
    while len(_store(s3_server, s3_bucket).list("")) < 2 and dt.datetime.now() < deadline:
        threading.Event().wait(0.05)
    gate.set()
    for t in runs:
        t.join(timeout=60)
    assert sorted(notifier.mails) == [("validity-expiring", "alice"), ("validity-expiring", "bob")]
    assert sorted(len(r.sent) + len(r.skipped) for r in results) == [2, 2]
    assert sum(len(r.sent) for r in results) == 2


def test_a_failed_send_is_not_recorded_and_the_next_run_mails_it(
    s3_server: S3Server, s3_bucket: str, users: list[dict[str, Any]]
) -> None:
    notifier = _Notifier(fail={"bob"})
    first = _run(_ledger(s3_server, s3_bucket), notifier, users)
    assert [r.username for r in first.sent] == ["alice"] and [r.username for r in first.failed] == ["bob"]
    store = _store(s3_server, s3_bucket)
    bob = s3_folder(first.failed[0].key)
    assert [o.name.removeprefix(bob) for o in store.list(bob)] == ["attempt-0.json", "failed-0.json"]
    notifier.fail.clear()
    second = _run(_ledger(s3_server, s3_bucket), notifier, users)
    assert [r.username for r in second.sent] == ["bob"]
    assert [o.name.removeprefix(bob) for o in store.list(bob)] == [
        "attempt-0.json",
        "attempt-1.json",
        "failed-0.json",
        "sent.json",
    ]
    assert sorted(notifier.mails) == [("validity-expiring", "alice"), ("validity-expiring", "bob")]


def test_an_abandoned_attempt_is_mailed_again_only_once_stale(
    s3_server: S3Server, s3_bucket: str, users: list[dict[str, Any]]
) -> None:
    """A run that died between its claim and its outcome: within STALE_ATTEMPT another run leaves the key
    alone (it may still be sending); after it, the key is mailed again."""
    store = _store(s3_server, s3_bucket)
    alice = next(r for r in reminders.due(users, NOW, 30, lambda _: None) if r.username == "alice")
    assert store.put_if_absent(f"{s3_folder(alice.key)}attempt-0.json", b'{"run": "dead"}')
    notifier = _Notifier()
    _run(_ledger(s3_server, s3_bucket), notifier, users)
    assert notifier.mails == [("validity-expiring", "bob")]
    _run(_ledger(s3_server, s3_bucket, stale_after=dt.timedelta(0)), notifier, users)
    assert notifier.mails == [("validity-expiring", "bob"), ("validity-expiring", "alice")]
    names = [o.name.removeprefix(s3_folder(alice.key)) for o in store.list(s3_folder(alice.key))]
    assert names == ["attempt-0.json", "attempt-1.json", "failed-0.json", "sent.json"]
    assert b"abandoned" in (store.get(f"{s3_folder(alice.key)}failed-0.json") or b"")


def test_an_unusable_ledger_stops_the_run_before_any_mail(
    s3_server: S3Server, users: list[dict[str, Any]]
) -> None:
    notifier = _Notifier()
    with pytest.raises(
        ReminderError, match=r"reminders ledger s3://bizid-test-absent/reminders/.*NoSuchBucket"
    ):
        _run(_ledger(s3_server, "bizid-test-absent"), notifier, users)
    assert notifier.mails == []


def test_the_file_ledger_lets_overlapping_runs_take_turns(tmp_path: Any, users: list[dict[str, Any]]) -> None:
    gate = threading.Event()
    notifier = _Notifier(gate=gate)
    path = tmp_path / "audit" / "reminders.jsonl"
    runs = [threading.Thread(target=_run, args=(FileLedger(path), notifier, users)) for _ in range(2)]
    for t in runs:
        t.start()
    threading.Event().wait(0.5)
    gate.set()
    for t in runs:
        t.join(timeout=60)
    assert sorted(notifier.mails) == [("validity-expiring", "alice"), ("validity-expiring", "bob")]
    assert len(path.read_text().splitlines()) == 2


# --- `--ledger` on the command line ------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["s3://", "s3://UPPER/x", "s3://b/x", "https://bucket/x", "ftp://x", "s3://bucket//x", " "],
)
def test_a_bad_ledger_value_is_refused_naming_it(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    from scripts.cli import main

    with pytest.raises(SystemExit) as exited:
        main(["notify", "reminders", "--ledger", value])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "--ledger" in err and repr(value) in err, err


@pytest.fixture
def aws_env(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in s3_server.environ().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    yield


def test_open_ledger_takes_the_aws_chain(aws_env: None, s3_bucket: str, users: list[dict[str, Any]]) -> None:
    """`--ledger s3://...` builds its client from the environment, as the ECS task does (AWS_REGION, the task
    role; here the server's endpoint through AWS_ENDPOINT_URL_S3)."""
    ledger = reminders.open_ledger(f"s3://{s3_bucket}/reminders")
    assert isinstance(ledger, S3Ledger) and ledger.location == f"s3://{s3_bucket}/reminders/"
    notifier = _Notifier()
    assert len(_run(ledger, notifier, users).sent) == 2
    assert len(_run(reminders.open_ledger(f"s3://{s3_bucket}/reminders/"), notifier, users).sent) == 0
