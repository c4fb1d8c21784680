"""The scenario's SignInUser (loadtests/locustfile.py) with every ID token altered after the code exchange
(one byte of Keycloak's signature flipped), for tests/test_load_token_checks.py: Locust must count each such
sign-in as failed."""

from __future__ import annotations

from typing import Any

from loadtests import journey
from loadtests.locustfile import SignInUser
from realm.oidc.browser_flow import Client

_exchange = journey.TimedFlow.exchange


def _flipped(token: str) -> str:
    head, body, signature = token.split(".")
    return f"{head}.{body}.{signature[:10]}{'A' if signature[10] != 'A' else 'B'}{signature[11:]}"


def _altered_exchange(self: journey.TimedFlow, client: Client, code: str, verifier: str) -> dict[str, Any]:
    tokens = _exchange(self, client, code, verifier)
    tokens["id_token"] = _flipped(tokens["id_token"])
    return tokens


journey.TimedFlow.exchange = _altered_exchange  # type: ignore[method-assign,assignment]

__all__ = ["SignInUser"]
