"""Step ramp to find the knee: base, base + step, base + 2 step, ... (--steps steps of --step-seconds).

locust -f loadtests/shapes/step.py --headless --base-rate 4 --step-rate 4 --steps 8 --step-seconds 60
"""

from __future__ import annotations

from typing import Any

from loadtests.locustfile import SignInUser
from loadtests.phases import Phase, step_phases
from loadtests.shapes import PhasedShape


class StepShape(PhasedShape):
    def phases(self, options: Any) -> list[Phase]:
        return step_phases(options)


__all__ = ["SignInUser", "StepShape"]
