"""Issue 13 §4: the registration user of the load scenarios, bounded and short, against the real platform
(registration page, verification mail through Mailpit, link, tokens)."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from scripts.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.platform


def _locust(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, str]]]:
    cmd = [sys.executable, "-m", "locust", *args, "--headless", "--samples-dir", str(tmp_path)]
    cmd += ["--only-summary", "--stop-timeout", "20"]
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    rows: list[dict[str, str]] = []
    for path in tmp_path.glob("samples-*.csv"):
        with path.open() as f:
            rows.extend(csv.DictReader(f))
    return run, rows


def test_the_rumour_shape_runs_registrations_and_stops_by_itself(platform: Settings, tmp_path: Path) -> None:
    """All phases of the surge in 10 s (--step-seconds 2), registrations only: the shape hands Locust the
    registration user, and the run ends by itself."""
    shape = str(REPO_ROOT / "loadtests" / "shapes" / "rumour.py")
    run, rows = _locust(
        tmp_path, "-f", shape, "--base-rate", "0.02", "--step-seconds", "2", "--registration-share", "1"
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Shape test completed" in run.stderr, run.stderr[-2000:]
    flows = [r for r in rows if r["name"] == "registration"]
    assert flows and all(r["outcome"] == "ok" for r in flows), rows[:5]


def test_registration_users_register_through_the_mail_without_an_error(
    platform: Settings, tmp_path: Path
) -> None:
    registration = str(REPO_ROOT / "loadtests" / "registration.py")
    run, rows = _locust(tmp_path, "-f", registration, "-u", "2", "-r", "2", "--run-time", "10s")
    failures = [r for r in rows if r["outcome"] != "ok"]
    assert not failures, f"failed requests: {failures[:5]}\n{run.stderr[-2000:]}"
    names = {r["name"] for r in rows}
    assert {"registration", "verification-mail", "register:link", "register:token"} <= names, names
    assert run.returncode == 0, run.stderr[-2000:]
