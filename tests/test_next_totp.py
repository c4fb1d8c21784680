"""NextTotp gives a person's second code: never the one it already gave, and waits for it, no longer."""

from __future__ import annotations

import pyotp

from realm.oidc.next_totp import NextTotp

SECRET = pyotp.random_base32()


class FakeClock:
    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_first_code_is_the_current_one_without_waiting() -> None:
    clock = FakeClock(1_000_005.0)
    codes = NextTotp(SECRET, clock=clock.time, sleep=clock.sleep)
    assert codes() == pyotp.TOTP(SECRET).at(1_000_005)
    assert clock.slept == []


def test_a_second_code_in_the_same_period_waits_for_the_next_period() -> None:
    clock = FakeClock(30 * 40_000 + 12.0)
    codes = NextTotp(SECRET, clock=clock.time, sleep=clock.sleep)
    first = codes()
    second = codes()
    assert second != first
    assert second == pyotp.TOTP(SECRET).at(30 * 40_001 + 1)
    assert len(clock.slept) == 1 and 18.0 <= clock.slept[0] < 18.5


def test_a_later_call_in_a_new_period_does_not_wait() -> None:
    clock = FakeClock(30 * 40_000 + 29.0)
    codes = NextTotp(SECRET, clock=clock.time, sleep=clock.sleep)
    codes()
    clock.now += 2.0
    assert codes() == pyotp.TOTP(SECRET).at(30 * 40_001 + 1)
    assert clock.slept == []
