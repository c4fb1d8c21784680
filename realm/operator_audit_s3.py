"""The operator audit trail of a deployed target, in S3: one object per entry, durable off this machine.

Where: the target file's `operator_trail` (bucket, prefix, region): the stack's audit archive bucket, whose
default Object Lock retention (COMPLIANCE mode, infra/components/audit.py) keeps every entry unchangeable
and undeletable for its retention, even by the account's root user.

Layout: entry N (1, 2, ...) is the object `<prefix><N, 12 digits>.json` holding exactly the entry's JSON
line (`AuditEntry.line`), so keys sort in the chain's order. Each entry keeps the SHA-256 of the one before
it (`prev`), as the local file does: `verify` finds an entry that was changed, and a missing sequence
number finds one that was hidden (a delete marker; the operator's role has no s3:DeleteObject anyway).

Exactly once, with operators working at the same time: an entry is written with a conditional PUT
(`If-None-Match: *`) on its sequence key. Two writers that read the same last entry race for the same key;
S3 lets one win and answers the other 412 Precondition Failed (409 while the first is in flight is
retried), and the loser re-reads the last entry and chains after it. S3 requires an integrity header on
every PutObject to a bucket with Object Lock: each PUT carries Content-MD5 and x-amz-checksum-sha256. The
S3 calls are `realm.s3_store.AppendOnceStore`'s (put-if-absent, get, list), shared with the reminders
ledger.

What the operator's AWS role needs (docs/infra.md, "The operator account"): s3:ListBucket on the bucket
with an `s3:prefix` condition, s3:GetObject and s3:PutObject on `<bucket>/<prefix>*`, and kms:Decrypt /
kms:GenerateDataKey on the bucket's key. No s3:DeleteObject, no s3:PutObjectRetention, no bypass of
governance (the bucket is in compliance mode: none exists).

boto3 is imported when a trail is opened; its credentials come from the usual AWS chain. Errors name the
s3:// URI and S3's code (`S3StoreError`, a ValueError: the CLI prints it, exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from realm.operator_audit import GENESIS, AuditEntry, AuditError, OperatorAuditTrail, digest
from realm.s3_store import AppendOnceStore, S3Location
from realm.targets import OperatorTrail

KEY_DIGITS = 12
ATTEMPTS = 8
"""Conditional PUTs tried before giving up (each loss means another operator's entry went in first)."""


def store_for(home: OperatorTrail, prefix: str | None = None, client: Any = None) -> AppendOnceStore:
    """Objects under `prefix` (default: the trail's own) in the trail's bucket, region and endpoint: the
    audit archive that also holds the review queue and the archived events."""
    if home.bucket is None:  # named by a stack output not yet read (scripts/targets.py resolves it)
        raise AuditError(f"operator_trail.bucket_output {home.bucket_output}: the bucket name is not known")
    location = S3Location.parse(f"s3://{home.bucket}/{home.prefix if prefix is None else prefix}")
    endpoint = str(home.endpoint_url).rstrip("/") if home.endpoint_url else None
    return AppendOnceStore(location, client, region=home.region, endpoint_url=endpoint)


class S3OperatorAuditTrail(OperatorAuditTrail):
    """The trail under `s3://<bucket>/<prefix>`, with the file trail's interface (append, entries, verify)."""

    def __init__(self, home: OperatorTrail, store: AppendOnceStore | None = None) -> None:
        super().__init__(Path("/nonexistent/s3-operator-trail"))  # no local file is ever used
        self.home = home
        self.store = store or store_for(home)

    @property
    def where(self) -> str:
        return self.store.location.uri

    @staticmethod
    def name(sequence: int) -> str:
        return f"{sequence:0{KEY_DIGITS}d}.json"

    def _sequence(self, name: str) -> int:
        stem, dot, ext = name.partition(".")
        if dot != "." or ext != "json" or len(stem) != KEY_DIGITS or not stem.isdigit():
            raise AuditError(f"audit trail {self.where}: {name} is not an entry of the trail")
        return int(stem)

    def _read(self, name: str) -> str:
        body = self.store.get(name)
        if body is None:
            raise AuditError(f"audit trail {self.where}: {name} was listed but cannot be read")
        try:
            line = body.decode("utf-8")
            json.loads(line)
        except ValueError:
            raise AuditError(f"audit trail {self.where}: {name} is not a JSON entry") from None
        return line

    def _numbered(self) -> list[tuple[int, str]]:
        """(sequence, name) of every entry, checked to be 1, 2, ... with none missing."""
        numbered = [(self._sequence(o.name), o.name) for o in self.store.list()]
        for expected, (sequence, name) in enumerate(numbered, start=1):
            if sequence != expected:
                raise AuditError(
                    f"audit trail {self.where}: entry {expected} is missing (next is {name}): an entry was "
                    "removed or hidden"
                )
        return numbered

    def _lines(self) -> Iterator[str]:
        for _, name in self._numbered():
            yield self._read(name)

    def _last(self) -> tuple[int, str]:
        """(sequence, digest) of the last entry; (0, GENESIS) for an empty trail."""
        numbered = self._numbered()
        if not numbered:
            return 0, GENESIS
        sequence, name = numbered[-1]
        return sequence, digest(self._read(name))

    def last_digest(self) -> str:
        return self._last()[1]

    def check_writable(self) -> None:
        """Before any change: the bucket answers and the last entry reads (a PUT cannot be tried without
        writing an entry; a refused PUT is reported by `append`)."""
        self.store.check()
        self._last()

    def append(self, entry: AuditEntry) -> AuditEntry:
        """Write one entry chained to the last, exactly once; return it as written."""
        for _ in range(ATTEMPTS):
            sequence, prev = self._last()
            chained = AuditEntry(**{**asdict(entry), "prev": prev})
            if self.store.put_if_absent(self.name(sequence + 1), chained.line().encode("utf-8")):
                return chained
            # another operator's entry took this number first: chain after it
        raise AuditError(
            f"audit trail {self.where}: {ATTEMPTS} other entries were written while this one waited; "
            "the change is made but not recorded: record it by hand from the command's output"
        )
