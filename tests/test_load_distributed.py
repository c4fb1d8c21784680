"""Issue 14 §3: Locust's distributed mode as local processes against the real platform — one master, two
workers, a few seconds of sign-ins — and the master's aggregated counts equal the sum of what each worker
recorded itself (its own per-request samples). Loopback only, bounded (12 s run time), stops by itself.
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

from loadtests import cli as load_cli
from loadtests import distributed, seed
from scripts.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.platform

ACCOUNTS = 4_000
SLICE_START = 3_000
"""Accounts [3000, 4000): away from the smoke test's [0, 1800) and its warm-up slice, so no two tests present
the same account's TOTP code within one window."""
WORKERS = 2


@pytest.fixture(scope="module")
def seeded(platform: Settings) -> int:
    report = seed.seed(platform, ACCOUNTS, batch=1_000, progress=False)
    assert report.ok, f"seeded rows {report.counts} != expected {report.expected}"
    return ACCOUNTS


def test_master_aggregates_exactly_what_the_workers_counted(seeded: int, tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = [
        "-f",
        str(REPO_ROOT / "loadtests" / "locustfile.py"),
        "--users",
        "4",
        "--spawn-rate",
        "4",
        "--run-time",
        "12s",
        "--signin-only",
        "--population",
        str(seeded - SLICE_START),
        "--population-start",
        str(SLICE_START),
        "--csv",
        str(out),
        "--only-summary",
    ]
    result = distributed.run(args, WORKERS, tmp_path / "samples", timeout=120)
    assert result.returncode == 0 and result.worker_returncodes == [0] * WORKERS, result
    comparison = distributed.compare(tmp_path / "run_stats.csv", result.samples)
    assert len(comparison.workers) == WORKERS, "each worker writes its own samples"
    assert all(c["FLOW sign-in"] > 0 for c in comparison.workers), comparison.workers  # both did work
    assert comparison.master["FLOW sign-in"] == comparison.summed["FLOW sign-in"] > 0
    assert not comparison.mismatches, comparison.mismatches
    failures = []
    for path in result.samples.glob("samples-*.csv"):
        with path.open() as f:
            failures += [r for r in csv.DictReader(f) if r["outcome"] != "ok"]
    assert not failures, failures[:5]


def test_a_mismatch_between_master_and_workers_is_reported(tmp_path: Path) -> None:
    stats = tmp_path / "run_stats.csv"
    stats.write_text(
        "Type,Name,Request Count,Failure Count\nFLOW,sign-in,5,0\nPOST,login,5,0\n,Aggregated,10,0\n"
    )
    samples = tmp_path / "samples"
    samples.mkdir()
    for name, rows in (("samples-1.csv", 2), ("samples-2.csv", 2)):
        lines = ["t,name,type,ms,outcome,detail"] + ["1,sign-in,FLOW,1,ok," for _ in range(rows)]
        lines += ["1,login,POST,1,ok," for _ in range(rows + 1)]
        (samples / name).write_text("\n".join(lines) + "\n")
    comparison = distributed.compare(stats, samples)
    assert comparison.mismatches == {"FLOW sign-in": (5, 4), "POST login": (5, 6)}


def test_load_run_refuses_more_workers_than_allowed() -> None:
    args = argparse.Namespace(population=10, workers=0)
    with pytest.raises(ValueError, match="--workers: at most"):
        load_cli._own_options(args, ["--workers", str(distributed.MAX_WORKERS + 1)])
    assert load_cli._own_options(args, ["--workers", "2", "--", "--base-rate", "2"]) == ["--base-rate", "2"]
    assert args.workers == 2
