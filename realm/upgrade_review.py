"""`bizid review submit|list|approve|reject`: the operations centre's Entry -> Prime upgrade.

DOMAIN.md: "An Entry account can be upgraded" once the operations centre has checked the company's
documents. An application records the proofing evidence the centre checks - the corporate number
(with its check digit), company name and type, the representative, the registered address, and the
reference of the seal certificate (印鑑証明書) that proves the representative - and waits in the review
queue: locally one JSON file per application under `.bizid/review/` (`ApplicationStore`); for a deployed
target append-once objects in the target's S3 audit archive, shared by every operator's desk
(`realm.review_queue_s3`). Both keep the same `ReviewQueue` interface.

A decision is taken in three steps, so two desks never both apply one and nothing is left half-done:
1. **claim**: the decision (approve/reject, who, when, why) is written once for the application's next
   attempt; of two desks deciding at the same time exactly one claim is created, the other is refused
   ("already decided by ... at ...") before it touches Keycloak;
2. **apply**: the upgrade in Keycloak (nothing for a rejection);
3. **outcome**: `applied` (the application is approved/rejected for good) or `failed` (Keycloak refused, or
   the account was put back: the application is pending again and a later decision makes attempt N+1).
The states: `pending` (no claim, or the last claim's outcome is `failed`), `claimed` (the last claim has no
outcome: a desk is applying it, or stopped midway), `approved` / `rejected`. A claim older than
`CLAIM_STALE_AFTER` without an outcome is settled by `recover`, which looks at the account in Keycloak.

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
from typing import Any, Literal, Protocol

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
from realm.operator_audit import mask_text

Status = Literal["pending", "claimed", "approved", "rejected"]
Decided = Literal["approved", "rejected"]
CLAIM_STALE_AFTER = dt.timedelta(minutes=10)
"""A claim without an outcome this old is taken to be from a desk that stopped (an approval takes seconds);
younger ones may still be applied by their desk, and `recover` leaves them alone."""
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
class Claim:
    """Step 1 of a decision, written once per attempt: of two desks, the one whose claim was written first
    decides."""

    attempt: int
    decision: Decided
    operator: str
    at: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """Step 3, written once per claim: `applied` ends the review, `failed` puts the application back."""

    attempt: int
    result: Literal["applied", "failed"]
    at: str
    operator: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


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
    attempt: int = 0
    """The number of the last claim (0: none yet); the next claim is attempt + 1."""
    claim: Claim | None = None
    """The open claim while `claimed`; the applied one once decided."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("claim")
        data.pop("attempt")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Application:
        return cls(**{**data, "evidence": Evidence(**data["evidence"])})

    def decided(self, claim: Claim) -> Application:
        return replace(
            self,
            status=claim.decision,
            decided_by=claim.operator,
            decided_at=claim.at,
            decision_reason=claim.reason,
            attempt=claim.attempt,
            claim=claim,
        )


def already_decided(application_id: str, claim: Claim, settled: bool) -> LifecycleError:
    """The refusal a desk gets when another one decided first."""
    verb = "approve" if claim.decision == "approved" else "reject"
    state = claim.decision if settled else f"claimed to {verb}, not yet applied"
    return LifecycleError(
        f"--id {application_id!r}: already decided by {claim.operator} at {claim.at} ({state}); "
        "nothing was changed"
    )


class ReviewQueue(Protocol):
    """Where applications and decisions are kept (the local folder, or the target's S3 archive)."""

    @property
    def where(self) -> str: ...

    def check_writable(self) -> None: ...

    def add(self, application: Application) -> None: ...

    def get(self, application_id: str) -> Application: ...

    def all(self) -> list[Application]: ...

    def claim(self, application: Application, claim: Claim) -> None:
        """Write the claim for `claim.attempt`, or raise `already_decided` when another desk's is there."""

    def settle(self, application: Application, claim: Claim, outcome: Outcome) -> Outcome:
        """Record the claim's outcome once; return the outcome that stands (an earlier one wins)."""


def check_id(application_id: str) -> None:
    if not APPLICATION_ID.fullmatch(application_id or ""):
        raise LifecycleError(f"--id {application_id!r}: not an application id (app-<12 hex digits>)")


@dataclass
class ApplicationStore:
    """The local review queue: one file per application, replaced atomically (write, fsync, rename); a claim
    is a file `<id>.claim` created exclusively (O_EXCL), removed when its outcome is recorded."""

    directory: Path
    _ids: list[str] = field(default_factory=list)

    @property
    def where(self) -> str:
        return str(self.directory)

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

    def add(self, application: Application) -> None:
        self.save(application)

    def _claim_path(self, application_id: str) -> Path:
        return self.directory / f"{application_id}.claim"

    def _open_claim(self, application_id: str) -> Claim | None:
        path = self._claim_path(application_id)
        try:
            return Claim(**json.loads(path.read_text()))
        except FileNotFoundError:
            return None
        except (ValueError, TypeError) as exc:
            raise LifecycleError(f"{path}: not a valid claim ({exc})") from None

    def get(self, application_id: str) -> Application:
        check_id(application_id)
        path = self.directory / f"{application_id}.json"
        if not path.exists():
            raise LifecycleError(f"--id {application_id!r}: no such application")
        try:
            application = Application.from_json(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError) as exc:
            raise LifecycleError(f"{path}: not a valid application record ({exc})") from None
        claim = self._open_claim(application_id) if application.status == "pending" else None
        if claim is not None:
            return replace(application, status="claimed", attempt=claim.attempt, claim=claim)
        return application

    def claim(self, application: Application, claim: Claim) -> None:
        self.check_writable()
        path = self._claim_path(application.id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            other = self._open_claim(application.id)
            if other is None:  # its outcome was recorded between the two calls
                raise self._decided(application.id) from None
            raise already_decided(application.id, other, settled=False) from None
        with os.fdopen(fd, "w") as out:
            json.dump(claim.to_json(), out)
            out.flush()
            os.fsync(out.fileno())
        if self.get(application.id).claim != claim:  # decided by another process before this claim
            path.unlink()
            raise self._decided(application.id)

    def _decided(self, application_id: str) -> LifecycleError:
        current = self.get(application_id)
        if current.claim is not None:
            return already_decided(application_id, current.claim, current.status != "claimed")
        return LifecycleError(
            f"--id {application_id!r}: already decided by {current.decided_by} at {current.decided_at} "
            f"({current.status}); nothing was changed"
        )

    def settle(self, application: Application, claim: Claim, outcome: Outcome) -> Outcome:
        if self._open_claim(application.id) != claim:
            current = self.get(application.id)
            if current.status == claim.decision:
                return replace(outcome, result="applied")
            return replace(outcome, result="failed")
        if outcome.result == "applied":
            self.save(application.decided(claim))
        self._claim_path(application.id).unlink()
        return outcome

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
    store: ReviewQueue,
    username: str,
    evidence: Evidence,
    now: dt.datetime | None = None,
) -> Application:
    """Queue an Entry account's application for review (one open application per account)."""
    now = now or dt.datetime.now(dt.UTC)
    evidence.validate()
    user = _entry_account(admin, username)
    store.check_writable()
    pending = [a for a in store.all() if a.account_id == user["id"] and a.status in ("pending", "claimed")]
    if pending:
        raise LifecycleError(f"--username {username!r}: application {pending[0].id} is already pending")
    application = Application(
        id=f"app-{uuid.uuid4().hex[:12]}",
        account_id=str(user["id"]),
        username=str(user["username"]),
        submitted=_rfc3339(now),
        evidence=evidence,
    )
    store.add(application)
    return application


def _pending(store: ReviewQueue, application_id: str) -> Application:
    application = store.get(application_id)
    if application.status == "claimed" and application.claim is not None:
        raise already_decided(application_id, application.claim, settled=False)
    if application.status != "pending":
        raise LifecycleError(
            f"--id {application_id!r}: already decided by {application.decided_by} at "
            f"{application.decided_at} ({application.status}); nothing was changed"
        )
    return application


def _claim(
    store: ReviewQueue, application: Application, decision: Decided, actor: Actor, now: dt.datetime
) -> Claim:
    claim = Claim(application.attempt + 1, decision, actor.operator, _rfc3339(now), actor.reason)
    store.claim(application, claim)
    return claim


def _settle(
    store: ReviewQueue, application: Application, claim: Claim, result: Literal["applied", "failed"],
    operator: str, now: dt.datetime, note: str = "",
) -> Outcome:  # fmt: skip
    return store.settle(application, claim, Outcome(claim.attempt, result, _rfc3339(now), operator, note))


def _release(store: ReviewQueue, application: Application, claim: Claim, now: dt.datetime, note: str) -> str:
    """Record a failed attempt (the application is pending again); when even that cannot be written, say
    how the open claim is settled."""
    try:
        _settle(store, application, claim, "failed", claim.operator, now, note)
    except Exception as exc:
        return (
            f"; the claim could not be released ({exc}): it shows as 'claimed' in `bizid review list`, "
            f"settle it with `bizid review recover --id {application.id}` after {CLAIM_STALE_AFTER}"
        )
    return "; the application is pending again"


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
    store: ReviewQueue,
    application_id: str,
    actor: Actor,
    trail: Any,
    now: dt.datetime | None = None,
    notify: Notify | None = None,
) -> Upgrade:
    """Make the applicant a Prime: tier, company, validity and second factor in one update, after this desk's
    claim on the decision was written (module docstring: claim, apply, outcome)."""
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
    changes_wanted = _changes_wanted(defs, application, now)
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
    claim = _claim(store, application, "approved", actor, now)
    try:
        admin.update_user(account.id, update)
    except KeycloakError as exc:
        # One update is one transaction in Keycloak: refused means nothing was stored.
        released = _release(store, application, claim, now, "Keycloak refused the update")
        raise LifecycleError(
            f"--id {application_id!r}: Keycloak refused the upgrade of {application.username!r}: "
            f"{_keycloak_message(exc)}; the account is unchanged{released}"
        ) from None
    # Any other failure of the update (the connection lost) leaves the claim open: whether Keycloak stored it
    # is unknown, and `recover` finds out from the account.
    try:
        stored = admin.get_user(account.id)
        wrong = {n: v for n, v in changes_wanted.items() if (stored.get("attributes") or {}).get(n) != [v]}
        if wrong:
            raise LifecycleError(f"Keycloak did not store {sorted(wrong)} on {application.username!r}")
        if secret and not _has_otp(admin, account.id):
            raise LifecycleError(f"Keycloak did not store the TOTP credential of {application.username!r}")
        standing = _settle(store, application, claim, "applied", actor.operator, now)
        if standing.result != "applied":
            raise LifecycleError(
                f"the attempt was already settled as {standing.result} by {standing.operator}"
            )
    except Exception as exc:
        _restore(admin, original, had_otp)
        released = _release(store, application, claim, now, "put back after the update")
        raise LifecycleError(
            f"--id {application_id!r}: the upgrade of {application.username!r} failed after the update "
            f"({exc}); the account was put back as it was{released}"
        ) from None
    decided = application.decided(claim)
    event = _record(
        trail,
        "upgrade",
        account,
        actor,
        now,
        _upgrade_changes(original, application, changes_wanted, had_otp),
        notify=notify,
    )
    return Upgrade(event, decided, secret)


def _changes_wanted(defs: Definitions, application: Application, now: dt.datetime) -> dict[str, str]:
    return {
        "tier": Tier.PRIME.value,
        **application.evidence.attributes(),
        "valid_until": _valid_until(defs, today_jst(now)),
    }


def _upgrade_changes(
    original: dict[str, Any], application: Application, changes_wanted: dict[str, str], had_otp: bool
) -> dict[str, Any]:
    """The trail's record of an upgrade: no representative name or address (personal data)."""
    changes: dict[str, Any] = {
        name: [(original.get("attributes") or {}).get(name, [None])[0], value]
        for name, value in changes_wanted.items()
        if name not in ("corporate_name", "representative_name", "address")
    }
    changes["second_factor"] = ["present", "present"] if had_otp else ["none", "totp enrolled"]
    changes["application"] = [application.id, "approved"]
    return changes


def reject(
    admin: Any,
    store: ReviewQueue,
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
    claim = _claim(store, application, "rejected", actor, now)
    standing = _settle(store, application, claim, "applied", actor.operator, now)
    if standing.result != "applied":
        raise LifecycleError(
            f"--id {application_id!r}: the rejection was settled as {standing.result} by {standing.operator} "
            "first; nothing was changed"
        )
    changes = {"application": [application.id, "rejected"]}
    return _record(trail, "upgrade-reject", account, actor, now, changes, notify=notify)


@dataclass(frozen=True)
class Recovery:
    application: Application
    outcome: Outcome
    event: LifecycleEvent | None


def _applicant(admin: Any, application: Application) -> dict[str, Any]:
    try:
        user: dict[str, Any] = admin.get_user(application.account_id)
    except KeycloakError as exc:
        raise LifecycleError(
            f"--id {application.id!r}: the applicant's account {application.account_id} cannot be read "
            f"({_keycloak_message(exc)}); nothing was recorded"
        ) from None
    return user


def recover(
    admin: Any,
    defs: Definitions,
    store: ReviewQueue,
    application_id: str,
    actor: Actor,
    trail: Any,
    now: dt.datetime | None = None,
) -> Recovery:
    """Settle a claim its desk left without an outcome (it stopped, or lost S3 or Keycloak midway), from what
    Keycloak holds: an approval the account shows (tier and company as applied for) is recorded `applied`;
    otherwise `failed` - any TOTP credential the interrupted approval added is removed - and the
    application is pending again. A rejection changes nothing in Keycloak: it is recorded `applied`."""
    now = now or dt.datetime.now(dt.UTC)
    actor.validate()
    application = store.get(application_id)
    claim = application.claim
    if application.status != "claimed" or claim is None:
        raise LifecycleError(
            f"--id {application_id!r}: is {application.status}, not claimed: there is nothing to recover"
        )
    age = now - dt.datetime.fromisoformat(claim.at.replace("Z", "+00:00"))
    if age < CLAIM_STALE_AFTER:
        raise LifecycleError(
            f"--id {application_id!r}: claimed by {claim.operator} at {claim.at}, "
            f"{int(age.total_seconds())} s ago: that desk may still be applying it; recover only after "
            f"{CLAIM_STALE_AFTER}"
        )
    trail.check_writable()
    store.check_writable()
    note = f"recovered by {actor.operator}: {mask_text(actor.reason)}"
    event = None
    if claim.decision == "rejected":
        account = view(_applicant(admin, application))
        outcome = _settle(store, application, claim, "applied", actor.operator, now, note)
        if outcome.result == "applied":
            changes = {"application": [application.id, "rejected"], "recovered": [None, claim.operator]}
            event = _record(trail, "upgrade-reject", account, actor, now, changes)
        return Recovery(store.get(application_id), outcome, event)
    user = _applicant(admin, application)
    stored = user.get("attributes") or {}
    wanted = {"tier": Tier.PRIME.value, **application.evidence.attributes()}
    upgraded = all(stored.get(n) == [v] for n, v in wanted.items()) and bool(stored.get("valid_until"))
    ours = [
        c for c in admin.get_credentials(application.account_id)
        if c.get("type") == "otp" and c.get("userLabel") == OTP_LABEL
    ]  # fmt: skip
    if upgraded:
        note += "; the account was upgraded before the desk stopped" + (
            "; the TOTP secret it enrolled was never delivered: reset the authenticator" if ours else ""
        )
        outcome = _settle(store, application, claim, "applied", actor.operator, now, note)
    else:
        for credential in ours:  # an approval that did not land leaves no credential behind
            admin.delete_credential(application.account_id, credential["id"])
        outcome = _settle(store, application, claim, "failed", actor.operator, now, note + "; not applied")
    if outcome.result == "applied" and upgraded:
        changes = {
            "tier": ["entry", "prime"],
            "valid_until": [None, stored["valid_until"][0]],
            "second_factor": ["?", "totp enrolled, undelivered" if ours else "present"],
            "application": [application.id, "approved"],
            "recovered": [None, claim.operator],
        }
        event = _record(trail, "upgrade", view(user), actor, now, changes)
    return Recovery(store.get(application_id), outcome, event)
