"""The pure logic of the stock-realm baseline (loadtests/baseline_stats.py, loadtests/baseline.py): run
order, medians with ranges, paired ratios, the reference step, the realm as created, the summary block."""

from __future__ import annotations

import argparse
import math
import random
from pathlib import Path

import pytest

from loadtests import baseline, stock_realm
from loadtests import population as pop
from loadtests.baseline_stats import (
    BIZID,
    STOCK,
    StepFigures,
    compare,
    paired_ratios,
    reference_step,
    run_order,
    spread,
    sustained_rate,
)
from loadtests.phases import Phase
from realm import loader
from realm.target import PasswordLogin, ServiceAccountLogin, Target


def test_alternate_order_swaps_each_pair_and_gives_both_realms_every_run_once() -> None:
    order = run_order(3)
    assert order == [(BIZID, 0), (STOCK, 0), (STOCK, 1), (BIZID, 1), (BIZID, 2), (STOCK, 2)]
    four = [realm for realm, _ in run_order(4)]
    assert "".join("A" if r == BIZID else "B" for r in four) == "ABBAABBA"
    # with an even number of pairs neither realm runs earlier on average
    positions = {r: [i for i, x in enumerate(four) if x == r] for r in (BIZID, STOCK)}
    assert sum(positions[BIZID]) == sum(positions[STOCK])


def test_random_order_keeps_pairs_together_and_follows_the_seed() -> None:
    a = run_order(6, "random", random.Random(7))
    assert a == run_order(6, "random", random.Random(7))
    for k in range(6):
        pair = a[2 * k : 2 * k + 2]
        assert {realm for realm, _ in pair} == {BIZID, STOCK} and {n for _, n in pair} == {k}
    firsts = {run_order(6, "random", random.Random(s))[0][0] for s in range(20)}
    assert firsts == {BIZID, STOCK}


@pytest.mark.parametrize(("runs", "order"), [(0, "alternate"), (3, "sorted")])
def test_bad_order_arguments_are_refused(runs: int, order: str) -> None:
    with pytest.raises(ValueError, match=r"runs|order"):
        run_order(runs, order)


def test_spread_is_the_median_with_its_range_and_says_single_run() -> None:
    s = spread([17.0, 19.5, 16.0])
    assert (s.median, s.low, s.high, s.n) == (17.0, 16.0, 19.5, 3)
    assert s.text(1) == "17.0 (16.0–19.5, 3 runs)"
    assert spread([4.0, 1.0, 3.0, 2.0]).median == 2.5
    assert spread([12.34]).text(1) == "12.3 (single run)"
    gap = spread([10.0, math.nan, 14.0])
    assert (gap.median, gap.n, gap.missing) == (12.0, 2, 1)
    assert "1 without a value" in gap.text(0)
    assert spread([math.nan]).text() == "n/a"


def test_ratios_are_taken_per_pair_not_as_a_ratio_of_medians() -> None:
    # pair ratios 2.0, 1.0, 1.5: median 1.5; the ratio of the medians would be 20/15 = 1.33
    r = paired_ratios([20.0, 15.0, 30.0], [10.0, 15.0, 20.0])
    assert (r.median, r.low, r.high) == (1.5, 1.0, 2.0)
    assert paired_ratios([1.0], [0.0]).n == 0
    with pytest.raises(ValueError):
        paired_ratios([1.0, 2.0], [1.0])


def _steps(*items: tuple[float, float, bool, float]) -> list[StepFigures]:
    return [StepFigures(offered, rate, ok, cores) for offered, rate, ok, cores in items]


def test_sustained_is_the_highest_passing_step_and_zero_when_none_passed() -> None:
    steps = _steps((10, 10.1, True, 0.5), (13, 12.9, True, 0.7), (16, 14.0, False, 1.0))
    assert sustained_rate(steps) == 12.9
    assert sustained_rate(_steps((10, 3.0, False, 0.5))) == 0.0


def test_reference_step_is_the_highest_step_every_run_passed() -> None:
    a = _steps((10, 10, True, 0.5), (13, 13, True, 0.6), (16, 16, True, 0.8))
    b = _steps((10, 10, True, 0.5), (13, 13, True, 0.6), (16, 12, False, 0.8))
    c = _steps((10, 10, True, 0.5), (13, 9, False, 0.6), (16, 16, True, 0.8))  # a later pass does not count
    assert reference_step([a, a]) == 2
    assert reference_step([a, b]) == 1
    assert reference_step([a, b, c]) == 0
    assert reference_step([_steps((10, 1, False, 0.1))]) == 0


def test_compare_reports_cpu_at_the_common_step_and_the_ratios() -> None:
    bizid = [
        _steps((10, 10.0, True, 0.50), (13, 13.0, True, 0.78), (16, 15.0, False, 1.2)),
        _steps((10, 10.0, True, 0.60), (13, 13.0, True, 0.91), (16, 16.0, True, 1.3)),
    ]
    stock = [
        _steps((10, 10.0, True, 0.40), (13, 13.0, True, 0.65), (16, 16.0, True, 1.0)),
        _steps((10, 10.0, True, 0.40), (13, 13.0, True, 0.52), (16, 16.0, True, 1.0)),
    ]
    c = compare({BIZID: bizid, STOCK: stock}, hash_ms=25.0)
    assert c.reference == 1 and c.all_passed_reference
    assert c.cpu_ms[BIZID].median == pytest.approx(65.0)  # 60 and 70 ms
    assert c.cpu_ms[STOCK].median == pytest.approx(45.0)  # 50 and 40 ms
    assert c.cpu_ratio.low == pytest.approx(1.2) and c.cpu_ratio.high == pytest.approx(1.75)
    assert c.sustained[BIZID].median == 14.5 and c.sustained[STOCK].median == 16.0
    assert c.sustained_ratio.median == pytest.approx((13 / 16 + 1.0) / 2)
    assert c.hash_ratio[STOCK].median == pytest.approx(45.0 / 25.0)
    with pytest.raises(ValueError):
        compare({BIZID: bizid, STOCK: stock[:1]}, 25.0)


def test_summary_names_medians_ranges_ratios_and_the_hash() -> None:
    bizid = [_steps((10, 10.0, True, 0.6)), _steps((10, 10.0, True, 0.7)), _steps((10, 10.0, True, 0.5))]
    stock = [_steps((10, 10.0, True, 0.5)), _steps((10, 10.0, True, 0.5)), _steps((10, 10.0, True, 0.5))]
    c = compare({BIZID: bizid, STOCK: stock}, hash_ms=20.0)
    phases = [Phase("step 1", 30, 10.0)]
    text = "\n".join(
        baseline.summary_lines(c, phases, run_order(3), "bizid load baseline", "docs/bench/baseline.md")
    )
    assert "median of 3 runs per realm" in text and "run order ABBAAB" in text
    assert "| 60 (50–70, 3 runs) | 50 (50–50, 3 runs) | 1.20 (1.00–1.40, 3 runs) |" in text
    assert "one Argon2 hash (20 ms" in text and "| 3.00 (2.50–3.50, 3 runs) | 2.50" in text
    single = baseline.summary_lines(
        compare({BIZID: bizid[:1], STOCK: stock[:1]}, 20.0), phases, run_order(1), "x", "y"
    )
    assert "single run" in "\n".join(single)


def test_summary_block_replaces_only_its_own_lines(tmp_path: Path) -> None:
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\n## Load\n\nmine\n")
    baseline.replace_block(doc, ["first"])
    baseline.replace_block(doc, ["second", "lines"])
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\n## Load\n\nmine\n")
    assert "second\nlines" in text and "first" not in text
    assert text.count(baseline.SUMMARY_BEGIN) == 1 and text.count(baseline.SUMMARY_END) == 1
    doc.write_text(f"a\n{baseline.SUMMARY_BEGIN}\nold\n{baseline.SUMMARY_END}\nb\n")
    baseline.replace_block(doc, ["new"])
    assert doc.read_text() == f"a\n{baseline.SUMMARY_BEGIN}\n\nnew\n\n{baseline.SUMMARY_END}\nb\n"


def _args(**changes: object) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    baseline.add_arguments(p)
    args = p.parse_args([])
    for k, v in changes.items():
        setattr(args, k, v)
    return args


def test_default_plan_fits_twenty_minutes_and_slices_do_not_overlap() -> None:
    plan = baseline.plan(_args())
    assert len(plan.order) == 6
    assert [p.rate for p in plan.phases] == [11, 14, 17, 20, 23]
    assert plan.seconds < 18 * 60  # the runs; seeding, hashing and warm-up take the rest of the 20 minutes
    assert plan.slice_of(0)[0] == 0
    shifted = baseline.plan(_args(first_account=3000))
    assert shifted.slice_of(1) == (13_000, 10_000) and shifted.accounts == 3000 + 30_000 + baseline.WARM_SLICE
    spans = [range(s, s + n) for s, n in (plan.slice_of(k) for k in range(3))]
    spans.append(range(plan.warm_slice[0], plan.warm_slice[0] + plan.warm_slice[1]))
    assert sum(len(s) for s in spans) == plan.accounts == len(set().union(*map(set, spans)))


def test_a_slice_too_small_for_the_top_rate_is_refused_before_anything_runs() -> None:
    with pytest.raises(SystemExit, match="accounts-per-run 500"):
        baseline.plan(_args(accounts_per_run=500))


def test_stock_realm_is_keycloak_defaults_with_the_bizid_hash_and_journey_clients() -> None:
    defs = loader.load()
    rep = stock_realm.representation(defs, {"jgrants": "s3cret"})
    assert rep["realm"] == "bench-stock" != defs.realm.name
    assert rep["passwordPolicy"] == "hashAlgorithm(argon2) and hashIterations(5)"
    # nothing else of a realm is set: flows, brute force, OTP policy, lifetimes stay Keycloak's defaults
    assert set(rep) == {"realm", "displayName", "enabled", "passwordPolicy", "clients"}
    clients = {c["clientId"]: c for c in rep["clients"]}
    assert set(clients) == {"bench-stock-jgrants", "bench-stock-it-subsidy", "bench-stock-seminar"}
    assert clients["bench-stock-jgrants"]["secret"] == "s3cret"
    assert (
        not clients["bench-stock-jgrants"]["publicClient"] and clients["bench-stock-seminar"]["publicClient"]
    )
    for c in clients.values():
        assert c["attributes"] == {"pkce.code.challenge.method": "S256"}
        assert not c["directAccessGrantsEnabled"] and not c["serviceAccountsEnabled"]
        assert "protocolMappers" not in c and "authenticationFlowBindingOverrides" not in c


def _target(url: str, login: PasswordLogin | ServiceAccountLogin) -> Target:
    return Target(keycloak_url=url, login=login, ca_cert=None, opa_url="http://127.0.0.1:8181")


@pytest.mark.parametrize(
    "target",
    [
        _target("https://id.example.go.jp", PasswordLogin("admin", "x")),
        _target("https://127.0.0.1:8443", ServiceAccountLogin("bizid-reconciler", "x")),
        _target("https://10.0.0.5:8443", PasswordLogin("admin", "x")),
    ],
)
def test_stock_realm_is_refused_on_anything_but_the_local_platform(target: Target) -> None:
    with pytest.raises(stock_realm.StockRealmRefused):
        stock_realm.check_local(target)
    stock_realm.check_local(_target("https://127.0.0.1:8443", PasswordLogin("admin", "x")))


def test_stock_accounts_have_ids_of_their_own_with_the_same_credentials() -> None:
    assert pop.user_id(42, stock_realm.STOCK_ID_PREFIX) != pop.user_id(42)
    assert pop.user_id(42, stock_realm.STOCK_ID_PREFIX).startswith(stock_realm.STOCK_ID_PREFIX)
    assert pop.user_id(42) == pop.row_id(pop.Kind.USER, 42)
    with pytest.raises(ValueError, match="prefix"):
        pop.id_prefix(1, "xyz!")
