"""`bizid delegation grant|revoke|list` (委任): the operations on delegation records.

The records and their time conventions are in `realm.delegation_records`, reading and writing them in
`realm.delegation_store`, licences in `realm.licences` (all re-exported here for the callers).

Every command validates all of its input against the definitions and the live realm before its single
write; a rejected command writes nothing. Revoking keeps the record (with `revoked: true`) for the audit
trail. Whether a delegation is valid when it is used is decided by `bizid.delegation` at every sign-in;
which of its rules are also checked here, at grant time, and why, is the table in docs/policies.md
("Who checks what: grant time and use").
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from realm.admin import user_attribute as _attr
from realm.delegation_records import (
    DELEGATIONS_ATTRIBUTE,
    JST,
    LICENCE_NUMBER,
    LICENCES_ATTRIBUTE,
    USERNAME,
    CorruptValue,
    DelegationError,
    DelegationRecord,
    LicenceRecord,
    Parsed,
    end_of_day,
    jst_today,
    now_utc,
    parse,
    rfc3339,
    start_of_day,
)
from realm.delegation_store import SCAN_PAGE, _account, _all_users, _delegations_of, _values, write_values
from realm.licences import list_licences, record_licence, revoke_licence
from realm.models import Definitions, Tier, corporate_number_error

__all__ = [  # moved to their own modules; re-exported for delegation's callers
    "DELEGATIONS_ATTRIBUTE",
    "JST",
    "LICENCES_ATTRIBUTE",
    "LICENCE_NUMBER",
    "SCAN_PAGE",
    "USERNAME",
    "CorruptValue",
    "DelegationError",
    "DelegationRecord",
    "LicenceRecord",
    "Parsed",
    "end_of_day",
    "list_licences",
    "now_utc",
    "parse",
    "record_licence",
    "revoke_licence",
    "rfc3339",
    "start_of_day",
    "write_values",
]

# --- delegation grant ------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantSpec:
    """What an operator asks for; `not_before` None means now."""

    principal: str
    delegate: str
    rp: str
    procedures: tuple[str, ...]
    not_after: dt.datetime
    not_before: dt.datetime | None = None


@dataclass(frozen=True)
class Granted:
    record: DelegationRecord
    warnings: tuple[str, ...] = ()


def validate_grant(
    spec: GrantSpec, defs: Definitions, admin: Any, now: dt.datetime | None = None
) -> tuple[DelegationRecord, dict[str, Any], tuple[str, ...]]:
    """Check everything; return the record to append, the delegate's account and warnings."""
    now = now or now_utc()
    warnings: list[str] = []

    # The RP and its procedures come from the definitions (the registry OPA decides with).
    try:
        rp = defs.rp(spec.rp)
    except KeyError as exc:
        raise DelegationError(f"--rp {spec.rp!r}: {exc.args[0]}") from None
    if not rp.procedures:
        raise DelegationError(f"--rp {spec.rp!r}: this RP registers no delegable procedures")
    known = {p.id: p for p in rp.procedures}
    if not spec.procedures:
        raise DelegationError(f"--procedure: name at least one of {sorted(known)}")
    for proc in spec.procedures:
        if proc not in known:
            raise DelegationError(
                f"--procedure {proc!r}: not a procedure of {spec.rp}; registered: {sorted(known)}"
            )
    duplicates = sorted({p for p in spec.procedures if spec.procedures.count(p) > 1})
    if duplicates:
        raise DelegationError(f"--procedure {duplicates[0]!r}: given more than once")

    # Validity window.
    not_before = (spec.not_before or now).replace(microsecond=0)
    not_after = spec.not_after.replace(microsecond=0)
    if not_before.tzinfo is None or not_after.tzinfo is None:
        raise DelegationError("--not-before/--not-after: times must carry a time zone")
    if not_after <= not_before:
        raise DelegationError(
            f"--not-after {rfc3339(not_after)!r}: must be after --not-before {rfc3339(not_before)!r}"
        )
    if not_after <= now:
        raise DelegationError(f"--not-after {rfc3339(not_after)!r}: already in the past")

    # The principal: an active, unexpired, verified Prime of a company with a corporate number.
    if spec.principal == spec.delegate:
        raise DelegationError(f"--delegate {spec.delegate!r}: a Prime cannot delegate to itself")
    principal = _account(admin, "--principal", spec.principal)
    tier = _attr(principal, "tier")
    if tier == Tier.PROVISIONAL_PRIME.value:
        raise DelegationError(
            f"--principal {spec.principal!r}: a provisional Prime cannot delegate (its identity was never "
            "verified on paper); only a Prime can"
        )
    if tier != Tier.PRIME.value:
        raise DelegationError(
            f"--principal {spec.principal!r}: is a {tier!r} account; only a Prime can delegate"
        )
    if _attr(principal, "account_status") == "suspended":
        raise DelegationError(f"--principal {spec.principal!r}: the account is suspended")
    valid_until = _attr(principal, "valid_until")
    if valid_until is None:
        raise DelegationError(f"--principal {spec.principal!r}: the Prime has no valid_until on record")
    try:
        principal_valid = dt.date.fromisoformat(valid_until)
    except ValueError:
        raise DelegationError(
            f"--principal {spec.principal!r}: stored valid_until {valid_until!r} is not a date"
        ) from None
    if principal_valid < jst_today(now):
        raise DelegationError(f"--principal {spec.principal!r}: the account expired on {valid_until}")
    if not_after > end_of_day(principal_valid):
        warnings.append(
            f"--not-after {rfc3339(not_after)}: later than the Prime's validity ({valid_until}); the "
            "delegation stops working when the Prime's account expires"
        )
    corporate_number = _attr(principal, "corporate_number")
    if corporate_number is None:
        raise DelegationError(
            f"--principal {spec.principal!r}: has no corporate number (a sole proprietor); a delegation "
            "names the principal company by its corporate number"
        )
    error = corporate_number_error(corporate_number)
    if error:
        raise DelegationError(f"--principal {spec.principal!r}: stored {error}")

    # The delegate: must exist, be active and be able to sign in to the RP at all.
    delegate = _account(admin, "--delegate", spec.delegate)
    if delegate["id"] == principal["id"]:
        raise DelegationError(f"--delegate {spec.delegate!r}: a Prime cannot delegate to itself")
    if _attr(delegate, "account_status") == "suspended":
        raise DelegationError(f"--delegate {spec.delegate!r}: the account is suspended")
    delegate_tier = _attr(delegate, "tier") or Tier.ENTRY.value
    if delegate_tier not in {t.value for t in rp.accepted_tiers}:
        raise DelegationError(
            f"--delegate {spec.delegate!r}: is a {delegate_tier!r} account, which {spec.rp} does not accept "
            f"(accepted: {[t.value for t in rp.accepted_tiers]}); the delegate could never sign in there"
        )
    if delegate_tier == Tier.PROVISIONAL_PRIME.value and spec.rp not in _values(delegate, "provisional_rps"):
        raise DelegationError(f"--delegate {spec.delegate!r}: this provisional Prime may not use {spec.rp}")

    # Licences are checked at every sign-in by the policy; recording them later is allowed, so a
    # missing licence is a warning here, not an error.
    licences = parse(LicenceRecord, spec.delegate, LICENCES_ATTRIBUTE, _values(delegate, LICENCES_ATTRIBUTE))
    usable = {rec.kind for rec, _ in licences.records if rec.usable(now)}
    for proc in spec.procedures:
        accepted = known[proc].licences_accepted
        if accepted and not usable & set(accepted):
            warnings.append(
                f"--procedure {proc!r}: needs a licence of one of {list(accepted)}; {spec.delegate} holds no "
                "valid one yet (record it with `bizid licence record`), so sign-ins under this delegation "
                "are refused until then"
            )
    existing = parse(
        DelegationRecord, spec.delegate, DELEGATIONS_ATTRIBUTE, _values(delegate, DELEGATIONS_ATTRIBUTE)
    )
    warnings.extend(f"kept as is: {c.describe()}" for c in existing.corrupt)

    record = DelegationRecord(
        id=str(uuid.uuid4()),
        principal_corporate_number=corporate_number,
        granted_by=str(principal["username"]),
        delegate_username=str(delegate["username"]),
        rp=spec.rp,
        procedures=spec.procedures,
        not_before=not_before,
        not_after=not_after,
        revoked=False,
    )
    return record, delegate, tuple(warnings)


def grant(spec: GrantSpec, defs: Definitions, admin: Any, now: dt.datetime | None = None) -> Granted:
    """Validate, then append the record to the delegate's `delegations` (one Admin API write)."""
    record, delegate, warnings = validate_grant(spec, defs, admin, now)
    fresh = _values(admin.get_user(delegate["id"]), DELEGATIONS_ATTRIBUTE)
    write_values(admin, delegate, DELEGATIONS_ATTRIBUTE, [*fresh, record.to_attribute()])
    return Granted(record, warnings)


# --- delegation revoke / list ----------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A delegation record and the account it is stored on."""

    record: DelegationRecord
    raw: str
    user: dict[str, Any]


def find(admin: Any, delegation_id: str, delegate: str) -> Found:
    """The delegation with this id, stored on the delegate's account."""
    try:
        uuid.UUID(delegation_id)
    except ValueError:
        raise DelegationError(f"--id {delegation_id!r}: not a delegation id (a UUID)") from None
    user = _account(admin, "--delegate", delegate)
    for record, raw in _delegations_of(user).records:
        if record.id == delegation_id:
            return Found(record, raw, user)
    raise DelegationError(f"--id {delegation_id!r}: no delegation with that id on {delegate!r}")


def revoke(admin: Any, delegation_id: str, delegate: str) -> DelegationRecord:
    """Mark the delegation revoked; the record itself is kept (audit). Revoking twice is an error."""
    found = find(admin, delegation_id, delegate)
    if found.record.revoked:
        raise DelegationError(f"--id {delegation_id!r}: already revoked")
    revoked = found.record.model_copy(update={"revoked": True})
    fresh = _values(admin.get_user(found.user["id"]), DELEGATIONS_ATTRIBUTE)
    if found.raw not in fresh:
        raise DelegationError(f"--id {delegation_id!r}: the record changed while revoking; run again")
    values = [revoked.to_attribute() if value == found.raw else value for value in fresh]
    write_values(admin, found.user, DELEGATIONS_ATTRIBUTE, values)
    return revoked


@dataclass(frozen=True)
class Listing:
    records: tuple[DelegationRecord, ...]
    corrupt: tuple[CorruptValue, ...] = field(default=())


def list_delegations(
    admin: Any, principal: str | None = None, delegate: str | None = None, search: str | None = None
) -> Listing:
    """Delegations stored on `delegate`, or granted by `principal` (searched on every account, or on
    those matching `search`)."""
    if (principal is None) == (delegate is None):
        raise DelegationError("--principal/--delegate: give exactly one")
    records: list[DelegationRecord] = []
    corrupt: list[CorruptValue] = []
    if delegate is not None:
        parsed = _delegations_of(_account(admin, "--delegate", delegate))
        return Listing(tuple(r for r, _ in parsed.records), parsed.corrupt)
    assert principal is not None
    _account(admin, "--principal", principal)
    for user in _all_users(admin, search):
        if DELEGATIONS_ATTRIBUTE not in (user.get("attributes") or {}):
            continue
        parsed = _delegations_of(user)
        records.extend(r for r, _ in parsed.records if r.granted_by == principal.lower())
        corrupt.extend(parsed.corrupt)
    return Listing(tuple(records), tuple(corrupt))
