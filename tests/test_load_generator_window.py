"""generator_cost's two windows (loadtests/generator_cost.py): sign-ins are counted only inside a window and
only as `sign-in` rows, and the steady figure leaves Locust's one-off stop out of the CPU per sign-in."""

from __future__ import annotations

import math
from pathlib import Path

from loadtests.generator_cost import Run, _signins


def _samples(directory: Path, rows: list[tuple[float, str, str]]) -> None:
    lines = ["t,name,type,ms,outcome,detail"]
    for t, name, outcome in rows:
        detail = "" if outcome == "ok" else "FlowError: x"
        lines.append(f"{t:.3f},{name},FLOW,10.0,{outcome},{detail}")
    (directory / "samples-1.csv").write_text("\n".join(lines) + "\n")


def test_sign_ins_are_counted_inside_the_window_only(tmp_path: Path) -> None:
    rows = [(99.0, "sign-in", "ok"), (100.0, "sign-in", "ok"), (105.0, "authorize", "ok")]
    rows += [(106.0, "sign-in", "error"), (110.0, "sign-in", "ok"), (110.5, "sign-in", "ok")]
    _samples(tmp_path, rows)
    assert _signins(tmp_path, 100.0, 110.0) == (2, 1, ("FlowError: x",))
    assert _signins(tmp_path, 100.0, 109.0)[:2] == (1, 1)


def test_the_steady_figure_leaves_the_stop_out() -> None:
    run = Run("bare", 80, 0, 0.6, steady_signins=76, steady_cpu_seconds=0.342, stop_cpu_seconds=0.25)
    assert math.isclose(run.steady_ms_per_signin, 4.5)
    assert math.isclose(run.cpu_ms_per_signin, 7.5)
    assert math.isnan(Run("bare", 0, 0, 0.1).steady_ms_per_signin)
