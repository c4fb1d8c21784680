"""Smoke version of the load benchmark: a small seeded population, seconds of load, correctness only.

Seeds (or finds) a few thousand accounts written straight into Keycloak's tables, checks that one signs
in without Keycloak re-hashing its password, then runs the real Locust scenario headless for a few seconds
and requires that every request succeeded and every sign-in ended with valid tokens (the scenario checks
iss, aud, sub and acr of each). No timing thresholds: the timed benchmark is `bizid load bench`.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import requests

from loadtests import population as pop
from loadtests import seed, warmup
from loadtests.cpu import CpuSampler, process_groups
from loadtests.journey import AccountPicker, Journey, rp_clients
from realm.models import Definitions
from scripts.settings import REPO_ROOT, Settings

pytestmark = pytest.mark.platform

SMOKE_ACCOUNTS = 2_000
WARMUP_SLICE = 200
"""The top accounts are kept from the Locust run: a TOTP code may be used once, so two tests must not sign
in the same account within a TOTP window."""


@pytest.fixture(scope="module")
def seeded(platform: Settings) -> int:
    report = seed.seed(platform, SMOKE_ACCOUNTS, batch=1_000, progress=False)
    assert report.ok, f"seeded rows {report.counts} != expected {report.expected}"
    return SMOKE_ACCOUNTS


def _password_row(cfg: Settings, index: int) -> tuple[str, str]:
    with psycopg.connect(seed.conninfo(cfg)) as conn:
        row = conn.execute(
            "SELECT secret_data, credential_data FROM credential WHERE user_id = %s AND type = 'password'",
            (pop.user_id(index),),
        ).fetchone()
    assert row is not None, f"no password credential for {pop.username(index)}"
    return str(row[0]), str(row[1])


def test_every_tier_of_the_seeded_population_signs_in_and_keycloak_keeps_the_hash(
    platform: Settings, definitions: Definitions, seeded: int
) -> None:
    clients = rp_clients(platform, definitions)
    pairwise = {rp.client_id for rp in definitions.rps if rp.pairwise_sub}
    # one Prime, one Member, one Entry, chosen away from the Locust run's random draws by time of use
    for index in (seeded - 10, seeded - 3, seeded - 1):
        before = _password_row(platform, index)
        visit = Journey(requests.Session(), platform, clients, pairwise).visit(index)
        assert "sign-in" in visit.steps and "logout" in visit.steps, visit
        assert _password_row(platform, index) == before, "Keycloak re-hashed a seeded password"


def test_warm_up_signs_in_for_real_and_measures_keycloak_cpu(platform: Settings, seeded: int) -> None:
    picker = AccountPicker(WARMUP_SLICE - 20, start=seeded - WARMUP_SLICE)
    chunk = warmup.run_chunk(platform, picker, visits=8, threads=2, cpu=CpuSampler(process_groups(platform)))
    assert chunk.errors == 0, chunk.first_error
    assert chunk.visits == 8 and chunk.seconds > 0
    assert chunk.keycloak_ms > 0, "the CPU of Keycloak's process tree was not found"


def test_locust_scenario_runs_without_a_single_error(platform: Settings, seeded: int, tmp_path: Path) -> None:
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(REPO_ROOT / "loadtests" / "locustfile.py"),
        "--headless",
        "--users",
        "3",
        "--spawn-rate",
        "3",
        "--run-time",
        "12s",
        "--population",
        str(seeded - WARMUP_SLICE),  # the accounts above are left to the tests before
        "--samples-dir",
        str(tmp_path),
        "--csv",
        str(tmp_path / "smoke"),
        "--only-summary",
        "--stop-timeout",
        "10",
    ]
    run = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120, check=False)
    rows: list[dict[str, str]] = []
    for path in tmp_path.glob("samples-*.csv"):
        with path.open() as f:
            rows.extend(csv.DictReader(f))
    failures = [r for r in rows if r["outcome"] != "ok"]
    assert not failures, f"failed requests: {failures[:5]}\n{run.stderr[-2000:]}"
    signins = [r for r in rows if r["name"] == "sign-in"]
    visits = [r for r in rows if r["name"] == "visit"]
    assert signins, f"no sign-in completed:\n{run.stderr[-2000:]}"
    assert visits, "no visit completed (userinfo, refresh, SSO, logout)"
    assert run.returncode == 0, run.stderr[-2000:]


BULK_TEST_LIMIT = 200_000
"""The bulk tests rebuild Keycloak's user indexes, which sorts every account: minutes on a developer's
platform that still holds millions from a load run. There they skip (saying so); CI's platform is new."""


def _highest_seeded(cfg: Settings) -> int:
    """One past the highest seeded account index on this platform (0 if none)."""
    with psycopg.connect(seed.conninfo(cfg)) as conn:
        row = conn.execute(
            "SELECT username FROM user_entity WHERE username LIKE %s ORDER BY username DESC LIMIT 1",
            (f"{pop.USERNAME_PREFIX}%",),
        ).fetchone()
    return int(row[0].removeprefix(pop.USERNAME_PREFIX)) + 1 if row else 0


def _skip_on_a_large_platform(cfg: Settings) -> int:
    top = _highest_seeded(cfg)
    if top > BULK_TEST_LIMIT:
        pytest.skip(f"the platform holds {top:,} load accounts; rebuilding their indexes takes minutes")
    return top


def _index_state(cfg: Settings) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    with psycopg.connect(seed.conninfo(cfg, seed.superuser_available(cfg)), autocommit=True) as conn:
        return seed.secondary_indexes(conn), seed.pending_indexes(conn)


def test_bulk_seed_builds_again_every_index_it_dropped_and_its_accounts_sign_in(
    platform: Settings, definitions: Definitions, seeded: int
) -> None:
    top = max(seeded, _skip_on_a_large_platform(platform))
    before, pending = _index_state(platform)
    assert before and not pending
    report = seed.seed(platform, top + 300, batch=100, bulk=True, progress=False)
    assert report.bulk and report.written == 300 and report.ok, report
    assert _index_state(platform) == (before, [])
    clients = rp_clients(platform, definitions)
    pairwise = {rp.client_id for rp in definitions.rps if rp.pairwise_sub}
    visit = Journey(requests.Session(), platform, clients, pairwise).visit(top + 290, full=False)
    assert visit.steps == ["sign-in"]


def test_indexes_left_dropped_by_an_interrupted_bulk_seed_are_rebuilt_by_the_next_run(
    platform: Settings, seeded: int
) -> None:
    _skip_on_a_large_platform(platform)
    before, _ = _index_state(platform)
    info = seed.conninfo(platform, seed.superuser_available(platform))
    with psycopg.connect(info, autocommit=True) as conn:
        seed.drop_secondary_indexes(conn)  # what a run that died before its rebuild leaves behind
    assert _index_state(platform) == ([], before)
    report = seed.seed(platform, seeded, progress=False)  # nothing to add: no bulk mode, but the repair
    assert not report.bulk and report.written == 0
    assert _index_state(platform) == (before, [])
