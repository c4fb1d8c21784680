"""`bizid members permit|revoke|show`: which RPs (and procedures) a Member may use for its company.

A Member acts for its company only where its Prime allowed it. The permissions are the operator-only,
multivalued user attribute `member_permissions` (realm/definitions/user-profile.yaml): an RP client id
(every procedure at that RP) or `rp/procedure` (that one procedure). Keycloak sends them to OPA with
the account (`input.account.member_permissions`) and the access policy refuses a Member at an RP it
has no permission for (`member_not_permitted`, policies/bizid/access/member.rego). Fail closed: a
Member without the attribute - every Member created before this existed included - may use no RP
until its Prime permits one (its own account page needs no permission).

Like the other lifecycle commands (`realm.lifecycle`): everything is validated first (the operator,
the reason, the Prime - the Member's own issuing Prime, an active and valid Prime of its company - the
Member, the RP and procedures, the trail being writable), then one attribute write, then one audit
entry; a rejected command writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from realm.lifecycle import (
    Actor,
    LifecycleError,
    LifecycleEvent,
    Notify,
    _find,
    _record,
    check_approver,
    today_jst,
    view,
)
from realm.models import Definitions, Tier
from realm.operator_audit import OperatorAuditTrail

ATTRIBUTE = "member_permissions"


def entries(user: dict[str, Any]) -> list[str]:
    """The Member's stored permission entries (empty values dropped), in stored order."""
    values = (user.get("attributes") or {}).get(ATTRIBUTE) or []
    return [str(v) for v in values if v]


def entry_rp(entry: str) -> str:
    return entry.split("/", 1)[0]


@dataclass(frozen=True)
class PermissionRequest:
    """One `permit` or `revoke`: the Member, its Prime, the RP, and optionally some of its procedures."""

    prime: str
    member: str
    rp: str
    procedures: tuple[str, ...] = ()

    def wanted(self, defs: Definitions) -> list[str]:
        """The entries named, after checking the RP accepts Members and has these procedures."""
        try:
            rp = defs.rp(self.rp)
        except KeyError as exc:
            raise LifecycleError(f"--rp {self.rp!r}: {exc.args[0]}") from None
        if Tier.MEMBER not in rp.accepted_tiers:
            raise LifecycleError(
                f"--rp {self.rp!r}: this RP does not accept Member accounts "
                f"(accepts {[t.value for t in rp.accepted_tiers]})"
            )
        known = [p.id for p in rp.procedures]
        for procedure in self.procedures:
            if procedure not in known:
                raise LifecycleError(
                    f"--procedure {procedure!r}: not a procedure of {self.rp!r}; registered: {known}"
                )
        if len(set(self.procedures)) != len(self.procedures):
            raise LifecycleError(f"--procedure: named twice in {list(self.procedures)}")
        if not self.procedures:
            return [self.rp]
        return [f"{self.rp}/{p}" for p in self.procedures]


def _member_and_prime(admin: Any, request: PermissionRequest, now: dt.datetime) -> tuple[dict[str, Any], str]:
    """The Member's user record and its Prime's username, or why this Prime may not act for it."""
    if not request.prime:
        raise LifecycleError("--prime: name the Member's Prime")
    user = _find(admin, request.member, "--member")
    member = view(user)
    if member.tier != Tier.MEMBER.value:
        raise LifecycleError(
            f"--member {request.member!r}: is a {member.tier!r} account; permissions are set on Members only"
        )
    # The same test as a Member's renewal: its own issuing Prime, of its company, active and valid today.
    try:
        prime = check_approver(admin, member, request.prime, today_jst(now))
    except LifecycleError as exc:
        raise LifecycleError(str(exc).replace("--approved-by", "--prime", 1)) from None
    assert prime is not None  # a Member always has an approver
    return user, prime.username


def _write(admin: Any, user: dict[str, Any], values: list[str]) -> None:
    """Store the whole list on the freshest copy of the user; verify Keycloak kept exactly it."""
    fresh: dict[str, Any] = admin.get_user(user["id"])
    attributes = dict(fresh.get("attributes") or {})
    if values:
        attributes[ATTRIBUTE] = values
    else:
        attributes.pop(ATTRIBUTE, None)
    fresh["attributes"] = attributes
    admin.update_user(user["id"], fresh)
    stored = entries(admin.get_user(user["id"]))
    if sorted(stored) != sorted(values):
        raise LifecycleError(
            f"Keycloak did not store {ATTRIBUTE}={values!r} on {user['username']!r}: is {ATTRIBUTE!r} "
            "declared in realm/definitions/user-profile.yaml?"
        )


def show(admin: Any, prime: str, member: str, now: dt.datetime | None = None) -> list[str]:
    """The Member's permissions, for its own Prime."""
    user, _ = _member_and_prime(
        admin, PermissionRequest(prime, member, rp=""), now or dt.datetime.now(dt.UTC)
    )
    return entries(user)


def permit(
    admin: Any,
    defs: Definitions,
    request: PermissionRequest,
    actor: Actor,
    trail: OperatorAuditTrail,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> LifecycleEvent:
    """Allow the Member the RP (every procedure), or the named procedures there."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    wanted = request.wanted(defs)
    user, prime = _member_and_prime(admin, request, now)
    before = entries(user)
    if request.rp in before:
        raise LifecycleError(
            f"--rp {request.rp!r}: {request.member!r} is already permitted every procedure there"
        )
    # A whole-RP permission replaces the RP's single-procedure entries; procedures add to them.
    kept = [e for e in before if not (not request.procedures and entry_rp(e) == request.rp)]
    added = [e for e in wanted if e not in kept]
    if not added:
        raise LifecycleError(f"--procedure: {request.member!r} is already permitted {wanted}")
    after = kept + added
    trail.check_writable()
    _write(admin, user, after)
    changes = {ATTRIBUTE: [before, after]}
    return _record(trail, "member-permit", view(user), actor, now, changes, prime, notify=notify)


def revoke(
    admin: Any,
    defs: Definitions,
    request: PermissionRequest,
    actor: Actor,
    trail: OperatorAuditTrail,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> LifecycleEvent:
    """Withdraw the RP (every entry for it), or only the named procedure entries. Takes effect at the
    Member's next sign-in, token refresh or userinfo call (each asks bizid.access)."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    wanted = request.wanted(defs)
    user, prime = _member_and_prime(admin, request, now)
    before = entries(user)
    if request.procedures:
        missing = [e for e in wanted if e not in before]
        if missing:
            raise LifecycleError(
                f"--procedure: {request.member!r} has no permission {missing} (has {before})"
            )
        after = [e for e in before if e not in wanted]
    else:
        after = [e for e in before if entry_rp(e) != request.rp]
        if after == before:
            raise LifecycleError(f"--rp {request.rp!r}: {request.member!r} has no permission there")
    trail.check_writable()
    _write(admin, user, after)
    changes = {ATTRIBUTE: [before, after]}
    return _record(trail, "member-revoke", view(user), actor, now, changes, prime, notify=notify)


def permit_all(admin: Any, defs: Definitions, user_id: str) -> list[str]:
    """Permit a new Member every RP that accepts Members (the demo Member of `bizid up`; no audit entry,
    as for the account's creation)."""
    values = [rp.client_id for rp in defs.rps if Tier.MEMBER in rp.accepted_tiers]
    _write(admin, admin.get_user(user_id), values)
    return values
