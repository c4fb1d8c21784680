"""Delegation (委任) and licence (士業) records as stored on accounts, and their time conventions.

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

Stored values that do not parse are reported (`CorruptValue`) and kept untouched, never dropped or
crashed on.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, field_serializer

DELEGATIONS_ATTRIBUTE = "delegations"
LICENCES_ATTRIBUTE = "licences"
JST = dt.timezone(dt.timedelta(hours=9), "JST")
USERNAME = r"^[A-Za-z0-9._@-]{1,255}$"
LICENCE_NUMBER = r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"


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


def jst_today(now: dt.datetime) -> dt.date:
    return now.astimezone(JST).date()


def end_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(23, 59, 59), JST)


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0, 0, 0), JST)


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)
