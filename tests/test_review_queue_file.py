"""The local review queue (`realm.upgrade_review.ApplicationStore`, `.bizid/review/`) keeps the claim ->
outcome steps of the shared one (no platform: the files only; against Keycloak: test_upgrade_review_e2e.py):
one claim at a time, a failed attempt puts the application back, an applied one decides it for good, and a
claim left open shows as `claimed`."""

from __future__ import annotations

from pathlib import Path

import pytest

from realm.lifecycle import LifecycleError
from realm.upgrade_review import Application, ApplicationStore, Claim, Evidence, Outcome

EVIDENCE = Evidence(
    corporate_name="File Queue K.K.",
    representative_name="Taro Daihyo",
    address="1-1 Kasumigaseki",
    seal_certificate="SEAL-1",
    corporate_number="5010401089998",
)


def _queued(tmp_path: Path) -> tuple[ApplicationStore, Application]:
    store = ApplicationStore(tmp_path / "review")
    application = Application("app-0123456789ab", "user-1", "someone", "2026-12-01T10:00:00Z", EVIDENCE)
    store.add(application)
    return store, application


def test_one_claim_at_a_time_and_the_states(tmp_path: Path) -> None:
    store, application = _queued(tmp_path)
    first = Claim(1, "approved", "op.a", "2026-12-01T10:01:00Z", "checked")
    store.claim(application, first)
    current = store.get(application.id)
    assert current.status == "claimed" and current.claim == first
    with pytest.raises(
        LifecycleError, match=r"already decided by op.a at 2026-12-01T10:01:00Z .*not yet applied"
    ):
        store.claim(application, Claim(1, "rejected", "op.b", "2026-12-01T10:01:01Z", "no"))
    # Failed: pending again, the next claim is free.
    store.settle(application, first, Outcome(1, "failed", "2026-12-01T10:01:02Z", "op.a", "refused"))
    assert store.get(application.id).status == "pending"
    second = Claim(2, "rejected", "op.b", "2026-12-01T10:02:00Z", "no seal")
    store.claim(store.get(application.id), second)
    store.settle(application, second, Outcome(2, "applied", "2026-12-01T10:02:01Z", "op.b"))
    decided = store.get(application.id)
    assert (decided.status, decided.decided_by, decided.decided_at) == (
        "rejected",
        "op.b",
        "2026-12-01T10:02:00Z",
    )
    with pytest.raises(LifecycleError, match=r"already decided by op.b at 2026-12-01T10:02:00Z \(rejected\)"):
        store.claim(decided, Claim(3, "approved", "op.c", "2026-12-01T10:03:00Z", "late"))
    assert [p.name for p in sorted((tmp_path / "review").iterdir())] == ["app-0123456789ab.json"]
