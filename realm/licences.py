"""`bizid licence record|revoke|list`: the licences (士業) an account holds, as `bizid.delegation` reads them.

Each command validates its input against the definitions (licences.yaml) and the live account before its
single write; a rejected command writes nothing. Revoking keeps the record (with `revoked: true`) for the
audit trail.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from realm.delegation_records import (
    LICENCE_NUMBER,
    LICENCES_ATTRIBUTE,
    DelegationError,
    LicenceRecord,
    Parsed,
    now_utc,
    rfc3339,
)
from realm.delegation_store import _account, _licences_of, _values, write_values
from realm.models import Definitions


def _licence_kind(defs: Definitions, kind: str) -> None:
    kinds = sorted(lic.kind for lic in defs.licences)
    if kind not in kinds:
        raise DelegationError(
            f"--kind {kind!r}: not a licence kind of realm/definitions/licences.yaml {kinds}"
        )


def _licence_number(number: str) -> None:
    if not re.fullmatch(LICENCE_NUMBER, number):
        raise DelegationError(f"--number {number!r}: letters, digits and '-', at most 32 characters")


def record_licence(
    defs: Definitions,
    admin: Any,
    holder: str,
    kind: str,
    number: str,
    not_after: dt.datetime | None,
    now: dt.datetime | None = None,
) -> LicenceRecord:
    """Validate, then append the licence to the holder's `licences`."""
    now = now or now_utc()
    _licence_kind(defs, kind)
    _licence_number(number)
    if not_after is not None and not_after <= now:
        raise DelegationError(f"--not-after {rfc3339(not_after)!r}: already in the past")
    user = _account(admin, "--holder", holder)
    parsed = _licences_of(user)
    for existing, _ in parsed.records:
        if existing.kind == kind and existing.number == number and not existing.revoked:
            raise DelegationError(
                f"--number {number!r}: {holder} already has this {kind} licence on record (revoke it first)"
            )
    record = LicenceRecord(
        kind=kind,
        number=number,
        holder_username=str(user["username"]),
        not_after=None if not_after is None else not_after.replace(microsecond=0),
        revoked=False,
    )
    fresh = _values(admin.get_user(user["id"]), LICENCES_ATTRIBUTE)
    write_values(admin, user, LICENCES_ATTRIBUTE, [*fresh, record.to_attribute()])
    return record


def revoke_licence(defs: Definitions, admin: Any, holder: str, kind: str, number: str) -> LicenceRecord:
    """Mark the holder's licence revoked (e.g. the professional body reports it lost); the record is kept."""
    _licence_kind(defs, kind)
    _licence_number(number)
    user = _account(admin, "--holder", holder)
    matches = [(r, raw) for r, raw in _licences_of(user).records if r.kind == kind and r.number == number]
    active = [(r, raw) for r, raw in matches if not r.revoked]
    if not matches:
        raise DelegationError(f"--number {number!r}: {holder} has no {kind} licence with that number")
    if not active:
        raise DelegationError(f"--number {number!r}: this {kind} licence of {holder} is already revoked")
    fresh = _values(admin.get_user(user["id"]), LICENCES_ATTRIBUTE)
    if not {raw for _, raw in active} <= set(fresh):
        raise DelegationError(f"--number {number!r}: the record changed while revoking; run again")
    replacement = {raw: r.model_copy(update={"revoked": True}).to_attribute() for r, raw in active}
    values = [replacement.get(value, value) for value in fresh]
    write_values(admin, user, LICENCES_ATTRIBUTE, values)
    return active[0][0].model_copy(update={"revoked": True})


def list_licences(admin: Any, holder: str) -> Parsed[LicenceRecord]:
    return _licences_of(_account(admin, "--holder", holder))
