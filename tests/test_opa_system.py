"""The OPA system policies (`policies/system`: REST API authorization, decision-log masks): strict, formatted,
and their Rego unit tests pass with the real OPA binary."""

from __future__ import annotations

import subprocess
from pathlib import Path

from policies import opa_server
from realm.platform import SYSTEM_POLICY_DIR
from scripts import settings


def _opa() -> Path:
    return opa_server.opa_binary(settings.load().paths.opa)


def test_system_policy_unit_tests_pass() -> None:
    command = [str(_opa()), "test", str(SYSTEM_POLICY_DIR), "-v"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "FAIL" not in result.stdout and "PASS" in result.stdout


def test_system_policies_are_strict_and_formatted() -> None:
    command = [str(_opa()), "check", "--strict", str(SYSTEM_POLICY_DIR)]
    subprocess.run(command, check=True, capture_output=True)
    unformatted = subprocess.run(
        [str(_opa()), "fmt", "--list", str(SYSTEM_POLICY_DIR)], capture_output=True, text=True, check=True
    )
    assert unformatted.stdout.strip() == ""
