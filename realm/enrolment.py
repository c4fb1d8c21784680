"""`bizid accounts reset-authenticator`: the lost-authenticator reset, without trust on first use.

Deleting a holder's second factor used to let the next sign-in enrol any new device on the password alone.
The reset instead removes every second factor (TOTP, WebAuthn, recovery codes), ends the account's sessions
and stores a one-time enrolment code on the account: only its salted SHA-256 hash, expiry, failed attempts and
state, in the operator-only attribute `enrolment_code` (realm/definitions/user-profile.yaml). The code itself
goes to the holder out of band (mail to the registered address, or a letter the operator prints). At the next
sign-in the browser flow's `bizid-enrolment-code` step (org.bizid.keycloak.enrolment, docs/realm.md) asks
for it before the TOTP set-up: a wrong code counts an attempt (locked at 5), an expired, used or locked one is
refused, and a right one is consumed.

Like every lifecycle command: all input is validated first, then the change, then one audit entry (never the
code), then the delivery.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Literal

from realm.lifecycle import (
    Actor,
    LifecycleError,
    LifecycleEvent,
    Notify,
    _find,
    _record,
    end_sessions,
    view,
)
from realm.operator_audit import OperatorAuditTrail

ATTRIBUTE = "enrolment_code"
"""Operator-only user attribute; format shared with EnrolmentCode.java."""
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""32 symbols without 0/O and 1/I: 12 of them are 60 bits, read aloud or typed from a letter without doubt."""
LENGTH = 12
MAX_ATTEMPTS = 5
"""As EnrolmentCodeAuthenticator.MAX_ATTEMPTS."""
DEFAULT_VALID_DAYS = 14
MAX_VALID_DAYS = 31
DELIVERIES = ("mail", "letter")
KEPT_CREDENTIALS = frozenset({"password"})
"""Credential types a reset keeps; every other one (otp, webauthn, recovery-authn-codes ...) is removed."""

Delivery = Literal["mail", "letter"]


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def grouped(code: str) -> str:
    """XXXX-XXXX-XXXX, as printed and mailed (the hyphens are ignored when typed)."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def record(code: str, expires: dt.datetime, salt: bytes | None = None) -> str:
    """The stored value: `v1:issued:<expires epoch>:0:<salt hex>:<sha256(salt + code) hex>`."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.sha256(salt + code.encode()).hexdigest()
    return f"v1:issued:{int(expires.timestamp())}:0:{salt.hex()}:{digest}"


@dataclass(frozen=True)
class StoredCode:
    state: str
    expires: dt.datetime
    attempts: int

    @classmethod
    def parse(cls, value: str | None) -> StoredCode | None:
        parts = (value or "").split(":")
        if len(parts) != 6 or parts[0] != "v1":
            return None
        try:
            return cls(parts[1], dt.datetime.fromtimestamp(int(parts[2]), dt.UTC), int(parts[3]))
        except ValueError:
            return None


@dataclass(frozen=True)
class ResetResult:
    event: LifecycleEvent
    code: str
    """The code in clear, for the delivery only; it is stored nowhere."""
    expires: dt.datetime
    removed: tuple[str, ...]


def validate_options(deliver: str, valid_days: int) -> None:
    if deliver not in DELIVERIES:
        raise LifecycleError(f"--deliver {deliver!r}: one of {list(DELIVERIES)}")
    if not 1 <= valid_days <= MAX_VALID_DAYS:
        raise LifecycleError(f"--valid-days {valid_days}: between 1 and {MAX_VALID_DAYS}")


def reset_authenticator(
    admin: Any,
    username: str,
    actor: Actor,
    trail: OperatorAuditTrail,
    deliver: Delivery = "mail",
    valid_days: int = DEFAULT_VALID_DAYS,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> ResetResult:
    """Remove the account's second factors, end its sessions and issue a one-time enrolment code."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    validate_options(deliver, valid_days)
    user = _find(admin, username)
    account = view(user)
    if deliver == "mail" and not account.email:
        raise LifecycleError(
            f"--deliver mail: the account {username!r} has no registered e-mail address; use --deliver letter"
        )
    trail.check_writable()
    credentials: list[dict[str, Any]] = admin.get_credentials(account.id)
    removable = [c for c in credentials if c.get("type") not in KEPT_CREDENTIALS]
    code = new_code()
    expires = (now + dt.timedelta(days=valid_days)).replace(microsecond=0)
    # The code first: from this write on, no new device can be set up without it, even if a later step fails.
    fresh: dict[str, Any] = admin.get_user(account.id)
    attributes = dict(fresh.get("attributes") or {})
    attributes[ATTRIBUTE] = [record(code, expires)]
    fresh["attributes"] = attributes
    admin.update_user(account.id, fresh)
    stored = StoredCode.parse(
        ((admin.get_user(account.id).get("attributes") or {}).get(ATTRIBUTE) or [None])[0]
    )
    if stored is None or stored.state != "issued":
        raise LifecycleError(
            f"Keycloak did not store {ATTRIBUTE} on {username!r}: is it declared in "
            "realm/definitions/user-profile.yaml?"
        )
    for credential in removable:
        admin.delete_credential(account.id, credential["id"])
    ended = end_sessions(admin, account.id)
    removed = tuple(sorted({str(c.get("type")) for c in removable}))
    changes = {
        "second_factor": [list(removed), []],
        ATTRIBUTE: [None, f"issued by {deliver}, valid until {expires.isoformat().replace('+00:00', 'Z')}"],
    }
    event = _record(
        trail, "reset-authenticator", account, actor, now, changes, sessions_ended=ended, notify=notify
    )
    return ResetResult(event=event, code=grouped(code), expires=expires, removed=removed)
