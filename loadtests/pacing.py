"""When each simulated user starts its next visit: a Poisson process per user, so that the whole load is one.

Locust's `constant_throughput` starts a user's visits exactly 1/rate seconds apart. Users spawned together
(a shape adds dozens in a fraction of a second) then stay in lockstep for the whole run, and the server
sees every user arrive in the same instant once per period: at 4 sign-ins/s offered, bursts of 8
simultaneous sign-ins every 2 s. Those bursts queue behind the two cores and showed up as a p95 three to
five times the latency of a lone sign-in. Real people do not synchronise; exponential gaps (memoryless)
make the sum of all users a Poisson stream at the offered rate, the usual model of independent arrivals.

Kept free of Locust so the unit tests can check the arithmetic without monkey-patching the process.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class PoissonPacing:
    """Seconds to wait before the next visit of one user offering `rate` visits/s on average.

    Starts are scheduled on the user's own clock: each start is the previous scheduled start plus an
    exponential gap, so a visit's duration does not lower the offered rate. A user that has fallen behind
    (its visit outlasted the gaps, as under overload) starts at once and schedules the following start
    from now: missed starts are dropped, never fired back to back.
    """

    def __init__(
        self,
        rate: float,
        rng: random.Random | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not rate > 0:
            raise ValueError(f"per-user rate must be positive, got {rate}")
        self.rate = rate
        self.rng = rng or random.Random()
        self.clock = clock
        self.next_start: float | None = None

    def __call__(self) -> float:
        now = self.clock()
        if self.next_start is None:
            self.next_start = now
        self.next_start += self.rng.expovariate(self.rate)
        if self.next_start < now:  # behind: start at once and count the following gaps from now
            self.next_start = now
        return self.next_start - now
