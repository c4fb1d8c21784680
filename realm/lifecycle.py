"""`bizid accounts show|list|suspend|reactivate|renew`: the operations centre's account lifecycle.

Status is the operator-only user attribute `account_status` (active | suspended, user-profile.yaml); the
access policy refuses a suspended account (`account_suspended`) and one past its `valid_until`
(`account_expired`), and refuses a Member whose Prime is either. Suspending also ends the account's
sessions in Keycloak, so the withdrawal takes effect at once, not at the next sign-in.

Every changing command validates all of its input first (the account, its state, the operator, the
reason, the audit trail being writable), then makes its one attribute write, then appends one entry to
the operator audit trail (`realm.operator_audit`) and returns a `LifecycleEvent`: the hook for
notifications (the caller may pass `notify`, called with the event after the change is recorded).
A rejected command writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from realm import admin_paths
from realm.admin import user_attribute as _attr
from realm.models import Definitions, Tier, TierDefinition, corporate_number_error
from realm.operator_audit import (
    AuditEntry,
    OperatorAuditTrail,
    mask_text,
    mask_username,
    operator_error,
    reason_error,
)

JST = dt.timezone(dt.timedelta(hours=9), "JST")
"""Validity dates are days in Japan Standard Time, as in the policies (bizid.inputs)."""

STATUSES = ("active", "suspended", "expired")
"""What `list --status` filters on: the stored status, or `expired` (valid_until before today)."""

PAGE = 500


class LifecycleError(ValueError):
    """A lifecycle command cannot run as asked; the message names the option and value."""


@dataclass(frozen=True)
class AccountView:
    """An account as an operator sees it (from the Admin API user representation)."""

    id: str
    username: str
    email: str | None
    tier: str | None
    status: str
    """The stored account_status (active when unset, the user profile's default)."""
    enabled: bool
    valid_until: str | None
    corporate_number: str | None
    corporate_name: str | None
    prime_username: str | None
    branch: str | None
    created: str | None

    def expired(self, today: dt.date) -> bool:
        try:
            return self.valid_until is not None and dt.date.fromisoformat(self.valid_until) < today
        except ValueError:
            return False

    def effective_status(self, today: dt.date) -> str:
        """suspended, expired or active: what the access policy makes of the account today."""
        if self.status == "suspended" or not self.enabled:  # a disabled user is refused by Keycloak
            return "suspended"
        return "expired" if self.expired(today) else "active"


@dataclass(frozen=True)
class LifecycleEvent:
    """What a lifecycle command did: the notification hook's input (e.g. "account suspended" mail)."""

    action: str
    account_id: str
    username: str
    email: str | None
    tier: str
    operator: str
    reason: str
    time: str
    changes: dict[str, Any] = field(default_factory=dict)
    approved_by: str | None = None
    sessions_ended: int = 0


Notify = Callable[[LifecycleEvent], None]


def today_jst(now: dt.datetime | None = None) -> dt.date:
    return (now or dt.datetime.now(dt.UTC)).astimezone(JST).date()


def view(user: dict[str, Any]) -> AccountView:
    enabled = user.get("enabled", True) is not False
    status = _attr(user, "account_status") or "active"
    created = user.get("createdTimestamp")
    return AccountView(
        id=str(user["id"]),
        username=str(user["username"]),
        email=user.get("email"),
        tier=_attr(user, "tier"),
        status=status,
        enabled=enabled,
        valid_until=_attr(user, "valid_until"),
        corporate_number=_attr(user, "corporate_number"),
        corporate_name=_attr(user, "corporate_name"),
        prime_username=_attr(user, "prime_username"),
        branch=_attr(user, "branch"),
        created=dt.datetime.fromtimestamp(created / 1000, dt.UTC).isoformat() if created else None,
    )


def _find(admin: Any, username: str, option: str = "--username") -> dict[str, Any]:
    if not username or len(username) > 255 or any(c.isspace() for c in username):
        raise LifecycleError(f"{option} {username!r}: not a username")
    users: list[dict[str, Any]] = admin.get_users({"username": username, "exact": True})
    match = [u for u in users if str(u.get("username")) == username.lower()]
    if not match:
        raise LifecycleError(f"{option} {username!r}: no such account")
    user: dict[str, Any] = admin.get_user(match[0]["id"])
    return user


def show(admin: Any, username: str) -> AccountView:
    return view(_find(admin, username))


@dataclass(frozen=True)
class ListFilter:
    """`bizid accounts list` filters; all given ones must hold."""

    tier: str | None = None
    corporate_number: str | None = None
    status: str | None = None
    expiring_before: dt.date | None = None

    def validate(self) -> None:
        if self.tier is not None and self.tier not in {t.value for t in Tier}:
            raise LifecycleError(f"--tier {self.tier!r}: not a tier; one of {[t.value for t in Tier]}")
        if self.corporate_number is not None:
            error = corporate_number_error(self.corporate_number)
            if error:
                raise LifecycleError(f"--company: {error}")
        if self.status is not None and self.status not in STATUSES:
            raise LifecycleError(f"--status {self.status!r}: one of {list(STATUSES)}")

    def query(self) -> str:
        """Keycloak's exact attribute search (`q=name:value ...`) for the stored filters."""
        terms = []
        if self.tier:
            terms.append(f"tier:{self.tier}")
        if self.corporate_number:
            terms.append(f"corporate_number:{self.corporate_number}")
        if self.status == "suspended":
            terms.append("account_status:suspended")
        return " ".join(terms)

    def matches(self, account: AccountView, today: dt.date) -> bool:
        if self.tier is not None and account.tier != self.tier:
            return False
        if self.corporate_number is not None and account.corporate_number != self.corporate_number:
            return False
        if self.status is not None and account.effective_status(today) != self.status:
            return False
        if self.expiring_before is not None:
            try:
                last = dt.date.fromisoformat(account.valid_until or "")
            except ValueError:
                return False
            if last >= self.expiring_before:
                return False
        return True


def _users(admin: Any, q: str) -> Iterator[dict[str, Any]]:
    first = 0
    while True:
        query: dict[str, Any] = {"first": first, "max": PAGE, "briefRepresentation": False}
        if q:
            query["q"] = q
        page: list[dict[str, Any]] = admin.get_users(query)
        yield from page
        if len(page) < PAGE:
            return
        first += PAGE


def list_accounts(admin: Any, filters: ListFilter, now: dt.datetime | None = None) -> list[AccountView]:
    """The accounts matching every filter, by username. Tier, company and suspension are searched in
    Keycloak; validity and the derived status are checked here on what it returns."""
    filters.validate()
    today = today_jst(now)
    found = (view(u) for u in _users(admin, filters.query()))
    return sorted((a for a in found if filters.matches(a, today)), key=lambda a: a.username)


# --- changing commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """Who runs a changing command and why (both recorded in the audit trail)."""

    operator: str
    reason: str

    def validate(self) -> None:
        error = operator_error(self.operator)
        if error:
            raise LifecycleError(f"--operator {error}")
        error = reason_error(self.reason)
        if error:
            raise LifecycleError(f"--reason: {error}")


def _rfc3339(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _write_attributes(admin: Any, user: dict[str, Any], changes: dict[str, str]) -> None:
    """Set single-valued attributes on the freshest copy of the user; verify Keycloak kept them."""
    fresh: dict[str, Any] = admin.get_user(user["id"])
    attributes = dict(fresh.get("attributes") or {})
    for name, value in changes.items():
        attributes[name] = [value]
    fresh["attributes"] = attributes
    admin.update_user(user["id"], fresh)
    stored = admin.get_user(user["id"])
    for name, value in changes.items():
        if _attr(stored, name) != value:
            raise LifecycleError(
                f"Keycloak did not store {name}={value!r} on {user['username']!r}: is {name!r} declared in "
                "realm/definitions/user-profile.yaml?"
            )


def end_sessions(admin: Any, user_id: str) -> int:
    """End every session of the account (browser SSO and the RPs' refresh tokens): how many there were."""
    sessions: list[dict[str, Any]] = admin.get_sessions(user_id)
    # Keycloak's logout also sets the user's not-before to now: every token issued before is refused.
    logout = admin_paths.path(admin_paths.USER_LOGOUT, realm=admin.connection.realm_name, id=user_id)
    response = admin.connection.raw_post(logout, data="")
    if response.status_code not in (200, 204):
        raise LifecycleError(
            f"Keycloak did not end the sessions of account {user_id}: HTTP {response.status_code}"
        )
    return len(sessions)


def _record(
    trail: OperatorAuditTrail,
    action: str,
    account: AccountView,
    actor: Actor,
    now: dt.datetime,
    changes: dict[str, Any],
    approved_by: str | None = None,
    sessions_ended: int = 0,
    notify: Notify | None = None,
) -> LifecycleEvent:
    time = _rfc3339(now)
    trail.append(
        AuditEntry(
            time=time,
            operator=actor.operator,
            action=action,
            account_id=account.id,
            account=mask_username(account.username),
            tier=account.tier or "",
            reason=mask_text(actor.reason),
            changes=changes,
            approved_by=mask_username(approved_by) if approved_by else None,
        )
    )
    event = LifecycleEvent(
        action=action,
        account_id=account.id,
        username=account.username,
        email=account.email,
        tier=account.tier or "",
        operator=actor.operator,
        reason=actor.reason,
        time=time,
        changes=changes,
        approved_by=approved_by,
        sessions_ended=sessions_ended,
    )
    if notify is not None:
        notify(event)
    return event


def suspend(
    admin: Any,
    username: str,
    actor: Actor,
    trail: OperatorAuditTrail,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> LifecycleEvent:
    """Suspend an active account and end its sessions."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    user = _find(admin, username)
    account = view(user)
    if account.status == "suspended":
        raise LifecycleError(f"--username {username!r}: the account is already suspended")
    trail.check_writable()
    _write_attributes(admin, user, {"account_status": "suspended"})
    ended = end_sessions(admin, account.id)
    changes = {"account_status": [account.status, "suspended"]}
    return _record(trail, "suspend", account, actor, now, changes, sessions_ended=ended, notify=notify)


def reactivate(
    admin: Any,
    username: str,
    actor: Actor,
    trail: OperatorAuditTrail,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> LifecycleEvent:
    """Lift a suspension. An expired account is renewed first (`renew`), never reactivated into expiry."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    user = _find(admin, username)
    account = view(user)
    if account.status != "suspended":
        raise LifecycleError(
            f"--username {username!r}: the account is not suspended (status {account.status})"
        )
    if not account.enabled:
        raise LifecycleError(
            f"--username {username!r}: the account is disabled in Keycloak (enabled=false), not suspended "
            "by bizid; find out why before enabling it by hand"
        )
    today = today_jst(now)
    if account.expired(today):
        raise LifecycleError(
            f"--username {username!r}: the account expired on {account.valid_until} (today is {today}, "
            "JST); renew it (bizid accounts renew) before reactivating it"
        )
    trail.check_writable()
    _write_attributes(admin, user, {"account_status": "active"})
    changes = {"account_status": ["suspended", "active"]}
    return _record(trail, "reactivate", account, actor, now, changes, notify=notify)


# --- renewal -------------------------------------------------------------------------------------------


def _tier_of(defs: Definitions, account: AccountView) -> TierDefinition:
    try:
        return defs.tier(Tier(account.tier or ""))
    except ValueError:
        raise LifecycleError(f"--username {account.username!r}: unknown tier {account.tier!r}") from None


def check_approver(
    admin: Any, member: AccountView, approved_by: str | None, today: dt.date
) -> AccountView | None:
    """A Member's renewal needs its own Prime, currently able to vouch: a valid, active Prime of the
    Member's company. Other tiers renew without an approver."""
    if member.tier != Tier.MEMBER.value:
        if approved_by:
            raise LifecycleError(
                f"--approved-by {approved_by!r}: only a Member's renewal is approved by its Prime "
                f"(the account is a {member.tier} account)"
            )
        return None
    if not approved_by:
        raise LifecycleError(
            f"--approved-by: a Member's renewal needs its Prime's approval; name the Prime "
            f"({member.prime_username!r})"
        )
    prime = view(_find(admin, approved_by, "--approved-by"))
    if prime.username != member.prime_username:
        raise LifecycleError(
            f"--approved-by {approved_by!r}: is not the Prime that issued this Member "
            f"({member.prime_username!r})"
        )
    if prime.tier != Tier.PRIME.value:
        raise LifecycleError(f"--approved-by {approved_by!r}: is a {prime.tier!r} account, not a Prime")
    if prime.status == "suspended" or not prime.enabled:
        raise LifecycleError(f"--approved-by {approved_by!r}: the Prime is suspended")
    if prime.valid_until is None or prime.expired(today):
        raise LifecycleError(
            f"--approved-by {approved_by!r}: the Prime is not valid (valid until {prime.valid_until}, "
            f"today is {today}, JST); renew the Prime first"
        )
    if prime.corporate_number != member.corporate_number:
        raise LifecycleError(f"--approved-by {approved_by!r}: the Prime is not of the Member's company")
    return prime


def renewal_date(tier: TierDefinition, account: AccountView, today: dt.date) -> dt.date:
    """The new last valid day, or why the account cannot be renewed today."""
    validity = tier.validity
    if validity is None:
        raise LifecycleError(
            f"--username {account.username!r}: a {account.tier} account has no validity period; "
            "nothing to renew"
        )
    if not validity.renewable:
        raise LifecycleError(
            f"--username {account.username!r}: a {account.tier} account is not renewable "
            "(tiers.yaml validity.renewable: false)"
        )
    try:
        current = dt.date.fromisoformat(account.valid_until or "")
    except ValueError:
        raise LifecycleError(
            f"--username {account.username!r}: stored valid_until {account.valid_until!r} is not a date"
        ) from None
    opens = current - dt.timedelta(days=validity.renewal_window_days)
    if today < opens:
        raise LifecycleError(
            f"--username {account.username!r}: valid until {current}; renewal opens on {opens} "
            f"({validity.renewal_window_days} days before)"
        )
    # Renewed before expiry: the new period follows the current one; after expiry: it starts today.
    return validity.last_day(max(current, today))


def renew(
    admin: Any,
    defs: Definitions,
    username: str,
    actor: Actor,
    trail: OperatorAuditTrail,
    approved_by: str | None = None,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> LifecycleEvent:
    """Extend an account's validity by its tier's period (a Member: with its Prime's approval)."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    today = today_jst(now)
    user = _find(admin, username)
    account = view(user)
    tier = _tier_of(defs, account)
    new_date = renewal_date(tier, account, today)
    prime = check_approver(admin, account, approved_by, today)
    trail.check_writable()
    _write_attributes(admin, user, {"valid_until": new_date.isoformat()})
    changes = {"valid_until": [account.valid_until, new_date.isoformat()]}
    return _record(
        trail, "renew", account, actor, now, changes, prime.username if prime else None, notify=notify
    )
