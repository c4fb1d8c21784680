"""The Entry -> Prime review queue of a deployed target, in S3: one queue shared by every operator's desk.

Where: the bucket, region (and test endpoint) of the target file's `operator_trail` - the stack's audit
archive (Object Lock in compliance mode, default encryption SSE-KMS with the stack key) - under the fixed
prefix `review/` (REVIEW_PREFIX; the operator's IAM policy grants get/put/list on exactly it, no delete).

Layout, every object written once with a conditional PUT (`If-None-Match: *`, `realm.s3_store`) and never
replaced or deleted (Object Lock would refuse it anyway); names hold ids only, never personal data:

    review/<application id>/application.json   the application as submitted (evidence: personal data)
    review/<application id>/claim-<NNN>.json    attempt NNN's decision: approve|reject, operator, time, reason
    review/<application id>/outcome-<NNN>.json  attempt NNN's result: applied | failed (pending again)

Of two desks claiming attempt NNN at once, S3 creates the object for one and answers the other 412: that desk
is told who decided and when, and changes nothing in Keycloak. The states (`realm.upgrade_review`):
pending (no claim, or the last one's outcome is failed), claimed (the last claim has no outcome yet),
approved / rejected (the last claim's outcome is applied).

The application holds the representative's name and registered address: they stay in the encrypted bucket
for the archive's retention (Object Lock: not erasable before it ends) and are printed by no command.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import replace
from typing import Any

from realm.lifecycle import LifecycleError
from realm.operator_audit_s3 import store_for
from realm.s3_store import AppendOnceStore, StoredObject
from realm.targets import OperatorTrail
from realm.upgrade_review import (
    APPLICATION_ID,
    Application,
    Claim,
    Outcome,
    already_decided,
    check_id,
)

REVIEW_PREFIX = "review/"
"""The queue's prefix in the audit archive bucket (infra/components/operator_access.py grants it)."""
APPLICATION = "application.json"
_STEP = re.compile(r"^(claim|outcome)-(\d{3,})\.json$")


def queue_for(home: OperatorTrail, client: Any = None) -> S3ReviewQueue:
    """The queue in the same bucket (and region, endpoint) as the target's operator audit trail."""
    return S3ReviewQueue(store_for(home, REVIEW_PREFIX, client))


class S3ReviewQueue:
    """`realm.upgrade_review.ReviewQueue` on append-once S3 objects (module docstring)."""

    def __init__(self, store: AppendOnceStore) -> None:
        self.store = store

    @property
    def where(self) -> str:
        return self.store.location.uri

    def check_writable(self) -> None:
        """The bucket answers and the prefix can be listed (S3StoreError otherwise, before any change)."""
        self.store.check()

    def _json(self, name: str) -> dict[str, Any]:
        body = self.store.get(name)
        if body is None:
            raise LifecycleError(f"review queue {self.where}: {name} was listed but cannot be read")
        try:
            data = json.loads(body.decode("utf-8"))
        except ValueError:
            raise LifecycleError(f"review queue {self.where}: {name} is not JSON") from None
        if not isinstance(data, dict):
            raise LifecycleError(f"review queue {self.where}: {name} is not a JSON object")
        return data

    def add(self, application: Application) -> None:
        body = json.dumps(application.to_json(), ensure_ascii=False, sort_keys=True).encode("utf-8")
        if not self.store.put_if_absent(f"{application.id}/{APPLICATION}", body):
            raise LifecycleError(f"review queue {self.where}: {application.id} exists already; submit again")

    def _build(self, application_id: str, names: set[str]) -> Application:
        if APPLICATION not in names:
            raise LifecycleError(f"--id {application_id!r}: no such application in {self.where}")
        try:
            application = Application.from_json(self._json(f"{application_id}/{APPLICATION}"))
            if application.id != application_id:
                raise ValueError(f"its id is {application.id!r}")
        except (ValueError, TypeError, KeyError) as exc:
            raise LifecycleError(
                f"review queue {self.where}: {application_id}/{APPLICATION} is not a valid application "
                f"({exc})"
            ) from None
        steps: dict[str, set[int]] = defaultdict(set)
        for name in names:
            match = _STEP.match(name)
            if match:
                steps[match.group(1)].add(int(match.group(2)))
        if not steps["claim"]:
            return application
        attempt = max(steps["claim"])
        claim = self._claim(application_id, attempt)
        if attempt not in steps["outcome"]:
            return replace(application, status="claimed", attempt=attempt, claim=claim)
        outcome = self._outcome(application_id, attempt)
        if outcome.result == "applied":
            return application.decided(claim)
        return replace(application, attempt=attempt)

    def _claim(self, application_id: str, attempt: int) -> Claim:
        name = f"{application_id}/claim-{attempt:03d}.json"
        try:
            claim = Claim(**self._json(name))
        except TypeError as exc:
            raise LifecycleError(f"review queue {self.where}: {name} is not a valid claim ({exc})") from None
        if claim.attempt != attempt or claim.decision not in ("approved", "rejected"):
            raise LifecycleError(f"review queue {self.where}: {name} is not a valid claim")
        return claim

    def _outcome(self, application_id: str, attempt: int) -> Outcome:
        name = f"{application_id}/outcome-{attempt:03d}.json"
        try:
            outcome = Outcome(**self._json(name))
        except TypeError as exc:
            raise LifecycleError(
                f"review queue {self.where}: {name} is not a valid outcome ({exc})"
            ) from None
        if outcome.attempt != attempt or outcome.result not in ("applied", "failed"):
            raise LifecycleError(f"review queue {self.where}: {name} is not a valid outcome")
        return outcome

    @staticmethod
    def _grouped(objects: list[StoredObject]) -> dict[str, set[str]]:
        grouped: dict[str, set[str]] = defaultdict(set)
        for o in objects:
            application_id, slash, name = o.name.partition("/")
            if slash and APPLICATION_ID.fullmatch(application_id):
                grouped[application_id].add(name)
        return grouped

    def get(self, application_id: str) -> Application:
        check_id(application_id)
        names = self._grouped(self.store.list(f"{application_id}/")).get(application_id, set())
        return self._build(application_id, names)

    def all(self) -> list[Application]:
        grouped = self._grouped(self.store.list())
        return sorted((self._build(i, names) for i, names in grouped.items()), key=lambda a: a.submitted)

    def claim(self, application: Application, claim: Claim) -> None:
        body = json.dumps(claim.to_json(), sort_keys=True).encode("utf-8")
        if self.store.put_if_absent(f"{application.id}/claim-{claim.attempt:03d}.json", body):
            return
        winner = self._claim(application.id, claim.attempt)
        names = self._grouped(self.store.list(f"{application.id}/")).get(application.id, set())
        settled = f"outcome-{claim.attempt:03d}.json" in names
        if settled and self._outcome(application.id, claim.attempt).result == "failed":
            raise LifecycleError(
                f"--id {application.id!r}: {winner.operator} tried to decide it at {winner.at} and it failed "
                "(the application is pending again); nothing was changed: run the command again"
            )
        raise already_decided(application.id, winner, settled=settled)

    def settle(self, application: Application, claim: Claim, outcome: Outcome) -> Outcome:
        body = json.dumps(outcome.to_json(), sort_keys=True).encode("utf-8")
        if self.store.put_if_absent(f"{application.id}/outcome-{claim.attempt:03d}.json", body):
            return outcome
        return self._outcome(application.id, claim.attempt)
