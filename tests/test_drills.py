"""The failover drills in a short form, against the real two-site topology (two PostgreSQL clusters in
streaming replication, four Keycloak nodes, HAProxy LBs and the record): node loss, then the unplanned loss
of Tokyo on the same topology.

Properties only, no timing thresholds: every step of the runbook ran; no committed account is lost, or each
lost one is listed; the record never pointed at a site whose database was read-only; both nodes of a site
see one session; users signed in before a node loss stay signed in. Each property is checked here from the
raw record (sign-ins, writes, record samples, a fresh snapshot), not only from the drill's own verdicts.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from scripts import settings
from scripts.drills import engine, inventory, ops
from scripts.drills.result import DrillResult
from scripts.settings import Settings
from scripts.sites.topology import SLOT_ENV

pytestmark = pytest.mark.platform

SHORT = engine.Options(before=5, after=5, workers=2, accounts=3, held=3, watch=5, max_seconds=300)


@pytest.fixture(scope="module")
def two_sites() -> Iterator[Settings]:
    """A fresh topology in the tests' slot (never a developer's `bizid sites up`), removed afterwards."""
    before = os.environ.get(SLOT_ENV)
    os.environ[SLOT_ENV] = "1"
    cfg = settings.load()
    api = ops.sites_api()
    try:
        api.wipe(cfg)
        api.up(cfg)
        yield cfg
    finally:
        api.wipe(cfg)
        if before is None:
            os.environ.pop(SLOT_ENV, None)
        else:
            os.environ[SLOT_ENV] = before


def _steps_ran(result: DrillResult) -> None:
    failed = [f"{s.title}: {s.detail}" for s in result.steps if not s.ok]
    assert not failed, failed
    assert len(result.steps) == len(engine.validate(result.name))


def _never_read_only(result: DrillResult) -> None:
    assert result.record, "the record was never sampled"
    bad = [s for s in result.record if s.points_to is not None and s.writable.get(s.points_to) is False]
    assert not bad, f"the record pointed at a read-only site: {bad[:3]}"


def _check(result: DrillResult, starts: str) -> None:
    found = [c for c in result.checks if c.name.startswith(starts)]
    assert found, f"no check {starts!r} in {[c.name for c in result.checks]}"
    assert all(c.ok for c in found), found


def test_node_loss_keeps_sessions_and_every_committed_account(two_sites: Settings) -> None:
    result = engine.run(two_sites, "node-loss", SHORT, "pytest tests/test_drills.py (short)")
    _steps_ran(result)
    _never_read_only(result)
    _check(result, "both Tokyo nodes see every session")
    _check(result, "users signed in before the node loss stay signed in")
    acked = {w.username for w in result.writes if w.ok}
    assert acked, "the writer committed nothing: nothing could be lost"
    ctx = ops.Context(two_sites, result)
    tokyo = inventory.snapshot("tokyo", ctx.database("tokyo"))
    assert acked <= tokyo.keys["accounts"], sorted(acked - tokyo.keys["accounts"])
    assert any(s.ok and s.end > (result.step_start("Kill Keycloak node 2") or 0) for s in result.signins)


def test_unplanned_loss_of_tokyo_loses_nothing_unlisted_and_switches_the_record(two_sites: Settings) -> None:
    result = engine.run(two_sites, "unplanned", SHORT, "pytest tests/test_drills.py (short)")
    _steps_ran(result)
    _never_read_only(result)
    _check(result, "every committed account is at osaka or listed as lost")
    kill = result.step_start("Kill Tokyo")
    assert kill is not None
    ctx = ops.Context(two_sites, result)
    osaka = inventory.snapshot("osaka", ctx.database("osaka"))
    assert not osaka.in_recovery, "Osaka was promoted: its database takes writes"
    acked_before = {w.username for w in result.writes if w.ok and w.end <= kill}
    assert acked_before, "the writer committed nothing before the kill: nothing could be lost"
    listed = " ".join(f for f in result.findings if f.startswith(("lost at osaka", "acknowledged")))
    missing = acked_before - osaka.keys["accounts"]
    assert all(m in listed for m in missing), f"lost but not listed: {sorted(missing)}"
    listed_names = {w.username for w in result.writes if w.username in listed}
    assert not listed_names & osaka.keys["accounts"], "listed as lost but present in Osaka"
    assert result.record[-1].points_to == "osaka"
    assert any(s.ok and s.site == "osaka" and s.start > kill for s in result.signins)
    assert result.figures.get("RPO (transactions)", 0) >= len(missing)
