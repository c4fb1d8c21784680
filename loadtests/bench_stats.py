"""Statistics of a load run: the per-request samples Locust wrote, percentiles, and windows of them."""

from __future__ import annotations

import csv
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from loadtests.phases import Phase

P95_LIMIT_MS = 300.0
"""A window counts as sustained only with p95 below this (and nothing shed or timed out)."""


@dataclass
class Sample:
    t: float
    name: str
    ms: float
    outcome: str


def read_samples(directory: Path) -> list[Sample]:
    rows: list[Sample] = []
    for path in directory.glob("samples-*.csv"):
        with path.open() as f:
            for r in csv.DictReader(f):
                rows.append(Sample(float(r["t"]), r["name"], float(r["ms"]), r["outcome"]))
    rows.sort(key=lambda s: s.t)
    return rows


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Window:
    """Figures of one phase (its first `skip` seconds excluded as ramp-up)."""

    phase: Phase
    start: float
    end: float
    signins_ok: int = 0
    p50: float = float("nan")
    p95: float = float("nan")
    p99: float = float("nan")
    shed: int = 0
    timeouts: int = 0
    errors: int = 0
    shed_ms_p50: float = float("nan")
    cpu: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def rate(self) -> float:
        return self.signins_ok / self.seconds if self.seconds > 0 else 0.0

    @property
    def passes(self) -> bool:
        return (
            self.errors == 0
            and self.shed == 0
            and self.timeouts == 0
            and self.p95 < P95_LIMIT_MS
            and self.rate >= 0.9 * self.phase.rate
        )


def windows(
    samples: list[Sample],
    cpu: list[tuple[float, dict[str, float]]],
    t0: float,
    phases: list[Phase],
    skip: float,
) -> list[Window]:
    result = []
    offset = t0
    for phase in phases:
        w = Window(phase, offset + min(skip, phase.seconds / 3), offset + phase.seconds)
        offset += phase.seconds
        inside = [s for s in samples if w.start <= s.t < w.end]
        ok = [s.ms for s in inside if s.name == "sign-in" and s.outcome == "ok"]
        w.signins_ok = len(ok)
        w.p50, w.p95, w.p99 = pct(ok, 50), pct(ok, 95), pct(ok, 99)
        w.shed = sum(1 for s in inside if s.outcome == "shed" and s.name != "sign-in" and s.name != "visit")
        w.timeouts = sum(1 for s in inside if s.outcome == "timeout" and s.name not in ("sign-in", "visit"))
        w.errors = sum(1 for s in inside if s.outcome == "error")
        w.shed_ms_p50 = pct(
            [s.ms for s in inside if s.outcome == "shed" and s.name not in ("sign-in", "visit")], 50
        )
        cpu_in = [c for t, c in cpu if w.start <= t < w.end]
        if cpu_in:
            w.cpu = {k: statistics.fmean(c.get(k, 0.0) for c in cpu_in) for k in cpu_in[0]}
        result.append(w)
    return result
