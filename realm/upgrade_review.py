"""`bizid review submit|list|approve|reject`: the operations centre's Entry -> Prime upgrade.

DOMAIN.md: "An Entry account can be upgraded" once the operations centre has checked the company's
documents. An application records the proofing evidence the centre checks - the corporate number
(with its check digit), company name and type, the representative, the registered address, and the
reference of the seal certificate (印鑑証明書) that proves the representative - and waits in the review
queue (one JSON file per application under `.bizid/review/`, written atomically).

Approval validates everything first (the operator, the reason, the application still pending, the account
still an active Entry account, the evidence, the trail and the queue writable), then makes the account a
Prime in ONE Admin API update: tier, the company attributes from the evidence, valid_until from the Prime
tier's validity (tiers.yaml) and - unless the holder already has one - a TOTP credential whose secret is
handed to the operator for out-of-band delivery (as `bizid accounts create` does). Keycloak applies one
update in one transaction, so a value it refuses (its user-profile validation) leaves the account as it
was; a failure after the update (the stored result differs, the application cannot be marked) puts the
previous representation back and removes the credential just added. Nothing is half-upgraded.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import string
import uuid
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from keycloak.exceptions import KeycloakError

from realm.lifecycle import (
    Actor,
    LifecycleError,
    LifecycleEvent,
    Notify,
    _find,
    _record,
    _rfc3339,
    today_jst,
    view,
)
from realm.models import Definitions, Tier, corporate_number_error

Status = Literal["pending", "approved", "rejected"]
SEAL_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.-]{2,63}$")
"""A seal-certificate reference as filed by the centre (its document number), not the document itself."""
APPLICATION_ID = re.compile(r"^app-[0-9a-f]{12}$")
OTP_LABEL = "enrolled by bizid review approve"


@dataclass(frozen=True)
class Evidence:
    """What the operations centre checked, and what becomes the Prime's company attributes."""

    corporate_name: str
    representative_name: str
    address: str
    seal_certificate: str
    corporate_type: str = "corporation"
    corporate_number: str | None = None

    def validate(self) -> None:
        if self.corporate_type not in ("corporation", "sole_proprietor"):
            raise LifecycleError(
                f"--corporate-type {self.corporate_type!r}: one of ['corporation', 'sole_proprietor']"
            )
        if self.corporate_type == "corporation":
            error = corporate_number_error(self.corporate_number or "")
            if not self.corporate_number:
                raise LifecycleError("--corporate-number: required for a corporation")
            if error:
                raise LifecycleError(f"--corporate-number: {error}")
        elif self.corporate_number:
            raise LifecycleError("--corporate-number: sole proprietors have no corporate number")
        for option, value in (
            ("--corporate-name", self.corporate_name),
            ("--representative-name", self.representative_name),
            ("--address", self.address),
        ):
            if not value or not value.strip():
                raise LifecycleError(f"{option}: required and must not be blank")
        if not SEAL_REFERENCE.fullmatch(self.seal_certificate or ""):
            raise LifecycleError(
                f"--seal-certificate {self.seal_certificate!r}: the certificate's reference number "
                "(3-64 letters, digits, '/', '_', '.', '-')"
            )

    def attributes(self) -> dict[str, str]:
        attrs = {
            "corporate_name": self.corporate_name,
            "corporate_type": self.corporate_type,
            "representative_name": self.representative_name,
            "address": self.address,
        }
        if self.corporate_number:
            attrs["corporate_number"] = self.corporate_number
        return attrs


@dataclass(frozen=True)
class Application:
    id: str
    account_id: str
    username: str
    submitted: str
    evidence: Evidence
    status: Status = "pending"
    decided_by: str | None = None
    decided_at: str | None = None
    decision_reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Application:
        return cls(**{**data, "evidence": Evidence(**data["evidence"])})


@dataclass
class ApplicationStore:
    """The review queue: one file per application, replaced atomically (write, fsync, rename)."""

    directory: Path
    _ids: list[str] = field(default_factory=list)

    def check_writable(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise LifecycleError(f"review queue {self.directory}: cannot be created ({exc})") from None
        if not os.access(self.directory, os.W_OK):
            raise LifecycleError(f"review queue {self.directory}: not writable")

    def save(self, application: Application) -> None:
        self.check_writable()
        target = self.directory / f"{application.id}.json"
        tmp = target.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump(application.to_json(), out, ensure_ascii=False, indent=1)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, target)

    def get(self, application_id: str) -> Application:
        if not APPLICATION_ID.fullmatch(application_id or ""):
            raise LifecycleError(f"--id {application_id!r}: not an application id (app-<12 hex digits>)")
        path = self.directory / f"{application_id}.json"
        if not path.exists():
            raise LifecycleError(f"--id {application_id!r}: no such application")
        try:
            return Application.from_json(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError) as exc:
            raise LifecycleError(f"{path}: not a valid application record ({exc})") from None

    def all(self) -> list[Application]:
        if not self.directory.exists():
            return []
        return sorted(
            (self.get(p.stem) for p in self.directory.glob("app-*.json")), key=lambda a: a.submitted
        )


def _entry_account(admin: Any, username: str) -> dict[str, Any]:
    user = _find(admin, username)
    account = view(user)
    if account.tier != Tier.ENTRY.value:
        raise LifecycleError(
            f"--username {username!r}: is a {account.tier!r} account; only an Entry account is upgraded"
        )
    if account.status == "suspended" or not account.enabled:
        raise LifecycleError(f"--username {username!r}: the account is suspended")
    return user


def submit(
    admin: Any,
    store: ApplicationStore,
    username: str,
    evidence: Evidence,
    now: dt.datetime | None = None,
) -> Application:
    """Queue an Entry account's application for review (one pending application per account)."""
    now = now or dt.datetime.now(dt.UTC)
    evidence.validate()
    user = _entry_account(admin, username)
    pending = [a for a in store.all() if a.account_id == user["id"] and a.status == "pending"]
    if pending:
        raise LifecycleError(f"--username {username!r}: application {pending[0].id} is already pending")
    store.check_writable()
    application = Application(
        id=f"app-{uuid.uuid4().hex[:12]}",
        account_id=str(user["id"]),
        username=str(user["username"]),
        submitted=_rfc3339(now),
        evidence=evidence,
    )
    store.save(application)
    return application


def _pending(store: ApplicationStore, application_id: str) -> Application:
    application = store.get(application_id)
    if application.status != "pending":
        raise LifecycleError(
            f"--id {application_id!r}: the application was already {application.status} "
            f"by {application.decided_by} at {application.decided_at}"
        )
    return application


def _valid_until(defs: Definitions, today: dt.date) -> str:
    validity = defs.tier(Tier.PRIME).validity
    if validity is not None:
        return validity.last_day(today).isoformat()
    return today.replace(year=today.year + defs.realm.prime_revalidation_years).isoformat()


def _otp_credential(defs: Definitions, secret: str) -> dict[str, Any]:
    otp = defs.realm.otp
    return {
        "type": "otp",
        "userLabel": OTP_LABEL,
        "secretData": json.dumps({"value": secret}),
        "credentialData": json.dumps(
            {
                "subType": "totp",
                "digits": otp.digits,
                "counter": 0,
                "period": otp.period_seconds,
                "algorithm": otp.algorithm,
            }
        ),
    }


def _has_otp(admin: Any, user_id: str) -> bool:
    return any(c.get("type") == "otp" for c in admin.get_credentials(user_id))


def _keycloak_message(exc: KeycloakError) -> str:
    body = exc.response_body
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or exc)
    try:
        data = json.loads(text)
    except ValueError:
        return text
    if isinstance(data, dict):
        return str(data.get("errorMessage") or data.get("error") or text)
    return text


def _restore(admin: Any, original: dict[str, Any], had_otp: bool) -> None:
    """Put the account back as it was before the upgrade (the credential added by it removed)."""
    admin.update_user(original["id"], original)
    if not had_otp:
        for credential in admin.get_credentials(original["id"]):
            if credential.get("type") == "otp" and credential.get("userLabel") == OTP_LABEL:
                admin.delete_credential(original["id"], credential["id"])


@dataclass(frozen=True)
class Upgrade:
    event: LifecycleEvent
    application: Application
    totp_secret: str | None = field(default=None, repr=False)


def approve(
    admin: Any,
    defs: Definitions,
    store: ApplicationStore,
    application_id: str,
    actor: Actor,
    trail: Any,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> Upgrade:
    """Make the applicant a Prime: tier, company, validity and second factor in one update."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    application = _pending(store, application_id)
    application.evidence.validate()
    original = _entry_account(admin, application.username)
    if str(original["id"]) != application.account_id:
        raise LifecycleError(
            f"--id {application_id!r}: account {application.username!r} is not the one that applied "
            "(deleted and re-created?)"
        )
    trail.check_writable()
    store.check_writable()
    account = view(original)
    changes_wanted = {
        "tier": Tier.PRIME.value,
        **application.evidence.attributes(),
        "valid_until": _valid_until(defs, today_jst(now)),
    }
    had_otp = _has_otp(admin, account.id)
    secret = (
        None if had_otp else "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(20))
    )
    attributes = dict(original.get("attributes") or {})
    for name, value in changes_wanted.items():
        attributes[name] = [value]
    update = {**original, "attributes": attributes}
    if secret:
        update["credentials"] = [_otp_credential(defs, secret)]
    try:
        admin.update_user(account.id, update)
    except KeycloakError as exc:
        # One update is one transaction in Keycloak: refused means nothing was stored.
        raise LifecycleError(
            f"--id {application_id!r}: Keycloak refused the upgrade of {application.username!r}: "
            f"{_keycloak_message(exc)}; the account is unchanged"
        ) from None
    try:
        stored = admin.get_user(account.id)
        wrong = {n: v for n, v in changes_wanted.items() if (stored.get("attributes") or {}).get(n) != [v]}
        if wrong:
            raise LifecycleError(f"Keycloak did not store {sorted(wrong)} on {application.username!r}")
        if secret and not _has_otp(admin, account.id):
            raise LifecycleError(f"Keycloak did not store the TOTP credential of {application.username!r}")
        decided = replace(
            application,
            status="approved",
            decided_by=actor.operator,
            decided_at=_rfc3339(now),
            decision_reason=actor.reason,
        )
        store.save(decided)
    except Exception as exc:
        _restore(admin, original, had_otp)
        raise LifecycleError(
            f"--id {application_id!r}: the upgrade of {application.username!r} failed after the update "
            f"({exc}); the account was put back as it was"
        ) from None
    changes: dict[str, Any] = {
        name: [(original.get("attributes") or {}).get(name, [None])[0], value]
        for name, value in changes_wanted.items()
        if name not in ("corporate_name", "representative_name", "address")
    }
    changes["second_factor"] = ["present", "present"] if had_otp else ["none", "totp enrolled"]
    changes["application"] = [application.id, "approved"]
    event = _record(trail, "upgrade", account, actor, now, changes, notify=notify)
    return Upgrade(event, decided, secret)


def reject(
    admin: Any,
    store: ApplicationStore,
    application_id: str,
    actor: Actor,
    trail: Any,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> LifecycleEvent:
    """Refuse the application (the reason is recorded); the account stays an Entry account."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    application = _pending(store, application_id)
    account = view(_find(admin, application.username))
    trail.check_writable()
    store.check_writable()
    decided = replace(
        application,
        status="rejected",
        decided_by=actor.operator,
        decided_at=_rfc3339(now),
        decision_reason=actor.reason,
    )
    store.save(decided)
    changes = {"application": [application.id, "rejected"]}
    return _record(trail, "upgrade-reject", account, actor, now, changes, notify=notify)
