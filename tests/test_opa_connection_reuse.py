"""Keycloak asks OPA over kept-alive connections: no new TCP connection per decision.

A sign-in asks OPA three times (two access decisions in the browser flow, one release decision at the
token endpoint). A client that opened a connection per call would pay a TCP handshake (and a socket in
TIME-WAIT) for each: docs/tuning.md, "Keycloak → OPA connection reuse". The extension calls OPA through
Keycloak's pooled outgoing client (HttpClientProvider), which keeps its connections alive. Counted from the
sockets whose remote
end is the platform's OPA port, which only this platform's Keycloak (and nothing else in this test) uses.
Fail-closed behaviour with OPA down is tests/test_opa_outage.py.
"""

from __future__ import annotations

import pyotp
import pytest

from realm import accounts
from realm.accounts import AccountSpec, CreatedAccount
from realm.models import Definitions, Tier
from scripts.bench.signin_cpu import opa_sockets
from scripts.keycloak_admin import admin_client
from scripts.settings import Settings
from tests.conftest import new_browser, rp_client

pytestmark = pytest.mark.platform

SIGN_INS = 4


def _sign_in(platform: Settings, definitions: Definitions, account: CreatedAccount) -> None:
    result = new_browser(platform).login(
        rp_client(platform, definitions, "jgrants"),
        account.username,
        account.password,
        otp=lambda: pyotp.TOTP(account.totp_base32 or "").now(),
    )
    assert result.tokens is not None, result


def test_sign_ins_reuse_keycloaks_connection_to_opa(
    platform: Settings, definitions: Definitions, run_id: str
) -> None:
    names = [f"reuse-prime-{run_id}-{i}" for i in range(SIGN_INS + 1)]
    created = [
        accounts.create(
            AccountSpec(
                Tier.PRIME,
                name,
                f"{name}@example.test",
                "Reuse",
                name,
                corporate_number="5010401089998",
                corporate_name="Reuse K.K.",
                address="Tokyo",
            ),
            definitions,
            admin_client(platform),
        )
        for name in names
    ]
    port = int(platform.opa_url.rsplit(":", 1)[1])
    _sign_in(platform, definitions, created[0])  # opens (or reuses) the connection
    before = opa_sockets(port)
    assert any(state == "ESTAB" for state, _ in before), (
        f"no open connection to OPA after a sign-in: {before}"
    )
    for account in created[1:]:
        _sign_in(platform, definitions, account)
    opened = {s for s in opa_sockets(port) - before if s[0] in {"ESTAB", "TIME-WAIT"}}
    # 3 decisions per sign-in: a client without reuse opens 3 * SIGN_INS connections; one spare for a
    # connection the server may have closed in between.
    assert len(opened) <= 1, f"{len(opened)} new connections to OPA for {3 * SIGN_INS} decisions: {opened}"
