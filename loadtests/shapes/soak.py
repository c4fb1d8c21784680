"""Soak: a moderate steady rate for a long time (default 2 h), to show memory, sessions, caches and the
database stay flat. Pick --base-rate at about half the sustained rate of the benchmark.

    locust -f loadtests/shapes/soak.py --headless --base-rate 10 --shape-seconds 7200
"""

from __future__ import annotations

from typing import Any

from loadtests.locustfile import SignInUser
from loadtests.phases import Phase, soak_phases
from loadtests.shapes import PhasedShape


class SoakShape(PhasedShape):
    def phases(self, options: Any) -> list[Phase]:
        return soak_phases(options)


__all__ = ["SignInUser", "SoakShape"]
