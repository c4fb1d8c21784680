"""A TOTP code source that behaves like a person with an authenticator app.

The realm refuses a code that was already used (`otp.code_reusable: false`), so two sign-ins of one
account within one period need two codes. A person whose first code is refused waits for the app to show
the next one; `NextTotp` does the same: the first call gives the current code, each later call waits until
the period after the last code it gave has begun.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pyotp


class NextTotp:
    """Callable code source for `BrowserFlow.sign_in_at(..., otp_attempts=2)`."""

    def __init__(
        self,
        base32_secret: str,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._totp = pyotp.TOTP(base32_secret)
        self._clock = clock
        self._sleep = sleep
        self._last_step: int | None = None

    def __call__(self) -> str:
        now = self._clock()
        step = int(now // self._totp.interval)
        if self._last_step is not None and step <= self._last_step:
            step = self._last_step + 1
            self._sleep(max(0.0, step * self._totp.interval - now) + 0.05)
        self._last_step = step
        return self._totp.generate_otp(step)
