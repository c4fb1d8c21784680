"""`bizid notify reminders`: mail `validity-expiring` and `delegation-expiring` before the deadline.

Due: an account (not suspended, not yet expired) whose `valid_until` is within `days` (JST calendar days,
the day itself included); a delegation (not revoked, not yet ended) whose `not_after` is within `days`,
mailed to both parties (the granting Prime and the delegate). Idempotent per recipient and deadline: each
successful send is appended to the reminders ledger (JSON lines, fsynced) under a key of the account or
delegation id and the deadline, and a key already there is never mailed again; a failed send is not
recorded, so the next run retries it. A renewed account or a prolonged delegation has a new deadline and
is reminded again. The ledger and the log name accounts by id and masked username only.

Two ledgers behind one `Ledger` protocol: `FileLedger` (the local platform: JSON lines, the run holds an
exclusive lock on it, so overlapping runs take turns) and `S3Ledger` (a deployed target, where the job runs as
an ECS task without a durable disk: append-once objects, `realm.s3_store`). A run claims a key before it mails
it; a claim that another run holds is skipped, so two overlapping runs mail each reminder once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import json
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

from realm.delegation_store import _all_users, _delegations_of
from realm.lifecycle import today_jst, view
from realm.notify import Notifier, Recipient, mask
from realm.operator_audit import mask_username
from realm.s3_store import AppendOnceStore, S3Location, S3StoreError

MAX_DAYS = 366
LOG = logging.getLogger("bizid.reminders")


class ReminderError(ValueError):
    """Bad --days or an unreadable ledger; the message names it."""


def days_error(days: int) -> str | None:
    if not 0 <= days <= MAX_DAYS:
        return f"--days {days}: between 0 and {MAX_DAYS}"
    return None


@dataclass(frozen=True)
class Reminder:
    kind: str
    """validity-expiring or delegation-expiring"""
    key: str
    """Ledger key: one mail per recipient and deadline."""
    username: str
    email: str | None
    detail: str
    """The mail's {detail}: the deadline (and for a delegation what it is)."""


def due(
    users: Iterable[dict[str, Any]], now: dt.datetime, days: int, email_of: Callable[[str], str | None]
) -> Iterator[Reminder]:
    """The reminders due at `now` for the accounts `users` (full representations)."""
    today = today_jst(now)
    last = today + dt.timedelta(days=days)
    for user in users:
        account = view(user)
        try:
            until = dt.date.fromisoformat(account.valid_until) if account.valid_until else None
        except ValueError:
            until = None
        if until is not None and today <= until <= last and account.effective_status(today) == "active":
            yield Reminder(
                "validity-expiring",
                f"validity:{account.id}:{until.isoformat()}",
                account.username,
                account.email,
                until.isoformat(),
            )
        for record, _ in _delegations_of(user).records:
            end_day = today_jst(record.not_after)
            if record.revoked or record.not_after < now or not today <= end_day <= last:
                continue
            detail = (
                f"{record.granted_by} -> {record.delegate_username}, RP {record.rp} "
                f"({', '.join(record.procedures)}), until {end_day.isoformat()}"
            )
            for party in (record.granted_by, record.delegate_username):
                email = account.email if party == account.username else email_of(party)
                yield Reminder(
                    "delegation-expiring",
                    f"delegation:{record.id}:{record.not_after.isoformat()}:{party}",
                    party,
                    email,
                    detail,
                )


@dataclass(frozen=True)
class LedgerEntry:
    time: str
    kind: str
    key: str
    account: str
    """Masked username."""
    to: str
    """Masked address."""


class Ledger(Protocol):
    """Where the reminders sent are recorded. `open` checks the ledger can be used (a ReminderError before
    anything is mailed) and holds it for the run; `claim` says whether this run is to mail a key (neither
    sent nor being sent by another run), after which the run reports `sent` or `failed` for it."""

    @property
    def location(self) -> str: ...

    def open(self) -> contextlib.AbstractContextManager[None]: ...

    def claim(self, key: str) -> bool: ...

    def sent(self, key: str, entry: LedgerEntry) -> None: ...

    def failed(self, key: str) -> None: ...


class FileLedger:
    """The JSON-lines record of the reminders sent (append-only, mode 600). A run holds an exclusive lock
    (`<ledger>.lock`) from `open` to its end, so a second run waits and then sees the first one's keys."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._keys: set[str] = set()

    @property
    def location(self) -> str:
        return str(self.path)

    def keys(self) -> set[str]:
        if not self.path.exists():
            return set()
        keys = set()
        with self.path.open(encoding="utf-8") as f:
            for number, line in enumerate(f, start=1):
                if not line.strip():
                    continue
                try:
                    keys.add(str(json.loads(line)["key"]))
                except (ValueError, KeyError, TypeError):
                    raise ReminderError(f"reminders ledger {self.path}: line {number} is no entry") from None
        return keys

    def check_writable(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise ReminderError(f"reminders ledger {self.path.parent}: {exc.strerror}") from None
        target = self.path if self.path.exists() else self.path.parent
        if not os.access(target, os.W_OK) or self.path.is_dir():
            raise ReminderError(f"reminders ledger {self.path}: not writable; nothing was sent")

    @contextlib.contextmanager
    def open(self) -> Iterator[None]:
        self.check_writable()
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
        except OSError as exc:
            raise ReminderError(f"reminders ledger lock {lock_path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._keys = self.keys()
            yield
        finally:
            os.close(fd)  # releases the lock

    def claim(self, key: str) -> bool:
        return key not in self._keys

    def sent(self, key: str, entry: LedgerEntry) -> None:
        self._keys.add(key)
        self.append(entry)

    def failed(self, key: str) -> None:
        """Not recorded: the next run mails it again."""

    def append(self, entry: LedgerEntry) -> None:
        data = (json.dumps(asdict(entry), ensure_ascii=False, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


ReminderLedger = FileLedger
"""The earlier name of the file ledger."""

STALE_ATTEMPT = dt.timedelta(hours=1)
"""An attempt with no outcome this old belongs to a run that died: a send takes seconds (SMTP timeouts of
`realm.notify`), so the key is mailed again rather than never."""

_ATTEMPT = re.compile(r"^attempt-(\d+)\.json$")
_FAILED = re.compile(r"^failed-(\d+)\.json$")


def s3_folder(key: str) -> str:
    """The objects of one ledger key: `<kind>/<sha256 of the key>/`. The key holds usernames (a delegation's
    parties); an object name, which S3 shows in listings and logs, must not."""
    kind = key.split(":", 1)[0]
    kind = kind if re.fullmatch(r"[a-z-]{1,32}", kind) else "other"
    return f"{kind}/{hashlib.sha256(key.encode()).hexdigest()}/"


@dataclass
class S3Ledger:
    """The ledger as append-once objects under an S3 prefix, per key (`s3_folder`):

    - `attempt-<n>.json`: run r claims the key for its n-th attempt (put-if-absent: one run wins);
    - `failed-<n>.json`: attempt n did not mail (the send failed, or its run died: `STALE_ATTEMPT`);
    - `sent.json`: the mail went out (the ledger entry: masked account and address, time, kind).

    A run mails a key only after it created the next attempt itself, and only when no `sent.json` exists
    and no earlier attempt is still open; nothing is ever overwritten or deleted (so the prefix may be in
    the Object Lock archive). A failed send leaves no `sent.json`: the next run makes attempt n+1."""

    store: AppendOnceStore
    stale_after: dt.timedelta = STALE_ATTEMPT
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    _attempts: dict[str, int] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return self.store.location.uri

    def _body(self, **values: object) -> bytes:
        return json.dumps({"run": self.run_id, **values}, sort_keys=True).encode()

    def _now(self) -> str:
        return self.clock().astimezone(dt.UTC).isoformat().replace("+00:00", "Z")

    @contextlib.contextmanager
    def open(self) -> Iterator[None]:
        try:
            self.store.check()
        except S3StoreError as exc:
            raise ReminderError(f"reminders ledger {exc}; nothing was sent") from None
        yield

    def claim(self, key: str) -> bool:
        folder = s3_folder(key)
        try:
            return self._claim(key, folder)
        except S3StoreError as exc:
            raise ReminderError(f"reminders ledger {exc}") from None

    def _claim(self, key: str, folder: str) -> bool:
        objects = {o.name.removeprefix(folder): o for o in self.store.list(folder)}
        if "sent.json" in objects:
            return False
        attempts = {int(m[1]) for name in objects if (m := _ATTEMPT.match(name))}
        failed = {int(m[1]) for name in objects if (m := _FAILED.match(name))}
        now = self.clock()
        for open_attempt in sorted(attempts - failed):
            if now - objects[f"attempt-{open_attempt}.json"].last_modified < self.stale_after:
                return False  # another run is mailing it now
            self.store.put_if_absent(
                f"{folder}failed-{open_attempt}.json", self._body(time=self._now(), reason="abandoned")
            )
        attempt = max(attempts, default=-1) + 1
        if not self.store.put_if_absent(f"{folder}attempt-{attempt}.json", self._body(time=self._now())):
            return False  # another run claimed it first
        # An attempt taken as abandoned may have mailed after all (a run paused past STALE_ATTEMPT).
        if self.store.get(f"{folder}sent.json") is not None:
            return False
        self._attempts[key] = attempt
        return True

    def sent(self, key: str, entry: LedgerEntry) -> None:
        values = {k: v for k, v in asdict(entry).items() if k != "key"}  # the key holds usernames
        body = self._body(attempt=self._attempts.get(key), **values)
        try:
            if not self.store.put_if_absent(f"{s3_folder(key)}sent.json", body):
                LOG.warning(
                    "bizid-reminders %s: sent twice (an attempt taken as abandoned mailed too)", entry.kind
                )
        except S3StoreError as exc:
            raise ReminderError(
                f"reminders ledger {exc} (the mail went out; it is retried after {self.stale_after})"
            ) from None

    def failed(self, key: str) -> None:
        attempt = self._attempts.pop(key, None)
        if attempt is None:
            return
        try:
            self.store.put_if_absent(
                f"{s3_folder(key)}failed-{attempt}.json", self._body(time=self._now(), reason="not sent")
            )
        except S3StoreError as exc:
            raise ReminderError(f"reminders ledger {exc}") from None


def parse_ledger(text: str) -> S3Location | Path:
    """A `--ledger` value: `s3://bucket/prefix`, or a path of a JSON-lines file. Any other URI scheme is
    refused (a typo must not become a local file nobody reads); the error names the value."""
    if text.startswith("s3://"):
        return S3Location.parse(text)
    if "://" in text or not text.strip():
        raise ReminderError(f"--ledger {text!r}: expected s3://bucket/prefix or a file path")
    path = Path(text)
    if path.is_dir():
        raise ReminderError(f"--ledger {text!r}: is a folder; name the ledger file")
    return path


def open_ledger(text: str, client: Any = None) -> Ledger:
    """The ledger a `--ledger` value names (S3: a client from the AWS chain, unless given one)."""
    where = parse_ledger(text)
    if isinstance(where, Path):
        return FileLedger(where)
    return S3Ledger(AppendOnceStore(where, client))


@dataclass(frozen=True)
class RunResult:
    sent: list[Reminder]
    skipped: list[Reminder]
    """Already sent for this deadline (in the ledger)."""
    failed: list[Reminder]


def run(
    admin: Any,
    notifier: Notifier,
    ledger: Ledger,
    days: int,
    now: dt.datetime | None = None,
) -> RunResult:
    """Send the reminders due and not yet sent; record each send."""
    error = days_error(days)
    if error:
        raise ReminderError(error)
    now = now or dt.datetime.now(dt.UTC)
    result = RunResult([], [], [])
    with ledger.open():
        users = list(_all_users(admin))
        emails = {str(u.get("username")): u.get("email") for u in users}
        for reminder in due(users, now, days, emails.get):
            if not ledger.claim(reminder.key):
                result.skipped.append(reminder)
                continue
            to = Recipient(reminder.username, reminder.email)
            if not notifier.send(reminder.kind, to, reminder.detail, now):
                ledger.failed(reminder.key)
                result.failed.append(reminder)
                continue
            ledger.sent(
                reminder.key,
                LedgerEntry(
                    now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                    reminder.kind,
                    reminder.key,
                    mask_username(reminder.username),
                    mask(reminder.email or ""),
                ),
            )
            result.sent.append(reminder)
    return result
