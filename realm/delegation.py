"""`bizid delegation grant|revoke|list` and `bizid licence record|revoke|list` (委任 and 士業 licences).

Where the records live is fixed by docs/architecture.md ("Delegation and licences"):

- a delegation is stored on the **delegate's** account, user attribute `delegations` (multivalued,
  admin-only), each value one compact JSON record `{"id", "principal_corporate_number", "granted_by",
  "delegate_username", "rp", "procedures", "not_before", "not_after", "revoked"}`;
- a licence is stored on its holder's account, attribute `licences`, each value
  `{"kind", "number", "holder_username", "not_after", "revoked"}`.

Times are RFC 3339 in UTC with second precision (`2026-12-31T14:59:59Z`), the form `bizid.inputs`
accepts. A date given on the command line is a calendar day in Japan Standard Time: `--not-before` starts
at 00:00:00 JST of that day, `--not-after` ends at 23:59:59 JST of that day (the same convention as the
accounts' `valid_until`). A date-time without an offset is read as JST.

Every command validates all of its input against the definitions and the live realm before its single
write; a rejected command writes nothing. Revoking keeps the record (with `revoked: true`) for the audit
trail. Stored values that do not parse are reported and kept untouched, never dropped or crashed on.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_serializer

from realm.admin import user_attribute as _attr
from realm.models import Definitions, Tier, corporate_number_error

DELEGATIONS_ATTRIBUTE = "delegations"
LICENCES_ATTRIBUTE = "licences"
JST = dt.timezone(dt.timedelta(hours=9), "JST")
USERNAME = r"^[A-Za-z0-9._@-]{1,255}$"
LICENCE_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"
SCAN_PAGE = 500
"""Users read per Admin API page when a command must search every account (see `_all_users`)."""


class DelegationError(ValueError):
    """Input for a delegation or licence command is invalid; the message names the option and value."""


def rfc3339(value: dt.datetime) -> str:
    """UTC, second precision, `Z` suffix: the form Keycloak's own timestamps and `bizid.inputs` use."""
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Record(BaseModel):
    """Stored records are strict: an unknown key or a wrong type is reported as corrupt."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_attribute(self) -> str:
        """The compact JSON stored as one attribute value."""
        return json.dumps(self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"))


class DelegationRecord(_Record):
    """One delegation (委任) from a Prime (the principal company's representative) to a delegate."""

    id: Annotated[
        str, Field(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
    ]
    principal_corporate_number: Annotated[str, Field(pattern=r"^[0-9]{13}$")]
    granted_by: Annotated[str, Field(pattern=USERNAME)]
    delegate_username: Annotated[str, Field(pattern=USERNAME)]
    rp: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    procedures: Annotated[
        tuple[Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")], ...], Field(min_length=1)
    ]
    not_before: AwareDatetime
    not_after: AwareDatetime
    revoked: bool

    @field_serializer("not_before", "not_after")
    def _times(self, value: dt.datetime) -> str:
        return rfc3339(value)

    def state(self, now: dt.datetime) -> str:
        """active, revoked, expired or not yet valid (at `now`); the policy decides the rest at sign-in."""
        if self.revoked:
            return "revoked"
        if now > self.not_after:
            return "expired"
        if now < self.not_before:
            return "not yet valid"
        return "active"


class LicenceRecord(_Record):
    """A licence (士業) held by an account; `not_after` None means no expiry date is on record."""

    kind: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{1,62}$")]
    number: Annotated[str, Field(pattern=LICENCE_NUMBER)]
    holder_username: Annotated[str, Field(pattern=USERNAME)]
    not_after: AwareDatetime | None
    revoked: bool

    @field_serializer("not_after")
    def _time(self, value: dt.datetime | None) -> str | None:
        return None if value is None else rfc3339(value)

    def usable(self, now: dt.datetime) -> bool:
        return not self.revoked and (self.not_after is None or now <= self.not_after)


R = TypeVar("R", bound=_Record)


@dataclass(frozen=True)
class CorruptValue:
    """A stored attribute value that is not a valid record: shown to the operator, never rewritten."""

    username: str
    attribute: str
    value: str
    error: str

    def describe(self) -> str:
        shown = self.value if len(self.value) <= 80 else self.value[:77] + "..."
        return f"{self.username}: corrupt {self.attribute} value {shown!r}: {self.error}"


@dataclass(frozen=True)
class Parsed(Generic[R]):
    """The values of one attribute: parsed records (with their raw value) and what could not be parsed."""

    records: tuple[tuple[R, str], ...] = ()
    corrupt: tuple[CorruptValue, ...] = ()


def parse(shape: type[R], username: str, attribute: str, values: Sequence[Any]) -> Parsed[R]:
    """Parse stored values robustly: each bad value becomes a `CorruptValue` naming what is wrong."""
    records: list[tuple[R, str]] = []
    corrupt: list[CorruptValue] = []
    for raw in values:
        text = raw if isinstance(raw, str) else json.dumps(raw)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            corrupt.append(CorruptValue(username, attribute, text, f"not JSON ({exc.msg})"))
            continue
        try:
            records.append((shape.model_validate(data), text))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(record)'}: {err['msg']}" for err in exc.errors()
            )
            corrupt.append(CorruptValue(username, attribute, text, problems))
    return Parsed(tuple(records), tuple(corrupt))


# --- the live realm --------------------------------------------------------------------------------


def _user(admin: Any, username: str) -> dict[str, Any] | None:
    users: list[dict[str, Any]] = admin.get_users({"username": username, "exact": True})
    return next((u for u in users if u.get("username") == username.lower()), users[0] if users else None)


def _values(user: dict[str, Any], name: str) -> list[str]:
    return [str(v) for v in (user.get("attributes") or {}).get(name) or []]


def _all_users(admin: Any, search: str | None = None) -> Iterator[dict[str, Any]]:
    """Every account (or those whose username, e-mail or name contains `search`), a page at a time.

    Keycloak's attribute search (`q=name:value`) matches whole values only, so finding the delegations a
    principal granted means reading every account: O(accounts), minutes on a realm of 100,000. Hence
    `--search` to narrow it, and `revoke` needs the delegate. An index attribute would make it cheap
    (left open: it needs a user-profile change).
    """
    first = 0
    query: dict[str, Any] = {"max": SCAN_PAGE, "briefRepresentation": False}
    if search:
        query["search"] = search
    while True:
        page: list[dict[str, Any]] = admin.get_users({**query, "first": first})
        yield from page
        if len(page) < SCAN_PAGE:
            return
        first += SCAN_PAGE


def write_values(admin: Any, user: dict[str, Any], attribute: str, values: list[str]) -> None:
    """Replace one attribute's values on the freshest copy of the user; verify Keycloak kept them.

    Keycloak silently drops attributes its user profile does not declare (unmanaged attribute policy
    ADMIN_VIEW), so the write is read back: an attribute that did not stick is an error, not a success.
    """
    user_id = user["id"]
    fresh: dict[str, Any] = admin.get_user(user_id)
    attributes = dict(fresh.get("attributes") or {})
    attributes[attribute] = values
    fresh["attributes"] = attributes
    admin.update_user(user_id, fresh)
    stored = _values(admin.get_user(user_id), attribute)
    if sorted(stored) != sorted(values):
        raise DelegationError(
            f"Keycloak did not store the {attribute!r} attribute of {user['username']!r} "
            f"(sent {len(values)} value(s), it kept {len(stored)}): the realm's user profile must declare "
            f"{attribute!r} (realm/definitions/user-profile.yaml), else Keycloak drops it"
        )


def _account(admin: Any, option: str, username: str) -> dict[str, Any]:
    if not username or not re.fullmatch(USERNAME, username):
        raise DelegationError(f"{option} {username!r}: not a username")
    user = _user(admin, username)
    if user is None:
        raise DelegationError(f"{option} {username!r}: no such account")
    return user


def _jst_today(now: dt.datetime) -> dt.date:
    return now.astimezone(JST).date()


def _end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), JST)


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0, 0), JST)


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


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def validate_grant(
    spec: GrantSpec, defs: Definitions, admin: Any, now: dt.datetime | None = None
) -> tuple[DelegationRecord, dict[str, Any], tuple[str, ...]]:
    """Check everything; return the record to append, the delegate's account and warnings."""
    now = now or _now()
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
    if principal_valid < _jst_today(now):
        raise DelegationError(f"--principal {spec.principal!r}: the account expired on {valid_until}")
    if not_after > _end_of_day(principal_valid):
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


def _delegations_of(user: dict[str, Any]) -> Parsed[DelegationRecord]:
    return parse(
        DelegationRecord,
        str(user.get("username")),
        DELEGATIONS_ATTRIBUTE,
        _values(user, DELEGATIONS_ATTRIBUTE),
    )


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


# --- licences --------------------------------------------------------------------------------------


def _licences_of(user: dict[str, Any]) -> Parsed[LicenceRecord]:
    return parse(
        LicenceRecord, str(user.get("username")), LICENCES_ATTRIBUTE, _values(user, LICENCES_ATTRIBUTE)
    )


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
    now = now or _now()
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
