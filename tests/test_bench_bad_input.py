"""The session-6 benchmark commands (realm_ab, realm_setting_ab, jfr_split) answer bad input and a stopped
platform with one line naming the option or file, exit 2, before any realm is touched — never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NO_PLATFORM = {**os.environ, "BIZID_PORT_OFFSET": "3900"}  # no platform listens there


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["scripts.bench.realm_ab"], "cannot ask the platform's Keycloak"),
        (["scripts.bench.realm_ab", "--rounds", "0"], "--rounds 1-20"),
        (["scripts.bench.realm_ab", "--jfr", "README.md"], "--jfr README.md: not a folder"),
        (["scripts.bench.realm_setting_ab"], "cannot ask the platform's Keycloak"),
        (["scripts.bench.realm_setting_ab", "--threads", "99"], "--threads 1-16"),
        (["scripts.bench.jfr_split", "README.md"], "README.md: not a readable JFR recording"),
        (["scripts.bench.jfr_split", "missing.jfr"], "missing.jfr: no such recording"),
    ],
)
def test_bad_input_is_one_clear_line(argv: list[str], said: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=REPO_ROOT, env=NO_PLATFORM, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
