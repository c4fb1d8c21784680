"""The operator audit trail: one JSON line per lifecycle command that changed an account.

Durable and append-only: a line is written with one `write` on a file opened O_APPEND (mode 600) and
fsynced before the command reports success; nothing in bizid rewrites or truncates the file. Each entry
carries the SHA-256 of the line before it (`prev`), so `verify` detects an edited, removed or reordered
line. Locally the file is `.bizid/audit/operator.jsonl`; `bizid audit trace` joins it with Keycloak's
events and OPA's decision log on the account's Keycloak id. On a deployed target the same entries and chain
live in S3, one object per entry (`realm.operator_audit_s3`).

Personal data is minimised: an entry names the account by its Keycloak id (the pseudonym OPA's decision
log also keeps) and a masked username; e-mail addresses and long digit runs (phone, corporate numbers)
in the operator's free-text reason are masked before the line is written.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

GENESIS = "0" * 64
"""`prev` of the first entry."""

OPERATOR = re.compile(r"^[A-Za-z][A-Za-z0-9._@-]{1,63}$")
"""An operator's name as recorded: a login-like handle, not a person's full name."""

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+")
_DIGITS = re.compile(r"\d[\d -]{6,}\d")


class AuditError(ValueError):
    """The trail cannot be written or read as asked; the message names the file or field."""


def mask_username(username: str) -> str:
    """The first two characters and the length: enough to tell entries apart at a glance, no more."""
    return f"{username[:2]}***({len(username)})"


def mask_text(text: str) -> str:
    """Mask e-mail addresses and digit runs of 8 or more (phone, corporate numbers) in free text."""
    return _DIGITS.sub("[digits]", _EMAIL.sub("[e-mail]", text))


def operator_error(name: str) -> str | None:
    if not OPERATOR.fullmatch(name or ""):
        return (
            f"{name!r}: an operator name is 2-64 characters: a letter, then letters, digits, '.', '_', '@' "
            "or '-'"
        )
    return None


def reason_error(reason: str) -> str | None:
    if not reason or not reason.strip():
        return "a reason is required and must not be blank"
    if len(reason) > 500:
        return "longer than 500 characters"
    if any(ord(c) < 32 for c in reason):
        return "must be one line without control characters"
    return None


@dataclass(frozen=True)
class AuditEntry:
    """One operator action, as written (JSON keys = field names)."""

    time: str
    """RFC 3339 UTC time of the change."""
    operator: str
    action: str
    """suspend, reactivate, renew, ..."""
    account_id: str
    """The account's Keycloak id (the join key of `bizid audit trace`)."""
    account: str
    """Masked username (`mask_username`)."""
    tier: str
    reason: str
    """The operator's reason, masked (`mask_text`)."""
    changes: dict[str, Any] = field(default_factory=dict)
    """What changed, e.g. {"account_status": ["active", "suspended"]} (before, after)."""
    approved_by: str | None = None
    """Masked username of an approving account (a Member's renewal: its Prime), if any."""
    prev: str = GENESIS

    def line(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(line: str) -> str:
    """The chain's link: SHA-256 of an entry's line as written."""
    return _digest(line)


def _digest(line: str) -> str:
    return hashlib.sha256(line.encode()).hexdigest()


class OperatorAuditTrail:
    """The JSON-lines trail at `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def where(self) -> str:
        """The trail's location, for messages."""
        return str(self.path)

    def check_writable(self) -> None:
        """Before any change: the trail can be appended to (else the command must not act)."""
        directory = self.path.parent
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise AuditError(f"audit trail {directory}: cannot create the folder ({exc.strerror})") from None
        target = self.path if self.path.exists() else directory
        if not os.access(target, os.W_OK):
            raise AuditError(f"audit trail {self.path}: not writable; the command was not run")
        if self.path.exists():
            self.last_digest()  # a corrupt last line is found before anything changes

    def last_digest(self) -> str:
        last = GENESIS
        for line in self._lines():
            last = _digest(line)
        return last

    def _lines(self) -> Iterator[str]:
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as f:
            for number, raw in enumerate(f, start=1):
                line = raw.rstrip("\n")
                if not line:
                    continue
                try:
                    json.loads(line)
                except ValueError:
                    raise AuditError(f"audit trail {self.path}: line {number} is not JSON") from None
                yield line

    def append(self, entry: AuditEntry) -> AuditEntry:
        """Write one entry (chained to the last), fsynced; return it as written."""
        chained = AuditEntry(**{**asdict(entry), "prev": self.last_digest()})
        data = (chained.line() + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        return chained

    def entries(self, account_id: str | None = None) -> list[AuditEntry]:
        result = []
        for line in self._lines():
            raw = json.loads(line)
            try:
                entry = AuditEntry(**raw)
            except TypeError:
                raise AuditError(
                    f"audit trail {self.where}: an entry has unknown fields {sorted(raw)}"
                ) from None
            if account_id is None or entry.account_id == account_id:
                result.append(entry)
        return result

    def verify(self) -> None:
        """Raise when a line was edited, removed or reordered (its successor's `prev` no longer matches)."""
        prev = GENESIS
        for number, line in enumerate(self._lines(), start=1):
            if json.loads(line).get("prev") != prev:
                raise AuditError(
                    f"audit trail {self.where}: entry {number} does not follow entry {number - 1}"
                )
            prev = _digest(line)
