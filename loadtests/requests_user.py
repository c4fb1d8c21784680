"""The sign-in user on Locust's HttpUser (requests), as the scenario ran before it moved to FastHttpUser.

Kept only to measure the generator's cost side by side with `loadtests/locustfile.py`'s SignInUser
(`python -m loadtests.generator_cost`): the same journey, options, bounds and sample log; only the HTTP
client differs. `locust -f loadtests/requests_user.py --headless -u 2 -t 30s --signin-only`.
"""

from __future__ import annotations

from locust import HttpUser, task

from loadtests import locustfile  # the bizid options, safety checks and sample log (module, not its user)

_fast = locustfile.SignInUser.__dict__


class RequestsSignInUser(HttpUser):
    """SignInUser's journey over requests: TLS verified against the platform's CA per request."""

    host = locustfile.CFG.keycloak_url

    def on_start(self) -> None:
        self.client.verify = str(locustfile.CFG.paths.ca_cert)
        _fast["on_start"](self)

    def wait_time(self) -> float:
        result: float = _fast["wait_time"](self)
        return result

    def _report(self, name: str, ms: float, exc: BaseException | None) -> None:
        _fast["_report"](self, name, ms, exc)

    @task
    def visit(self) -> None:
        _fast["visit"](self)


__all__ = ["RequestsSignInUser"]
