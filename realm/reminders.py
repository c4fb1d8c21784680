"""`bizid notify reminders`: mail `validity-expiring` and `delegation-expiring` before the deadline.

Due: an account (not suspended, not yet expired) whose `valid_until` is within `days` (JST calendar days,
the day itself included); a delegation (not revoked, not yet ended) whose `not_after` is within `days`,
mailed to both parties (the granting Prime and the delegate). Idempotent per recipient and deadline: each
successful send is appended to the reminders ledger (JSON lines, fsynced) under a key of the account or
delegation id and the deadline, and a key already there is never mailed again; a failed send is not
recorded, so the next run retries it. A renewed account or a prolonged delegation has a new deadline and
is reminded again. The ledger and the log name accounts by id and masked username only.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from realm.delegation_store import _all_users, _delegations_of
from realm.lifecycle import today_jst, view
from realm.notify import Notifier, Recipient, mask
from realm.operator_audit import mask_username

MAX_DAYS = 366


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


class ReminderLedger:
    """The JSON-lines record of the reminders sent (append-only, mode 600)."""

    def __init__(self, path: Path) -> None:
        self.path = path

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
        if not os.access(target, os.W_OK):
            raise ReminderError(f"reminders ledger {self.path}: not writable; nothing was sent")

    def append(self, entry: LedgerEntry) -> None:
        data = (json.dumps(asdict(entry), ensure_ascii=False, sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class RunResult:
    sent: list[Reminder]
    skipped: list[Reminder]
    """Already sent for this deadline (in the ledger)."""
    failed: list[Reminder]


def run(
    admin: Any,
    notifier: Notifier,
    ledger: ReminderLedger,
    days: int,
    now: dt.datetime | None = None,
) -> RunResult:
    """Send the reminders due and not yet sent; record each send."""
    error = days_error(days)
    if error:
        raise ReminderError(error)
    ledger.check_writable()
    done = ledger.keys()
    now = now or dt.datetime.now(dt.UTC)
    users = list(_all_users(admin))
    emails = {str(u.get("username")): u.get("email") for u in users}
    result = RunResult([], [], [])
    for reminder in due(users, now, days, emails.get):
        if reminder.key in done:
            result.skipped.append(reminder)
            continue
        to = Recipient(reminder.username, reminder.email)
        if not notifier.send(reminder.kind, to, reminder.detail, now):
            result.failed.append(reminder)
            continue
        done.add(reminder.key)
        ledger.append(
            LedgerEntry(
                now.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                reminder.kind,
                reminder.key,
                mask_username(reminder.username),
                mask(reminder.email or ""),
            )
        )
        result.sent.append(reminder)
    return result
