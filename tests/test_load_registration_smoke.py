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


def test_registration_users_register_through_the_mail_without_an_error(
    platform: Settings, tmp_path: Path
) -> None:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(REPO_ROOT / "loadtests" / "registration.py"),
        "--headless",
        "--users",
        "2",
        "--spawn-rate",
        "2",
        "--run-time",
        "10s",
        "--samples-dir",
        str(tmp_path),
        "--only-summary",
        "--stop-timeout",
        "20",
    ]
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    rows: list[dict[str, str]] = []
    for path in tmp_path.glob("samples-*.csv"):
        with path.open() as f:
            rows.extend(csv.DictReader(f))
    failures = [r for r in rows if r["outcome"] != "ok"]
    assert not failures, f"failed requests: {failures[:5]}\n{run.stderr[-2000:]}"
    names = {r["name"] for r in rows}
    assert {"registration", "verification-mail", "register:link", "register:token"} <= names, names
    assert run.returncode == 0, run.stderr[-2000:]
