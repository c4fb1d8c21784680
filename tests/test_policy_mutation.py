"""The mutation check of policies/bizid, with the real `opa`: every compiling mutant is killed or reviewed.

`make test` runs this, so a rule added without tests that pin it (a surviving mutant not on
policies/mutation/equivalent.yaml) fails the build. The second test shows the check itself has teeth:
on a small policy with a weak test it reports the survivors with file:line, operator and mutated line.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
OPA = Path(os.environ.get("BIZID_OPA", str(REPO / ".bizid" / "bin" / "opa")))


def _check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "policies.mutation", "--opa", str(OPA), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


@pytest.fixture(scope="module", autouse=True)
def _opa_installed() -> None:
    assert OPA.is_file(), f"{OPA} is missing: run `make install` (or set BIZID_OPA)"


@pytest.mark.mutation
def test_every_policy_mutant_is_killed_or_reviewed_equivalent() -> None:
    result = _check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning: stale entry" not in result.stdout, result.stdout


WEAK_POLICY = """\
package demo

default allow := false

allow if {
	input.age >= 18
	input.member == true
}
"""

WEAK_TEST = """\
package demo_test

import data.demo

test_adult_member if demo.allow with input as {"age": 30, "member": true}
"""


def test_check_fails_naming_each_unreviewed_survivor(tmp_path: Path) -> None:
    root = tmp_path / "bizid"
    (root / "demo").mkdir(parents=True)
    (root / "demo" / "demo.rego").write_text(WEAK_POLICY)
    (root / "demo" / "demo_test.rego").write_text(WEAK_TEST)
    listed = tmp_path / "equivalent.yaml"
    listed.write_text(
        "equivalent:\n"
        "  - id: 'demo/demo.rego::allow::const_num::input.age >= 18 => input.age >= 17'\n"
        "    reason: reviewed for this test\n"
        "  - id: 'demo/demo.rego::allow::gone::no longer generated'\n"
        "    reason: stale\n"
    )
    result = _check("--policies", str(root), "--equivalent", str(listed), "--workers", "1")
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert f"{root}/demo/demo.rego:6: [delete_expr] in allow" in out
    assert f"{root}/demo/demo.rego:7: [delete_expr] in allow" in out
    assert "mutant:   input.age > 18" in out  # the boundary is not tested
    assert "input.age >= 17" not in out.split("survive")[1]  # listed as equivalent: not reported
    assert "warning: stale entry" in out and "no longer generated" in out


def test_check_refuses_a_broken_equivalent_list(tmp_path: Path) -> None:
    listed = tmp_path / "equivalent.yaml"
    listed.write_text("equivalent: [{id: x}]\n")
    result = _check("--equivalent", str(listed))
    assert result.returncode == 2
    assert str(listed) in result.stderr
    assert "Traceback" not in result.stderr
