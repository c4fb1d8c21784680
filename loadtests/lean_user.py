"""The sign-in user on LeanSession (geventhttpclient's HTTPClient), as the scenario ran before BareSession.

Kept only to measure the generator's cost side by side with `loadtests/locustfile.py`'s SignInUser
(`python -m loadtests.generator_cost --clients bare,lean`): the same user, journey, options, bounds and
sample log; only the HTTP client differs. `locust -f loadtests/lean_user.py --headless -u 2 -t 30s
--signin-only`.
"""

from __future__ import annotations

from locust.env import Environment

from loadtests import locustfile  # the bizid options, safety checks and sample log


class LeanSignInUser(locustfile.SignInUser):
    """SignInUser whose client is a LeanSession."""

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        self.client = locustfile.lean_session(environment.events.request)  # type: ignore[assignment]


__all__ = ["LeanSignInUser"]
