"""The same graphs, audited by the Rego rules in policies/infra/ with the real OPA binary."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from infra.config import REPO_ROOT
from infra.graph import Graph

POLICIES = REPO_ROOT / "policies" / "infra"


def rego_deny(opa: Path, graph: Graph, tmp_path: Path) -> list[str]:
    """`data.infra.main.deny` for a graph: what a security reviewer would see for this stack."""
    path = tmp_path / f"{graph.stack}-graph.json"
    path.write_text(json.dumps(graph.as_json()))
    result = subprocess.run(
        [
            str(opa),
            "eval",
            "--format",
            "json",
            "--data",
            str(POLICIES),
            "--input",
            str(path),
            "data.infra.main.deny",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return sorted(json.loads(result.stdout)["result"][0]["expressions"][0]["value"])


def test_rego_unit_tests_pass(opa: Path) -> None:
    result = subprocess.run([str(opa), "test", str(POLICIES)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout


def test_rego_is_strict_v1_and_formatted(opa: Path) -> None:
    subprocess.run([str(opa), "check", "--strict", str(POLICIES)], check=True, capture_output=True)
    unformatted = subprocess.run(
        [str(opa), "fmt", "--list", str(POLICIES)], capture_output=True, text=True, check=True
    )
    assert unformatted.stdout.strip() == ""


def test_every_stack_passes_the_rego_rules(graph: Graph, opa: Path, tmp_path: Path) -> None:
    assert rego_deny(opa, graph, tmp_path) == []
