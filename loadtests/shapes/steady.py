"""Steady state: --base-rate visits/s for --shape-seconds.

locust -f loadtests/shapes/steady.py --headless --base-rate 20 --shape-seconds 300
"""

from __future__ import annotations

from typing import Any

from loadtests.locustfile import SignInUser
from loadtests.phases import Phase, steady_phases
from loadtests.shapes import PhasedShape


class SteadyShape(PhasedShape):
    def phases(self, options: Any) -> list[Phase]:
        return steady_phases(options)


__all__ = ["SignInUser", "SteadyShape"]
