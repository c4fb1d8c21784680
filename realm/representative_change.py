"""`bizid accounts change-representative`: a company's new Prime takes over from the old one.

When a company's representative changes, the operations centre proofs the new representative (a Prime
account, created or upgraded the usual way), then hands over what hung on the old Prime: every Member it
issued (`prime_username`) and every delegation it granted (`granted_by` in the delegates' `delegations`
records), and retires the old Prime (suspended, sessions ended). Without the hand-over, retiring the old
Prime would lock out the company's Members (prime_suspended) and void its delegations (grantor_inactive).

All is validated first (the operator and reason, both Primes - same company, the new one active and valid
- the Members, the delegation records, the trail writable). Keycloak has no transaction across users, so
the writes are made one account at a time and, if one fails, the accounts already changed are put back
(compensation) before the error is reported: nothing is half handed over. One audit entry records the
change; the `notify` hook gets the event (`representative-changed` mail to both Primes and the Members).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from realm.delegation_records import DELEGATIONS_ATTRIBUTE, DelegationRecord
from realm.delegation_store import _all_users, _delegations_of
from realm.lifecycle import (
    AccountView,
    Actor,
    LifecycleError,
    LifecycleEvent,
    Notify,
    _find,
    _record,
    end_sessions,
    today_jst,
    view,
)
from realm.models import Tier
from realm.operator_audit import OperatorAuditTrail, mask_username


@dataclass(frozen=True)
class Handover:
    """What the change does, computed before anything is written."""

    old: AccountView
    new: AccountView
    members: tuple[dict[str, Any], ...]
    delegates: tuple[tuple[dict[str, Any], list[str]], ...]
    """Each delegate's user and its new `delegations` values (granted_by moved to the new Prime)."""


def _check_primes(
    admin: Any, old_name: str, new_name: str, today: dt.date
) -> tuple[AccountView, AccountView]:
    old = view(_find(admin, old_name, "--old"))
    new = view(_find(admin, new_name, "--new"))
    if old.id == new.id:
        raise LifecycleError(f"--new {new_name!r}: is the old Prime itself")
    for option, account in (("--old", old), ("--new", new)):
        if account.tier != Tier.PRIME.value:
            raise LifecycleError(f"{option} {account.username!r}: is a {account.tier!r} account, not a Prime")
    if new.status == "suspended" or not new.enabled:
        raise LifecycleError(f"--new {new_name!r}: the new Prime is suspended")
    if new.valid_until is None or new.expired(today):
        raise LifecycleError(
            f"--new {new_name!r}: the new Prime is not valid "
            f"(valid until {new.valid_until}, today is {today})"
        )
    same_company = (
        old.corporate_number == new.corporate_number
        if old.corporate_number or new.corporate_number
        else old.corporate_name == new.corporate_name
    )
    if not same_company:
        raise LifecycleError(
            f"--new {new_name!r}: is not of the old Prime's company "
            f"({new.corporate_number or new.corporate_name!r} vs "
            f"{old.corporate_number or old.corporate_name!r})"
        )
    return old, new


def plan(admin: Any, old_name: str, new_name: str, now: dt.datetime) -> Handover:
    old, new = _check_primes(admin, old_name, new_name, today_jst(now))
    members = tuple(
        admin.get_user(u["id"])
        for u in admin.get_users({"q": f"prime_username:{old.username}", "briefRepresentation": False})
        if (u.get("attributes") or {}).get("prime_username") == [old.username]
    )
    delegates: list[tuple[dict[str, Any], list[str]]] = []
    for user in _all_users(admin):
        raw = [str(v) for v in (user.get("attributes") or {}).get(DELEGATIONS_ATTRIBUTE) or []]
        if not raw:
            continue
        parsed = _delegations_of(user)
        moved = {text: record for record, text in parsed.records if record.granted_by == old.username}
        if not moved:
            continue
        if parsed.corrupt:
            raise LifecycleError(
                f"account {user['username']!r}: holds delegations of {old.username!r} next to unreadable "
                f"delegation records ({parsed.corrupt[0].error}); repair them before the change"
            )
        values = [_moved(moved[text], new.username) if text in moved else text for text in raw]
        delegates.append((user, values))
    return Handover(old, new, members, tuple(delegates))


def _moved(record: DelegationRecord, new_prime: str) -> str:
    return record.model_copy(update={"granted_by": new_prime}).to_attribute()


def _put(admin: Any, user_id: str, attribute: str, values: list[str] | None) -> None:
    fresh: dict[str, Any] = admin.get_user(user_id)
    attributes = dict(fresh.get("attributes") or {})
    if values is None:
        attributes.pop(attribute, None)
    else:
        attributes[attribute] = values
    fresh["attributes"] = attributes
    admin.update_user(user_id, fresh)
    stored = (admin.get_user(user_id).get("attributes") or {}).get(attribute)
    if sorted(stored or []) != sorted(values or []):
        raise LifecycleError(f"Keycloak did not store {attribute!r} on account {user_id}")


def change_representative(
    admin: Any,
    old_name: str,
    new_name: str,
    actor: Actor,
    trail: OperatorAuditTrail,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> LifecycleEvent:
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    handover = plan(admin, old_name, new_name, now)
    trail.check_writable()
    undo: list[tuple[str, str, list[str] | None]] = []

    def change(user_id: str, attribute: str, values: list[str]) -> None:
        previous = (admin.get_user(user_id).get("attributes") or {}).get(attribute)
        undo.append((user_id, attribute, previous))
        _put(admin, user_id, attribute, values)

    try:
        for member in handover.members:
            change(member["id"], "prime_username", [handover.new.username])
        for user, values in handover.delegates:
            change(user["id"], DELEGATIONS_ATTRIBUTE, values)
        change(handover.old.id, "account_status", ["suspended"])
    except Exception as exc:
        for user_id, attribute, previous in reversed(undo):
            _put(admin, user_id, attribute, previous)
        raise LifecycleError(
            f"the change from {handover.old.username!r} to {handover.new.username!r} failed ({exc}); "
            "every account was put back as it was"
        ) from None
    ended = end_sessions(admin, handover.old.id)
    # Counts and masked names only: the audit trail keeps no usernames in clear (realm.operator_audit).
    changes: dict[str, Any] = {
        "prime": [mask_username(handover.old.username), mask_username(handover.new.username)],
        "members_handed_over": [0, len(handover.members)],
        "delegations_handed_over": [0, len(handover.delegates)],
        "account_status": [handover.old.status, "suspended"],
    }
    return _record(
        trail,
        "representative-change",
        handover.old,
        actor,
        now,
        changes,
        approved_by=handover.new.username,
        sessions_ended=ended,
        notify=notify,
    )


def affected(admin: Any, event: LifecycleEvent) -> list[str]:
    """Who is told of the change: both Primes and the Members now under the new Prime."""
    new = event.approved_by or ""
    members = admin.get_users({"q": f"prime_username:{new}", "briefRepresentation": True})
    return [event.username, new, *sorted(str(m["username"]) for m in members)]


def detail(event: LifecycleEvent) -> str:
    return f"{event.username} -> {event.approved_by}"
