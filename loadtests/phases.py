"""Load shapes as data: phases of (name, seconds, offered visits per second), and the bounds every run
obeys. Kept free of Locust (which monkey-patches the process on import) so tests and the benchmark can
read the same phases the shapes in loadtests/shapes/ run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

MAX_USERS = 2000
MAX_SECONDS = 4 * 3600
PER_USER_RATE = 0.5
"""Visits per second each simulated user attempts (constant throughput: an open-ish model, so the offered
rate is users x 0.5 as long as a visit takes under 2 s). Shapes turn a target rate into a user count."""

BURST = (("baseline", 1, 1), ("10x", 10, 1), ("50x", 50, 1), ("recovery", 1, 2))
"""Burst phases: name, multiple of the base rate, length in --step-seconds."""

DEFAULT_SOAK_SECONDS = 7200.0
DEFAULT_SHAPE_SECONDS = 600.0


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    rate: float


def users_for(rate: float, per_user: float = PER_USER_RATE) -> int:
    """Users needed to offer `rate` visits per second (bounded by MAX_USERS)."""
    return max(1, min(MAX_USERS, math.ceil(rate / per_user)))


def total_seconds(phases: list[Phase]) -> float:
    return sum(p.seconds for p in phases)


def phase_at(phases: list[Phase], t: float) -> Phase | None:
    for phase in phases:
        if t < phase.seconds:
            return phase
        t -= phase.seconds
    return None


def step_phases(options: Any) -> list[Phase]:
    """Step ramp to find the knee: base, base + step, base + 2 step, ..."""
    return [
        Phase(f"step {k + 1}", options.step_seconds, options.base_rate + k * options.step_rate)
        for k in range(options.steps)
    ]


def steady_phases(options: Any) -> list[Phase]:
    return [Phase("steady", options.shape_seconds, options.base_rate)]


def burst_phases(options: Any) -> list[Phase]:
    """Deadline burst: baseline, 10x, 50x, then baseline for twice as long to watch the recovery."""
    return [
        Phase(name, options.step_seconds * length, options.base_rate * factor)
        for name, factor, length in BURST
    ]


def soak_phases(options: Any) -> list[Phase]:
    seconds = (
        options.shape_seconds if options.shape_seconds != DEFAULT_SHAPE_SECONDS else DEFAULT_SOAK_SECONDS
    )
    return [Phase("soak", seconds, options.base_rate)]
