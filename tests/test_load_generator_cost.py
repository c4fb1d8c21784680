"""`python -m loadtests.generator_cost` refuses, before it starts anything, a measurement the seeded
population cannot carry (its runs would sign in as accounts that do not exist, counted as failed sign-ins)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from scripts.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.platform


def test_a_population_too_small_for_the_runs_is_refused_before_any_run(platform: Settings) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.generator_cost",
            "--runs",
            "1",
            "--seconds",
            "10",
            "--slice",
            "100",
            "--population-start",
            "9000000",
        ],
        cwd=REPO_ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "load-09000299 is not on the platform" in result.stderr
    assert "bizid seed --accounts 9000300" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_stopped_platform_is_one_clear_line() -> None:
    env = {**os.environ, "BIZID_PORT_OFFSET": "3900"}  # no platform listens there
    for argv in (["--runs", "1", "--seconds", "10", "--slice", "100"], ["--paired", "1"]):
        result = subprocess.run(
            [sys.executable, "-m", "loadtests.generator_cost", *argv],
            cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        assert result.returncode == 2, result.stdout + result.stderr
        assert "cannot ask the platform's Keycloak" in result.stderr and "bizid up" in result.stderr
        assert "Traceback" not in result.stderr
