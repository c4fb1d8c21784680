"""The drills without a platform: runbook <-> drill steps, the recorder's bounds and RTO arithmetic, the RPO
comparison, the report, and `bizid drill`'s refusal of bad input (before anything starts)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from realm.oidc.browser_flow import Client
from scripts.drills import ops, report, runbook, steps
from scripts.drills.inventory import Snapshot, compare
from scripts.drills.recorder import LoadSpec, NotLoopback, Recorder, SignIn, outage
from scripts.drills.result import DrillResult, RecordSample, StepRun
from scripts.settings import REPO_ROOT

CLIENT = Client("seminar", "http://127.0.0.1:1/cb")


# --- runbook <-> drill steps ------------------------------------------------------------------------


def test_the_runbook_lists_exactly_the_drill_steps() -> None:
    """docs/runbook-failover.md's step lists are the rendering of scripts/drills/steps.py: editing either
    alone fails here (`bizid drill runbook` regenerates them)."""
    assert not runbook.stale(), (
        "docs/runbook-failover.md differs from the drill steps: run `bizid drill runbook`"
    )


def test_a_hand_edit_of_a_generated_step_is_caught(tmp_path: Path) -> None:
    text = runbook.RUNBOOK.read_text(encoding="utf-8")
    edited = tmp_path / "runbook.md"
    edited.write_text(text.replace("Promote Osaka's database", "Promote Osaka's database (or not)", 1))
    assert runbook.stale(edited)
    dropped = tmp_path / "dropped.md"
    dropped.write_text(text.replace("aws rds failover-global-cluster", "aws rds something-else", 1))
    assert runbook.stale(dropped)


def test_every_aws_command_of_a_drill_is_in_the_runbook() -> None:
    text = runbook.RUNBOOK.read_text(encoding="utf-8")
    for step in (s for drill in steps.DRILLS.values() for s in drill):
        for command in step.aws:
            for line in command.splitlines():
                assert line in text, f"{step.title}: {line!r} is not in the runbook"
        if step.runbook and step.op is not None:
            assert f"`{step.op.command}`" in text


def test_a_missing_marker_is_an_error_naming_the_part(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="node-loss"):
        runbook.generate(runbook.RUNBOOK.read_text(encoding="utf-8").replace("drill-steps:node-loss", "x"))


def test_every_step_operation_is_valid_and_unrehearsed_steps_say_so() -> None:
    for name, drill in steps.DRILLS.items():
        for step in drill:
            if step.op is not None:
                ops.validate(step.op)
            else:
                assert step.runbook, f"{name}: a drill-only step must run something"
                assert "AWS only, not rehearsed" in runbook.render_step(1, step)
            assert not step.runbook or step.runbook in steps.RUNBOOK_PARTS


@pytest.mark.parametrize("name", sorted(steps.DRILLS))
def test_a_site_is_drained_from_the_record_before_it_turns_read_only(name: str) -> None:
    """A planned switchover takes the old primary out of the record before making its database read-only
    (the record must never point at a read-only site, not even for its detection window), and the site
    serves again between the two switches (the Osaka leg has load of its own)."""
    drained: set[str] = set()
    for step in steps.drill(name):
        if step.op is None:
            continue
        if step.op.name == "drain-record":
            drained.add(step.op.args[0])
        if step.op.name == "switchover-db":
            old = step.op.args[0]
            assert old in drained, f"{name}: {step.title!r} switches {old} over without draining it first"
            drained.discard(old)
    if name == "switchover":
        ops_ = [s.op for s in steps.SWITCHOVER if s.op is not None]
        drains = [k for k, op in enumerate(ops_) if op.name == "drain-record"]
        assert [ops_[k].args for k in drains] == [("tokyo",), ("osaka",)]
        between = ops_[drains[0] : drains[1]]
        assert steps.Op("watch-record", ("osaka",)) in between, "no load on Osaka before switching back"


@pytest.mark.parametrize(
    ("op", "message"),
    [
        (steps.Op("promote", ("kyoto",)), "site 'kyoto'"),
        (steps.Op("kill-node", ("tokyo", "3")), "node '3'"),
        (steps.Op("fence", ()), "takes 1 argument"),
        (steps.Op("reboot-everything", ()), "unknown site operation"),
    ],
)
def test_bad_operations_are_refused_by_name(op: steps.Op, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ops.validate(op)


# --- bizid drill: bad input, nothing started ----------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["drill", "meteor"], "invalid choice: 'meteor'"),
        (["drill", "unplanned", "--before", "-5"], "argument --before: must be between 0 and 300"),
        (["drill", "node-loss", "--after", "ten"], "argument --after: 'ten' is not a whole number"),
        (
            ["drill", "switchover", "--max-seconds", "5000"],
            "argument --max-seconds: must be between 60 and 900",
        ),
        (["drill", "failback", "--workers", "0"], "argument --workers: must be between 1 and 8"),
        (["drill", "op", "promote", "kyoto"], "site 'kyoto'"),
        (["drill", "op", "kill-node", "tokyo"], "takes 2 argument"),
    ],
)
def test_bad_drill_input_is_a_clear_error_and_starts_nothing(
    tmp_path: Path, argv: list[str], message: str
) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "BIZID_STATE_DIR": str(state), "BIZID_PORT_OFFSET": "3000"}
    run = subprocess.run(
        [sys.executable, "-m", "scripts.cli", *argv],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert not state.exists(), "a refused drill must not have created any state"


# --- the recorder -------------------------------------------------------------------------------------


def _attempt(spec: LoadSpec, username: str, password: str) -> SignIn:
    now = time.time()
    return SignIn(now, now, True, username, "tokyo")


def test_the_load_stops_by_itself_at_its_count() -> None:
    spec = LoadSpec("https://127.0.0.1:1/realms/bizid", CLIENT, [("a", "p")], "ca.pem", workers=3, pause=0,
                    max_signins=25, max_seconds=60)  # fmt: skip
    recorder = Recorder(spec, attempt=_attempt).start()
    deadline = time.monotonic() + 30
    while recorder.running and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not recorder.running
    assert len(recorder.stop()) == 25


def test_the_load_stops_by_itself_at_its_duration() -> None:
    spec = LoadSpec("https://127.0.0.1:1/realms/bizid", CLIENT, [("a", "p")], "ca.pem", workers=1, pause=0.05,
                    max_signins=20_000, max_seconds=0.5)  # fmt: skip
    recorder = Recorder(spec, attempt=_attempt).start()
    time.sleep(1.5)
    assert not recorder.running
    assert 0 < len(recorder.stop()) < 20_000


@pytest.mark.parametrize("issuer", ["https://192.0.2.10/realms/bizid", "https://example.com/realms/bizid"])
def test_the_load_goes_to_loopback_only(issuer: str) -> None:
    with pytest.raises(NotLoopback):
        LoadSpec(issuer, CLIENT, [("a", "p")], "ca.pem")


@pytest.mark.parametrize(
    ("field", "value"), [("workers", 0), ("max_signins", 10**9), ("max_seconds", 10_000.0), ("pause", -1.0)]
)
def test_unbounded_load_is_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        LoadSpec("https://127.0.0.1:1/realms/bizid", CLIENT, [("a", "p")], "ca.pem", **{field: value})  # type: ignore[arg-type]


def _s(start: float, end: float, ok: bool, error: str = "") -> SignIn:
    return SignIn(start, end, ok, "u", "tokyo" if start < 10 else "osaka", error=error)


def test_rto_is_last_good_before_to_first_good_started_after() -> None:
    signins = [
        _s(0, 1, True),
        _s(4, 5, True),  # last good before the failure at 6
        _s(5.5, 7, True),  # in flight at the failure: not the recovery
        _s(7, 8, False, "connection refused or reset"),
        _s(9, 12, False, "timeout"),
        _s(20, 21, True),  # first good started after the failure
        _s(22, 23, True),
    ]
    gap = outage(signins, at=6)
    assert gap.last_good_before == 5
    assert gap.first_good_after == 21
    assert gap.rto == 16
    assert gap.failed == 2
    assert gap.errors == {"connection refused or reset": 1, "timeout": 1}


def test_no_recovery_means_no_rto() -> None:
    assert outage([_s(0, 1, True), _s(7, 8, False, "x")], at=6).rto is None


# --- the RPO comparison -------------------------------------------------------------------------------


def _snap(site: str, accounts: set[str], delegations: set[str] = frozenset()) -> Snapshot:  # type: ignore[assignment]
    keys = {
        "accounts": frozenset(accounts),
        "credentials": frozenset(f"{a} password 1" for a in accounts),
        "delegations": frozenset(delegations),
        "licences": frozenset(),
    }
    return Snapshot(site, 0.0, "0/0", site == "osaka", keys)


def test_compare_lists_exactly_what_the_survivor_lacks() -> None:
    before = _snap("tokyo", {"a", "b", "c"}, {"a {grant}"})
    after = _snap("osaka", {"a", "b"})
    loss = compare(before, after, acknowledged={"a", "b", "c", "d"})
    assert loss.missing["accounts"] == ["c"]
    assert loss.missing["credentials"] == ["c password 1"]
    assert loss.missing["delegations"] == ["a {grant}"]
    assert loss.acknowledged_missing == ["c", "d"]
    assert loss.transactions == 2
    assert not loss.none
    assert compare(before, before, {"a"}).none


# --- the report ---------------------------------------------------------------------------------------


def test_the_report_has_the_figures_checks_and_a_timeline(tmp_path: Path) -> None:
    result = DrillResult(name="unplanned", started=100.0, command="bizid drill unplanned", finished=160.0)
    result.steps = [StepRun("Kill Tokyo", "bizid drill op kill-site tokyo", 110.0, 111.0)]
    result.signins = [_s(100, 101, True), _s(112, 113, False, "timeout"), _s(140, 141, True)]
    result.record = [RecordSample(100.0, "tokyo", {"tokyo": True, "osaka": False})]
    result.figures["RTO loss of Tokyo (s)"] = "40.0"
    result.check("the record never pointed at a site whose database is read-only", True, "1 samples")
    md, page = report.write(result, tmp_path)
    text = md.read_text()
    assert "RTO loss of Tokyo (s) | 40.0" in text
    assert "✔ the record never pointed" in text
    assert "1 failed: timeout" in text
    assert "<svg" in page.read_text() and "<polyline" in page.read_text()
