"""The policy benchmark times decisions that admit: its inputs must stay valid as the policies evolve.

A behaviour change (e.g. a delegated sign-in must name its procedure) once left every case of
`scripts.bench.policy` refused, and the benchmark failed only when someone ran it. This runs each case once
against the real OPA binary with the repository's policies and a generated registry.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from policies import matrix
from scripts import settings
from scripts.bench import policy


def test_every_benchmark_case_is_admitted_by_the_real_policies(tmp_path: Path) -> None:
    cases = policy.inputs(dt.datetime.now(dt.UTC))
    with matrix.private_opa(
        policy.definitions_with(10, tmp_path), extra_args=policy.OPA_FLAGS, binary=settings.load().paths.opa
    ) as url:
        figures = policy.opa_internal(url, cases, 1)  # asserts allow / claims per case
    assert set(figures) == set(cases)
