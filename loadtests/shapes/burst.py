"""Deadline burst: baseline, 10x, 50x, then baseline again long enough to watch the recovery.

    locust -f loadtests/shapes/burst.py --headless --base-rate 2 --step-seconds 60 --hold-fraction 0.2

Phases: baseline (--step-seconds), 10x (--step-seconds), 50x (--step-seconds), recovery (2 x --step-seconds).
With --hold-fraction some visits keep their session open; the benchmark refreshes them afterwards to show
that no session was lost.
"""

from __future__ import annotations

from typing import Any

from loadtests.locustfile import SignInUser
from loadtests.phases import Phase, burst_phases
from loadtests.shapes import PhasedShape


class BurstShape(PhasedShape):
    def phases(self, options: Any) -> list[Phase]:
        return burst_phases(options)


__all__ = ["BurstShape", "SignInUser"]
