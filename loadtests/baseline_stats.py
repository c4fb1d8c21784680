"""Pure logic of the stock-realm baseline (loadtests/baseline.py): run order, medians with ranges, the
paired ratios. No I/O, so the unit tests cover every figure the report prints.

Why paired ratios: the session drifts (other work on the box, the JIT, caches). Pair k is bizid run k and
stock run k, run next to each other; the ratio of a pair cancels what the two share, and the ratio reported
is the median of the pairs' ratios, with their range.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

BIZID = "bizid"
STOCK = "stock"
REALMS = (BIZID, STOCK)
ORDERS = ("alternate", "random")


def run_order(runs: int, order: str = "alternate", rng: random.Random | None = None) -> list[tuple[str, int]]:
    """(realm, run number) in the order to run them. `alternate`: pairs AB, BA, AB, ... (ABBAAB for three
    runs each), so neither realm always runs first or later in the session; `random`: each pair in a random
    order (`rng`, seeded by the caller so the report can say which)."""
    if runs < 1:
        raise ValueError(f"runs {runs}: at least 1")
    if order not in ORDERS:
        raise ValueError(f"order {order!r}: one of {', '.join(ORDERS)}")
    rng = rng or random.Random()
    out: list[tuple[str, int]] = []
    for k in range(runs):
        first = (BIZID if k % 2 == 0 else STOCK) if order == "alternate" else rng.choice(REALMS)
        second = STOCK if first == BIZID else BIZID
        out += [(first, k), (second, k)]
    return out


@dataclass(frozen=True)
class Spread:
    """Median of the runs with its range; `n` runs (NaN values, e.g. a run with no passing step, are not
    figures and are counted in `missing`)."""

    median: float
    low: float
    high: float
    n: int
    missing: int = 0

    def text(self, digits: int = 1, unit: str = "") -> str:
        if self.n == 0:
            return "n/a"
        value = f"{self.median:.{digits}f}{unit}"
        gaps = f", {self.missing} without a value" if self.missing else ""
        if self.n == 1:
            return f"{value} (single run{gaps})"
        return f"{value} ({self.low:.{digits}f}–{self.high:.{digits}f}, {self.n} runs{gaps})"


def spread(values: Sequence[float]) -> Spread:
    ok = [v for v in values if not math.isnan(v)]
    missing = len(values) - len(ok)
    if not ok:
        return Spread(math.nan, math.nan, math.nan, 0, missing)
    return Spread(statistics.median(ok), min(ok), max(ok), len(ok), missing)


def ratio(a: float, b: float) -> float:
    return a / b if b and not math.isnan(a) and not math.isnan(b) else math.nan


def paired_ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Spread:
    """Median and range of a_k / b_k over the pairs k."""
    if len(numerators) != len(denominators):
        raise ValueError(f"{len(numerators)} numerators for {len(denominators)} denominators")
    return spread([ratio(a, b) for a, b in zip(numerators, denominators, strict=True)])


@dataclass(frozen=True)
class StepFigures:
    """One step of one run, as the analysis needs it."""

    offered: float
    rate: float
    """Successful sign-ins per second in the step's window."""
    passes: bool
    keycloak_cores: float

    @property
    def keycloak_ms(self) -> float:
        """Keycloak CPU milliseconds per successful sign-in in this step."""
        return self.keycloak_cores / self.rate * 1000 if self.rate > 0 else math.nan


def sustained_rate(steps: Sequence[StepFigures]) -> float:
    """The highest passing step's rate (0 errors, 0 shed, p95 under the limit, offered rate achieved); 0.0
    when no step passed (a figure, not a gap: the run sustained nothing on this ladder)."""
    passing = [s.rate for s in steps if s.passes]
    return max(passing) if passing else 0.0


def reference_step(runs: Sequence[Sequence[StepFigures]]) -> int:
    """Index of the highest step every run passed (every step below it too): the offered rate at which
    Keycloak's CPU per sign-in of both realms is compared, the same load for all; 0 if even the first
    step failed somewhere (then the comparison is at the first step, and the report says so)."""
    if not runs:
        raise ValueError("no runs")
    best = min(len(r) for r in runs)
    for steps in runs:
        k = 0
        while k < len(steps) and steps[k].passes:
            k += 1
        best = min(best, k)
    return max(0, best - 1)


@dataclass(frozen=True)
class Comparison:
    """The figures of the baseline, ready to print."""

    sustained: dict[str, Spread]
    cpu_ms: dict[str, Spread]
    sustained_ratio: Spread
    """bizid / stock sustained rate, per pair."""
    cpu_ratio: Spread
    """bizid / stock Keycloak CPU per sign-in at the reference step, per pair."""
    hash_ratio: dict[str, Spread]
    """Keycloak CPU per sign-in / one Argon2 hash, per run."""
    hash_ms: float
    reference: int
    all_passed_reference: bool


def compare(runs: dict[str, list[list[StepFigures]]], hash_ms: float) -> Comparison:
    """`runs[realm][k]`: the steps of run k of that realm (both realms the same number of runs, the same
    ladder); `hash_ms`: one Argon2 hash with the realm's parameters, measured in the same session."""
    if set(runs) != set(REALMS) or len(runs[BIZID]) != len(runs[STOCK]) or not runs[BIZID]:
        raise ValueError("need the same number (>= 1) of runs of both realms")
    every = [*runs[BIZID], *runs[STOCK]]
    ref = reference_step(every)
    all_passed = all(len(r) > ref and r[ref].passes for r in every)
    sustained = {realm: [sustained_rate(r) for r in runs[realm]] for realm in REALMS}
    cpu = {realm: [r[ref].keycloak_ms if len(r) > ref else math.nan for r in runs[realm]] for realm in REALMS}
    return Comparison(
        sustained={realm: spread(sustained[realm]) for realm in REALMS},
        cpu_ms={realm: spread(cpu[realm]) for realm in REALMS},
        sustained_ratio=paired_ratios(sustained[BIZID], sustained[STOCK]),
        cpu_ratio=paired_ratios(cpu[BIZID], cpu[STOCK]),
        hash_ratio={realm: spread([ratio(c, hash_ms) for c in cpu[realm]]) for realm in REALMS},
        hash_ms=hash_ms,
        reference=ref,
        all_passed_reference=all_passed,
    )
