"""Load shapes (Locust LoadTestShape), one file each so `locust -f loadtests/shapes/<shape>.py` runs it.

The phases themselves are data in loadtests/phases.py, built from the `--base-rate`, `--step-rate`,
`--step-seconds`, `--steps` and `--shape-seconds` options; the benchmark reads the same phases to label
its report. Users = rate / --per-user-rate (each user paces itself at constant throughput).
"""

from __future__ import annotations

from typing import Any

from locust import LoadTestShape

from loadtests.phases import MAX_SECONDS, PER_USER_RATE, Phase, phase_at, total_seconds, users_for

SPAWN_RATE = 100.0
"""Users started per second when a phase begins: fast, so a burst arrives as a burst."""


class PhasedShape(LoadTestShape):
    """Runs `phases(options)` in order, then stops the test."""

    abstract = True

    def phases(self, options: Any) -> list[Phase]:
        raise NotImplementedError

    def tick(self) -> tuple[int, float] | None:
        me: Any = self  # Locust's runner and clock are only partly typed
        options = me.runner.environment.parsed_options
        phases = self.phases(options)
        if total_seconds(phases) > MAX_SECONDS:
            raise SystemExit(f"bizid: shape lasts {total_seconds(phases):.0f} s, at most {MAX_SECONDS} s")
        phase = phase_at(phases, float(me.get_run_time()))
        if phase is None:
            return None
        per_user = getattr(options, "per_user_rate", PER_USER_RATE) or PER_USER_RATE
        return users_for(phase.rate, per_user), SPAWN_RATE
