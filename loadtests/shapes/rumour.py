"""The rumour surge (April 2020, DOMAIN.md): a wave of *registrations* on top of the usual sign-ins.

    locust -f loadtests/shapes/rumour.py --headless --base-rate 2 --step-seconds 60 --registration-share 0.5

Phases as the burst shape (baseline, 10x, 50x, recovery); in each, --registration-share of the users
register (form, verification mail through Mailpit, link) and the rest sign in. Compare `FLOW sign-in`
with and without the registrations to see what they cost the sign-in rate.
"""

from __future__ import annotations

from typing import Any

from locust import events

from loadtests.locustfile import SignInUser, _listen
from loadtests.phases import Phase, burst_phases
from loadtests.registration import RegistrationUser
from loadtests.shapes import PhasedShape


def _options(parser: Any) -> None:
    parser.add_argument_group("bizid rumour").add_argument(
        "--registration-share", type=float, default=0.5, help="rumour shape: share of users registering"
    )


_listen(events.init_command_line_parser, _options)


class RumourShape(PhasedShape):
    def phases(self, options: Any) -> list[Phase]:
        return burst_phases(options)

    def tick(self) -> Any:
        base = super().tick()
        if base is None:
            return None
        users, rate = base
        me: Any = self
        share = float(getattr(me.runner.environment.parsed_options, "registration_share", 0.5))
        if not 0.0 <= share <= 1.0:
            raise SystemExit(f"bizid: --registration-share must be within 0..1 (got {share})")
        RegistrationUser.weight = max(1, round(share * 100)) if share > 0 else 0
        SignInUser.weight = max(1, round((1 - share) * 100)) if share < 1 else 0
        classes = [c for c in (SignInUser, RegistrationUser) if c.weight > 0]
        return users, rate, classes


__all__ = ["RegistrationUser", "RumourShape", "SignInUser"]
