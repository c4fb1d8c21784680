"""The load-test population and the rows the seeder writes, checked without the platform."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from argparse import Namespace

import pyotp
import pytest
from argon2.low_level import Type, hash_secret_raw

from loadtests import journey, seed
from loadtests import population as pop
from loadtests.phases import burst_phases, step_phases
from realm.models import Tier, corporate_number_error

TARGET = seed.Target("realm-id", "default-role-id", "argon2", 5)


def test_tiers_are_mostly_prime_with_some_members_and_entry() -> None:
    tiers = [pop.tier(i) for i in range(1000)]
    assert tiers.count(Tier.PRIME) == 700
    assert tiers.count(Tier.MEMBER) == 200
    assert tiers.count(Tier.ENTRY) == 100


def test_companies_have_valid_unique_corporate_numbers() -> None:
    numbers: dict[str, set[int]] = {}
    for i in range(2000):
        attrs = dict(pop.attributes(i, "2031-03-31"))
        if "corporate_number" in attrs:
            assert corporate_number_error(attrs["corporate_number"]) is None
            numbers.setdefault(attrs["corporate_number"], set()).add(pop.prime_of(i))
        if attrs.get("corporate_type") == "sole_proprietor":
            assert "corporate_number" not in attrs
    assert all(len(primes) == 1 for primes in numbers.values())


def test_members_belong_to_a_prime_of_the_same_company() -> None:
    for i in range(500):
        if pop.tier(i) is not Tier.MEMBER:
            continue
        prime = pop.prime_of(i)
        assert pop.tier(prime) is Tier.PRIME
        mine, theirs = dict(pop.attributes(i, "2031-03-31")), dict(pop.attributes(prime, "2031-03-31"))
        assert mine["prime_username"] == pop.username(prime)
        for name in ("corporate_number", "corporate_name", "corporate_type", "valid_until"):
            assert mine.get(name) == theirs.get(name)


def test_attributes_are_in_the_user_profile_and_have_the_contract_values() -> None:
    for i in range(20):
        attrs = dict(pop.attributes(i, "2031-03-31"))
        assert set(attrs) <= set(pop.ATTRIBUTE_NAMES)
        assert attrs["tier"] in {t.value for t in Tier}
        assert attrs["account_status"] == "active"


def test_passwords_meet_the_realm_policy() -> None:
    for i in range(pop.PASSWORD_POOL):
        pw = pop.password(i)
        assert 12 <= len(pw) <= 128
        assert pop.username(i) not in pw and pop.email(i) not in pw
    assert len({pop.pool_password(n) for n in range(pop.PASSWORD_POOL)}) == pop.PASSWORD_POOL


def test_totp_code_matches_an_authenticator_app() -> None:
    for i in (0, 7, 123_456):
        app = pyotp.TOTP(base64.b32encode(pop.totp_key(i)).decode())
        for at in (0, 1_795_000_000, 1_795_000_029, 1_795_000_030):
            assert pop.totp_code(i, at) == app.at(at)
        assert len(pop.totp_secret(i)) == 20


def test_row_ids_are_uuids_that_sort_by_index() -> None:
    ids = [pop.row_id(kind, i) for i in (0, 1, 255, 10**7) for kind in (0, 1, 2, 0x100, 0x10A)]
    for value in ids:
        uuid.UUID(value)
    assert ids == sorted(ids)
    with pytest.raises(ValueError):
        pop.row_id(0, -1)


def test_password_credential_is_what_keycloak_stores() -> None:
    entry = seed.password_pool(5)[3]
    data = json.loads(entry.credential_data)
    assert data == {
        "hashIterations": 5,
        "algorithm": "argon2",
        "additionalParameters": {
            "hashLength": ["32"],
            "memory": ["7168"],
            "type": ["id"],
            "version": ["1.3"],
            "parallelism": ["1"],
        },
    }
    secret = json.loads(entry.secret_data)
    assert set(secret) == {"value", "salt", "additionalParameters"}
    salt = base64.b64decode(secret["salt"])
    assert len(salt) == 16
    expected = hash_secret_raw(
        pop.pool_password(3).encode(),
        salt,
        time_cost=5,
        memory_cost=7168,
        parallelism=1,
        hash_len=32,
        type=Type.ID,
        version=19,
    )
    assert base64.b64decode(secret["value"]) == expected


def test_batch_rows_are_well_formed_and_counted() -> None:
    rows = seed.batch_rows(95, 1230, TARGET, seed.password_pool(5), dt.date(2031, 3, 31), 1)
    expected = seed.expected_counts(95, 1230)
    tables = {
        "user_entity": rows.users,
        "credential": rows.credentials,
        "user_attribute": rows.attributes,
        "user_role_mapping": rows.role_mappings,
    }
    for table, text in tables.items():
        lines = text.splitlines()
        assert len(lines) == expected[table], table
        for line in lines:
            fields = line.split("\t")
            assert len(fields) == len(seed.TABLES[table]), (table, line)
            assert all("\\" not in f or f == "\\N" for f in fields), line
        if table != "user_role_mapping":
            ids = [
                line.split("\t")[0] if table != "user_attribute" else line.split("\t")[3] for line in lines
            ]
            assert ids == sorted(ids) and len(set(ids)) == len(ids)
    otp_lines = [line for line in rows.credentials.splitlines() if "\totp\t" in line]
    assert json.loads(otp_lines[0].split("\t")[6]) == {
        "subType": "totp",
        "digits": 6,
        "counter": 0,
        "period": 30,
        "algorithm": "HmacSHA1",
    }


def test_picker_never_reuses_an_account_within_the_totp_window() -> None:
    picker = journey.AccountPicker(size=500, stride=2, offset=1)
    drawn = [picker.draw() for _ in range(240)]
    assert len(set(drawn)) == len(drawn)
    assert all(i % 2 == 1 and 0 <= i < 500 for i in drawn)
    small = journey.AccountPicker(size=3)
    for _ in range(3):
        small.draw()
    with pytest.raises(RuntimeError, match="too small"):
        small.draw()


@pytest.mark.parametrize("url", ["https://127.0.0.1:18443", "https://localhost:1", "http://[::1]:80"])
def test_loopback_targets_are_accepted(url: str) -> None:
    journey.assert_loopback(url)


@pytest.mark.parametrize("url", ["https://10.1.2.3", "https://192.0.2.1:18443", "nohost"])
def test_other_targets_are_refused(url: str) -> None:
    with pytest.raises(journey.NotLoopback):
        journey.assert_loopback(url)


def test_shapes() -> None:
    options = Namespace(base_rate=2.0, step_rate=3.0, steps=4, step_seconds=30.0, shape_seconds=600.0)
    assert [p.rate for p in burst_phases(options)] == [2.0, 20.0, 100.0, 2.0]
    assert [p.rate for p in step_phases(options)] == [2.0, 5.0, 8.0, 11.0]


class FakeClock:
    """A settable clock for the pacing arithmetic (pure logic; no server involved)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_poisson_pacing_offers_the_rate_and_users_do_not_start_in_lockstep() -> None:
    import random

    from loadtests.pacing import PoissonPacing

    clock = FakeClock()
    users = [PoissonPacing(0.5, random.Random(k), clock) for k in range(8)]
    first_waits = [u() for u in users]
    assert len({round(w, 3) for w in first_waits}) == 8  # constant throughput would give 8 equal waits
    # One user, visits taking no time: the mean gap is 1/rate (2 s) within a few percent over 20,000 gaps.
    user = PoissonPacing(0.5, random.Random(7), clock)
    total = 0.0
    for _ in range(20_000):
        wait = user()
        total += wait
        clock.now += wait
    assert 1.9 < total / 20_000 < 2.1


def test_poisson_pacing_keeps_its_schedule_but_drops_missed_starts() -> None:
    import random

    from loadtests.pacing import PoissonPacing

    clock = FakeClock()
    gaps = random.Random(3)  # the same draws the user makes
    user = PoissonPacing(1.0, random.Random(3), clock)
    start = clock.now
    first = gaps.expovariate(1.0)
    assert user() == pytest.approx(first)
    start += first
    clock.now = start + 0.1  # the visit took 0.1 s: the next start is a full gap after the last start
    second = gaps.expovariate(1.0)
    assert user() == pytest.approx(start + second - clock.now)
    clock.now += 3600  # a visit that outlasted many gaps: start at once, once; the missed starts are dropped
    gaps.expovariate(1.0)
    assert user() == 0
    fourth = gaps.expovariate(1.0)
    assert user() == pytest.approx(fourth)  # the next gap counts from now, not from the old schedule


def test_poisson_pacing_refuses_a_rate_that_is_not_positive() -> None:
    from loadtests.pacing import PoissonPacing

    with pytest.raises(ValueError, match="positive"):
        PoissonPacing(0.0)


def test_warm_up_settles_when_two_chunks_cost_keycloak_the_same() -> None:
    from loadtests.warmup import Chunk, settled

    cold, warmer, warm, warm_too = (Chunk(600, 0, 30.0, ms) for ms in (110.0, 60.0, 46.0, 44.0))
    assert not settled([cold])
    assert not settled([cold, warmer])  # still falling by 45 %
    assert not settled([warmer, warm])  # 23 %
    assert settled([warmer, warm, warm_too])  # 4 %
    assert not settled([warm, Chunk(600, 3, 30.0, 44.0)])  # errors: not a measurement of a healthy server


def test_locust_refuses_a_per_user_rate_that_is_not_positive() -> None:
    import subprocess
    import sys

    from scripts.settings import REPO_ROOT

    run = subprocess.run(
        [sys.executable, "-m", "locust", "-f", "loadtests/locustfile.py", "--headless", "-u", "1", "-t", "2s",
         "--per-user-rate", "0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert run.returncode != 0
    assert "--per-user-rate must be positive (got 0.0)" in run.stderr + run.stdout
