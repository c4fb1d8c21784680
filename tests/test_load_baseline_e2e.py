"""The stock-realm baseline against the real Keycloak and PostgreSQL (loadtests/stock_realm.py,
loadtests/baseline.py): the realm really is Keycloak's defaults with bizid's hash parameters, the same
accounts sign in there (TOTP for Prime and Member) without Keycloak re-hashing them, none of its clients
gets a bizid token, it is refused on a non-local target before anything is created, it is removed with
everything it held, and a tiny bounded run of the whole command produces the report. No timing thresholds.
"""

from __future__ import annotations

import argparse
import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from loadtests import baseline, seed, stock_realm
from loadtests import population as pop
from loadtests.journey import Journey
from realm.oidc.browser_flow import BrowserFlow
from realm.target import ServiceAccountLogin, Target
from scripts.settings import Settings

pytestmark = pytest.mark.platform

FIRST = 6_000
"""The accounts these tests use start here: away from the load smoke test's (0 .. 2,000), because Keycloak
accepts a TOTP code once and two tests must not sign in one account within a TOTP window."""
SIGN_IN = (FIRST + 2_990, FIRST + 2_997, FIRST + 2_999)  # a Prime, a Member, an Entry account
ACCOUNTS = FIRST + 3_000


@pytest.fixture(scope="module")
def stock(platform: Settings) -> Iterator[Settings]:
    stock_realm.create(platform)
    report = stock_realm.seed_accounts(platform, ACCOUNTS)
    assert report.ok, f"seeded rows {report.counts} != expected {report.expected}"
    yield platform
    stock_realm.remove(platform)


def _credentials(cfg: Settings, index: int) -> list[tuple[str, str, str]]:
    with psycopg.connect(seed.conninfo(cfg)) as conn:
        rows = conn.execute(
            "SELECT type, secret_data, credential_data FROM credential WHERE user_id = %s ORDER BY type",
            (pop.user_id(index, stock_realm.STOCK_ID_PREFIX),),
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _realm_rows(cfg: Settings) -> tuple[int, int]:
    """(realms named bench-stock, user rows with the stock id prefix that are the stock realm's or no
    realm's) in Keycloak's database. Rows of other realms are left out: Keycloak's random user ids start
    with the stock prefix too, once in 65,536 accounts."""
    lo = pop.id_prefix(0, stock_realm.STOCK_ID_PREFIX)
    hi = pop.id_prefix((1 << 48) - 1, stock_realm.STOCK_ID_PREFIX) + "ffff-ffffffffffff"
    with psycopg.connect(seed.conninfo(cfg)) as conn:
        realms = conn.execute(
            "SELECT count(*) FROM realm WHERE name = %s", (stock_realm.STOCK_REALM,)
        ).fetchone()
        users = conn.execute(
            "SELECT count(*) FROM user_entity WHERE id BETWEEN %s AND %s"
            " AND realm_id NOT IN (SELECT id FROM realm WHERE name <> %s)",
            (lo, hi, stock_realm.STOCK_REALM),
        ).fetchone()
    assert realms is not None and users is not None
    return int(realms[0]), int(users[0])


def test_stock_realm_is_keycloak_defaults_with_the_bizid_hash_parameters(stock: Settings) -> None:
    assert stock_realm.differences_from_defaults(stock) == []
    admin = stock_realm._admin(stock)
    rep = admin.connection.raw_get(f"admin/realms/{stock_realm.STOCK_REALM}").json()
    assert rep["passwordPolicy"] == "hashAlgorithm(argon2) and hashIterations(5)"
    assert rep["browserFlow"] == "browser" and not rep.get("bruteForceProtected")
    bizid = admin.connection.raw_get("admin/realms/bizid").json()
    assert rep["browserFlow"] != bizid["browserFlow"], "the bizid realm's flow is its own, not the default"


def test_the_same_accounts_sign_in_to_the_stock_realm_with_totp_and_keep_their_hash(stock: Settings) -> None:
    target = stock_realm.journey_target(stock)
    for index in SIGN_IN:
        before = _credentials(stock, index)
        assert [t for t, _, _ in before] == (["otp", "password"] if pop.needs_otp(index) else ["password"])
        journey = Journey(requests.Session(), stock, target.clients, set(), profile=target.profile)
        visit = journey.visit(index)  # raises unless OTP was asked for exactly when the account has it
        assert visit.steps[0] == "sign-in" and visit.steps[-1] == "logout"
        assert ("sso" in visit.steps) == pop.needs_otp(index)
        assert _credentials(stock, index) == before, "Keycloak re-hashed: hash parameters differ from bizid's"


def test_no_stock_client_gets_a_bizid_token_and_bizid_refuses_stock_tokens(stock: Settings) -> None:
    target = stock_realm.journey_target(stock)
    seminar = target.clients["seminar"]
    # a stock client at the bizid realm: unknown there, Keycloak shows no login form and issues no code
    for client in target.clients.values():
        r = requests.get(
            f"{stock.issuer}/protocol/openid-connect/auth",
            params={
                "client_id": client.client_id, "redirect_uri": client.redirect_uri, "response_type": "code",
                "scope": "openid", "code_challenge": "x" * 43, "code_challenge_method": "S256",
            },
            verify=str(stock.paths.ca_cert), allow_redirects=False, timeout=30,
        )  # fmt: skip
        assert r.status_code == 400 and "code=" not in r.headers.get("Location", ""), client.client_id
        assert 'name="password"' not in r.text
    # a stock token at the bizid realm's userinfo: refused
    stock_flow = BrowserFlow(requests.Session(), target.profile.issuer, verify=str(stock.paths.ca_cert))
    got = stock_flow.login(seminar, pop.username(FIRST + 2_979), pop.password(FIRST + 2_979))
    assert got.ok and got.tokens is not None
    r = requests.get(
        f"{stock.issuer}/protocol/openid-connect/userinfo",
        headers={"Authorization": f"Bearer {got.tokens['access_token']}"},
        verify=str(stock.paths.ca_cert),
        timeout=30,
    )
    assert r.status_code == 401


def test_the_stock_realm_is_refused_on_a_deployed_target_before_anything_is_created(
    platform: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock_realm.remove(platform)
    local = platform.target()
    deployed = Target(
        keycloak_url=local.keycloak_url,
        login=ServiceAccountLogin("bizid-reconciler", "not-used"),
        ca_cert=local.ca_cert,
        opa_url=local.opa_url,
    )
    monkeypatch.setattr(Settings, "target", lambda self: deployed)
    with pytest.raises(stock_realm.StockRealmRefused, match="local platform only"):
        stock_realm.create(platform)
    with pytest.raises(stock_realm.StockRealmRefused):
        stock_realm.seed_accounts(platform, 10)
    monkeypatch.undo()
    assert not stock_realm.exists(platform) and _realm_rows(platform) == (0, 0)


def _args(tmp_path: Path, *argv: str) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    baseline.add_arguments(p)
    return p.parse_args(
        [
            "--out", str(tmp_path / "baseline.md"), "--summary", str(tmp_path / "benchmarks.md"),
            "--data", str(tmp_path / "data"), *argv,
        ]
    )  # fmt: skip


def test_the_stock_realm_is_removed_when_the_run_fails(
    platform: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: Any) -> None:
        assert stock_realm.exists(platform), "the run must have created the realm"
        raise RuntimeError("measurement failed")

    monkeypatch.setattr(baseline, "measure", broken)
    with pytest.raises(RuntimeError, match="measurement failed"):
        baseline.main(_args(tmp_path))
    assert not stock_realm.exists(platform)
    assert _realm_rows(platform) == (0, 0)
    assert not (platform.paths.secrets / stock_realm.SECRETS_FILE).exists()


def test_a_tiny_bounded_baseline_runs_both_realms_and_cleans_up(platform: Settings, tmp_path: Path) -> None:
    args = _args(
        tmp_path,
        "--runs", "1", "--steps", "1", "--step-seconds", "8", "--base-rate", "2", "--accounts-per-run", "300",
        "--first-account", str(FIRST), "--hash-seconds", "0.5", "--hash-jvms", "1", "--warmup-chunks", "1",
        "--warmup-visits", "8",
    )  # fmt: skip
    (tmp_path / "benchmarks.md").write_text("# Benchmarks\n\nkept\n")
    assert baseline.main(args) == 0
    for label in ("bizid-1", "stock-1"):
        rows = []
        for path in (tmp_path / "data" / label).glob("samples-*.csv"):
            with path.open() as f:
                rows += list(csv.DictReader(f))
        signins = [r for r in rows if r["name"] == "sign-in"]
        assert signins, f"{label}: no sign-in at all"
        bad = [r for r in rows if r["outcome"] != "ok"]
        assert not bad, f"{label}: {bad[:3]}"
        authorize = [r for r in rows if r["name"] == "authorize"]
        assert authorize, f"{label}: no authorization requests recorded"
    report = (tmp_path / "baseline.md").read_text()
    assert "### bizid run 1" in report and "### stock run 1" in report and "single run" in report
    assert "step_stock.py" in report and "Run order (A = bizid, B = stock): AB" in report
    # The warm-up ran both realms against the real Keycloak, each chunk with its JIT compilers' CPU read
    # from the JVM's threads, and the report cross-checks the runs with the last warm chunks.
    warm = [line for line in report.splitlines() if line.startswith(("- warm-up bizid:", "- warm-up stock:"))]
    assert len(warm) == 2, report
    assert all("(JIT compilers " in line and "0 errors" in line for line in warm), warm
    assert "warm-up chunks ran in turn" in report and "bizid / stock " in report
    summary = (tmp_path / "benchmarks.md").read_text()
    assert summary.startswith("# Benchmarks\n\nkept\n") and baseline.SUMMARY_BEGIN in summary
    assert (tmp_path / "baseline.html").read_text().count("<svg") >= 2
    assert not stock_realm.exists(platform) and _realm_rows(platform) == (0, 0)
