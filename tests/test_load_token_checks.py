"""The load scenario checks the real Keycloak's ID tokens as an RP does (loadtests/id_token.py): real tokens
pass, and a token altered in transit, re-signed with another key, replayed from an earlier sign-in (a good
signature, the wrong nonce) or stripped of its signature is a failed sign-in, in the journey's report and in
Locust's own statistics. The tokens are Keycloak's; only the test changes them after the code exchange, as
an attacker between Keycloak and the RP would."""

from __future__ import annotations

import base64
import csv
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from loadtests import id_token, seed
from loadtests import population as pop
from loadtests.journey import InvalidTokens, Journey, TimedFlow, rp_clients
from realm.models import Definitions
from realm.oidc.browser_flow import Client
from scripts.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.platform

ACCOUNTS = 5_400
FIRST = 5_000
"""Accounts [5000, 5400): away from the other load tests' slices (smoke [0, 2000), distributed [3000, 4000),
the smoke test's bulk accounts above the highest seeded one), so no TOTP code is presented twice."""
TAMPERED_LOCUSTFILE = Path(__file__).parent / "load" / "tampered_locustfile.py"


@pytest.fixture(scope="module")
def seeded(platform: Settings) -> int:
    report = seed.seed(platform, ACCOUNTS, batch=1_000, progress=False)
    assert report.ok, f"seeded rows {report.counts} != expected {report.expected}"
    return ACCOUNTS


Reports = list[tuple[str, BaseException | None]]


def _journey(cfg: Settings, defs: Definitions, reports: Reports) -> Journey:
    pairwise = {rp.client_id for rp in defs.rps if rp.pairwise_sub}
    clients = rp_clients(cfg, defs)
    return Journey(requests.Session(), cfg, clients, pairwise, lambda n, _ms, e: reports.append((n, e)))


def _accounts(first: int, kind: Callable[[int], bool]) -> Iterator[int]:
    return (i for i in range(first, ACCOUNTS) if kind(i))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return claims


def altered(token: str) -> str:
    """Another `sub` in the payload, Keycloak's signature kept."""
    head, _, signature = token.split(".")
    return f"{head}.{_b64(json.dumps({**_payload(token), 'sub': 'someone-else'}).encode())}.{signature}"


ATTACKER = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def resigned(token: str) -> str:
    """The same header (Keycloak's kid) and claims, signed with a key that is not the realm's."""
    head, body, _ = token.split(".")
    signature = ATTACKER.sign(f"{head}.{body}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{head}.{body}.{_b64(signature)}"


def unsigned(token: str) -> str:
    """`alg: none`, no signature."""
    head, body, _ = token.split(".")
    header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    return f"{_b64(json.dumps({**header, 'alg': 'none'}).encode())}.{body}."


@pytest.fixture
def tamper(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[dict[str, Any]], None]], None]:
    """Change the tokens of every code exchange after Keycloak answered."""

    def install(change: Callable[[dict[str, Any]], None]) -> None:
        exchange = TimedFlow.exchange

        def changed(self: TimedFlow, client: Client, code: str, verifier: str) -> dict[str, Any]:
            tokens = exchange(self, client, code, verifier)
            change(tokens)
            return tokens

        monkeypatch.setattr(TimedFlow, "exchange", changed)

    return install


def test_keycloaks_own_tokens_pass_every_check_and_the_keys_are_fetched_once(
    platform: Settings, definitions: Definitions, seeded: int
) -> None:
    reports: Reports = []
    keys = id_token.key_set(platform.issuer)
    fetches = keys.fetches
    prime = next(_accounts(FIRST, pop.needs_otp))
    entry = next(_accounts(FIRST, lambda i: not pop.needs_otp(i)))
    for index in (prime, entry):
        visit = _journey(platform, definitions, reports).visit(index)  # sign-in, refresh, SSO: all checked
        assert visit.steps[-1] == "logout", visit
    assert [e for _, e in reports] == [None] * 4, reports
    assert keys.keys and keys.fetches - fetches <= 1, "the JWKS was fetched more than once"


@pytest.mark.parametrize(
    "change, check, index",
    [
        (altered, "signature does not verify", FIRST + 20),
        (resigned, "signature does not verify", FIRST + 40),
        (unsigned, "algorithm", FIRST + 60),
    ],
    ids=["altered", "resigned", "unsigned"],
)
def test_an_id_token_changed_after_keycloak_signed_it_is_a_failed_sign_in(
    platform: Settings,
    definitions: Definitions,
    seeded: int,
    tamper: Callable[[Callable[[dict[str, Any]], None]], None],
    change: Callable[[str], str],
    check: str,
    index: int,
) -> None:
    """One Prime each (i % 10 == 0): password and TOTP, then the code exchange's tokens are changed."""
    tamper(lambda tokens: tokens.update(id_token=change(tokens["id_token"])))
    reports: Reports = []
    with pytest.raises(InvalidTokens, match=check):
        _journey(platform, definitions, reports).visit(index)
    assert [name for name, _ in reports] == ["sign-in"]
    assert isinstance(reports[0][1], InvalidTokens), reports


def test_an_id_token_replayed_from_an_earlier_sign_in_fails_on_its_nonce(
    platform: Settings,
    definitions: Definitions,
    seeded: int,
    tamper: Callable[[Callable[[dict[str, Any]], None]], None],
) -> None:
    entry = next(_accounts(FIRST + 100, lambda i: not pop.needs_otp(i)))  # no TOTP: it may sign in twice
    first: list[dict[str, Any]] = []

    def replay(tokens: dict[str, Any]) -> None:  # keep the first sign-in's tokens, hand them over later
        if first:
            tokens.update(first[0])
        else:
            first.append(dict(tokens))

    tamper(replay)
    reports: Reports = []
    _journey(platform, definitions, reports).visit(entry, full=False)
    assert reports == [("sign-in", None)] and _payload(first[0]["id_token"]).get("nonce")
    reports.clear()
    with pytest.raises(InvalidTokens, match="nonce"):
        _journey(platform, definitions, reports).visit(entry, full=False)
    assert [name for name, _ in reports] == ["sign-in"] and isinstance(reports[0][1], InvalidTokens)


def test_locusts_statistics_count_a_tampered_id_token_as_a_failed_sign_in(
    seeded: int, tmp_path: Path
) -> None:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(TAMPERED_LOCUSTFILE),
        "--headless",
        "--users",
        "2",
        "--spawn-rate",
        "2",
        "--run-time",
        "10s",
        "--signin-only",
        "--per-user-rate",
        "1",
        "--population",
        "200",
        "--population-start",
        str(FIRST + 200),
        "--samples-dir",
        str(tmp_path),
        "--csv",
        str(tmp_path / "run"),
        "--only-summary",
    ]
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    with (tmp_path / "run_stats.csv").open() as f:
        stats = {row["Name"]: row for row in csv.DictReader(f)}
    assert "sign-in" in stats, f"no sign-in in Locust's statistics:\n{run.stderr[-2000:]}"
    signins = int(stats["sign-in"]["Request Count"])
    assert signins > 0 and int(stats["sign-in"]["Failure Count"]) == signins, stats["sign-in"]
    assert int(stats["token"]["Failure Count"]) == 0, "the code exchange itself answered 200"
    rows: list[dict[str, str]] = []
    for path in tmp_path.glob("samples-*.csv"):
        with path.open() as f:
            rows.extend(r for r in csv.DictReader(f) if r["name"] == "sign-in")
    assert rows and all("id_token rejected: signature does not verify" in r["detail"] for r in rows), rows[:3]
    assert run.returncode != 0, "Locust exited 0 with every sign-in failed"
