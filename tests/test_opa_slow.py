"""An OPA that never finishes its answer: Keycloak gives up at its deadline and fails closed.

The shared OPA is stopped and a loopback stand-in takes its port: it accepts every connection, reads the
request, answers `200` with the start of an `"allow": true` body, and then drips one byte every half
second for a minute. No single read waits long, so a per-read socket timeout never fires; only a total
deadline per decision ends the call (the extension's OpaClient: 2 s). Checked against the real Keycloak:
the sign-in is refused with `policy_unavailable` (not hung until the browser gives up, not admitted), a
refresh is refused and a token's userinfo carries no gated claim — and the stand-in really got the
decision requests (with the bearer token), so the refusals come from the deadline, not from a refused
connection (that is tests/test_opa_outage.py). OPA is restarted in a `finally` whatever happens.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import pyotp
import pytest

from realm import accounts
from realm.accounts import AccountSpec, CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import FlowError, LoginResult, decode_jwt_payload
from scripts import services
from scripts.keycloak_admin import admin_client
from scripts.settings import Settings
from tests.conftest import new_browser, rp_client

pytestmark = pytest.mark.platform

COMPANY = {"corporate_number": "5010401089998", "corporate_name": "Slow K.K.", "address": "Tokyo"}
GATED = {"account_type", "tier", "valid_until", "corporate_number", "corporate_name", "verified_claims"}


DRIP_SECONDS = 0.5
"""Below the extension's 2 s deadline and any sane socket timeout: each read gets a byte in time."""
HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
    b'{"result": {"allow": true, "reasons": []'
)


class DrippingOpa:
    """Listens on OPA's address; per connection: records the request, then answers a byte at a time."""

    def __init__(self, host: str, port: int) -> None:
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((host, port))
        self.server.listen(64)
        self.received: list[bytes] = []
        self.lock = threading.Lock()
        self.connections: list[socket.socket] = []
        self.stopped = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with self.lock:
                self.connections.append(conn)
            threading.Thread(target=self._read, args=(conn,), daemon=True).start()

    def _read(self, conn: socket.socket) -> None:
        try:
            request = conn.recv(65536)  # request line and headers (what this test looks at)
            with self.lock:
                self.received.append(request)
            conn.sendall(HEAD)
            for _ in range(int(60 / DRIP_SECONDS)):  # a minute: far beyond any deadline
                if self.stopped.wait(DRIP_SECONDS):
                    return
                conn.sendall(b" ")
        except OSError:
            return  # the client hung up: its deadline

    def requests(self) -> list[bytes]:
        with self.lock:
            return list(self.received)

    def close(self) -> None:
        self.stopped.set()
        self.server.close()
        with self.lock:
            for conn in self.connections:
                conn.close()


def _account(platform: Settings, definitions: Definitions, tier: Tier, name: str) -> CreatedAccount:
    fields: dict[str, Any] = COMPANY if tier is Tier.PRIME else {}
    spec = AccountSpec(tier, name, f"{name}@example.test", "Slow", name, **fields)
    return accounts.create(spec, definitions, admin_client(platform))


def _sign_in(platform: Settings, definitions: Definitions, rp: str, account: CreatedAccount) -> LoginResult:
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None
    return new_browser(platform).login(
        rp_client(platform, definitions, rp), account.username, account.password, otp=otp
    )


def test_an_opa_that_never_finishes_its_answer_is_a_refusal_at_the_deadline(
    platform: Settings, definitions: Definitions, run_id: str
) -> None:
    entry = _account(platform, definitions, Tier.ENTRY, f"slow-entry-{run_id}")
    prime = _account(platform, definitions, Tier.PRIME, f"slow-prime-{run_id}")
    # A session from before: with OPA dripping, its refresh and its userinfo are judged by nobody.
    before = new_browser(platform)
    client = rp_client(platform, definitions, "seminar")
    earlier = before.login(client, entry.username, entry.password, scope="openid profile account")
    assert earlier.tokens is not None and "tier" in decode_jwt_payload(earlier.tokens["id_token"]), earlier
    host, port = platform.opa_url.split("//", 1)[1].rsplit(":", 1)

    services.stop_opa(platform)
    dripping = DrippingOpa(host, int(port))
    try:
        refused = _sign_in(platform, definitions, "jgrants", prime)
        info = before.userinfo(earlier.tokens["access_token"])
        with pytest.raises(FlowError, match="invalid_grant") as refused_refresh:
            before.refresh(client, earlier.tokens["refresh_token"])
    finally:
        dripping.close()
        services.start_opa(platform)

    assert refused.tokens is None, "signed in while OPA did not finish an answer"
    assert refused.error == "access_denied", refused
    assert "policy_unavailable" in (refused.error_description or ""), refused.error_description
    assert not refused.otp_prompted  # refused at the password step's decision
    assert "policy_unavailable" in str(refused_refresh.value)
    assert not GATED & set(info), f"userinfo released {sorted(GATED & set(info))} without a decision"
    seen = b"".join(dripping.requests())
    for path in (b"/v1/data/bizid/access/decision", b"/v1/data/bizid/release/decision"):
        assert b"POST " + path in seen, f"the stand-in never got {path!r}: {seen[:300]!r}"
    assert b"authorization: bearer " in seen.lower(), "the decision requests carried no bearer token"

    later = _account(platform, definitions, Tier.PRIME, f"slow-again-{run_id}")
    again = _sign_in(platform, definitions, "jgrants", later)
    assert again.tokens is not None, again
