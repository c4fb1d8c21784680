"""`bizid load baseline`: bizid's sign-in beside a stock Keycloak realm, on the same server, in one session.

One command, every figure a sizing decision needs as a ratio that holds from machine to machine:

1. seeds the same accounts into the bizid realm and into the stock realm `bench-stock`
   (loadtests/stock_realm.py: Keycloak's defaults, the bizid realm's Argon2 parameters), created for this
   run on the local platform only and removed at its end;
2. measures one Argon2 hash with the realm's parameters (Keycloak's own BouncyCastle, one thread: the
   physical floor of a password sign-in), before and after the runs;
3. warms Keycloak up on both realms in turn (a chunk of each, A B A B ...) until both realms' CPU per
   sign-in has settled (loadtests/warmup.py), so no measured run meets the JIT compiling;
4. runs the same step ramp `--runs` times against each realm, pairs in alternating order (AB, BA, AB, ...)
   or random order, each run drawing from its own slice of accounts (a TOTP code is accepted once);
5. reports, as the median of the runs with the range: the sustained rate (highest step with 0 errors, 0
   shed, p95 < 300 ms, offered rate achieved), Keycloak CPU per sign-in at the same offered rate in both
   realms (the highest step every run passed), and the ratios bizid / stock (per pair) and CPU / hash.

Both realms do the same visit: authorization code + PKCE through the login form, TOTP for the Prime and
Member accounts (the stock realm's default browser flow asks for it because the accounts have TOTP
enrolled), userinfo, refresh, SSO at a second client, logout; `--signin-only` stops after the sign-in.
What bizid adds on top of that visit (OPA decisions, the Prime lookup, claim mappers, events, brute-force
protection) is what the ratio measures.

Writes docs/bench/baseline.md and .html, and the summary block in docs/benchmarks.md (between the
`baseline:begin/end` markers); raw data stays in <state>/load/baseline/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import math
import os
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import psycopg

from loadtests import bench, seed, stock_realm, warmup
from loadtests.baseline_stats import (
    BIZID,
    ORDERS,
    REALMS,
    STOCK,
    Comparison,
    StepFigures,
    compare,
    ratio,
    run_order,
)
from loadtests.bench_stats import P95_LIMIT_MS
from loadtests.journey import assert_loopback
from loadtests.phases import PER_USER_RATE, Phase, step_phases
from scripts import arguments, services
from scripts import settings as settings_mod
from scripts.settings import REPO_ROOT, Settings

SHAPES = {BIZID: "step", STOCK: "step_stock"}
WARM_SLICE = 2_000
"""Accounts after the runs' slices that the warm-up signs in (per realm)."""
MIN_SLICE_SECONDS = 3.0 * 30
"""A run's slice must hold at least its top rate x this many seconds of distinct accounts (TOTP reuse)."""
SUMMARY_BEGIN = "<!-- baseline:begin (written by `bizid load baseline`) -->"
SUMMARY_END = "<!-- baseline:end -->"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--runs", type=arguments.int_range(1, 20), default=3, help="runs of each realm (default 3)"
    )
    p.add_argument("--order", choices=ORDERS, default="alternate", help="pair order: AB, BA, ... or random")
    p.add_argument("--seed", type=int, default=None, help="random order: the seed (default: from the clock)")
    p.add_argument("--base-rate", type=arguments.positive_float, default=11.0, help="first step, sign-ins/s")
    p.add_argument(
        "--step-rate", type=arguments.positive_float, default=3.0, help="added per step, sign-ins/s"
    )
    p.add_argument("--steps", type=arguments.int_range(1, 20), default=5, help="steps of each ramp")
    p.add_argument("--step-seconds", type=arguments.positive_float, default=30.0, help="seconds per step")
    p.add_argument(
        "--accounts-per-run", type=arguments.positive_int, default=10_000, help="accounts each run draws from"
    )
    p.add_argument(
        "--first-account",
        type=arguments.non_negative_int,
        default=0,
        help="index of the first account the runs use (the warm-up uses the last of the slices)",
    )
    p.add_argument("--hash-seconds", type=arguments.positive_float, default=5.0, help="per hash measurement")
    p.add_argument(
        "--hash-jvms", type=arguments.int_range(1, 10), default=3, help="hash measurements before and after"
    )
    p.add_argument(
        "--warmup-chunks",
        type=arguments.non_negative_int,
        default=6,
        help="warm-up chunks, the realms in turn, until both settle: at most this many per realm (default 6)",
    )
    p.add_argument("--warmup-visits", type=arguments.positive_int, default=300, help="sign-ins per chunk")
    p.add_argument("--signin-only", action="store_true", help="visits stop after the sign-in")
    p.add_argument("--keep-stock", action="store_true", help="leave the stock realm in place afterwards")
    p.add_argument(
        "--remove-stock", action="store_true", help="only remove a stock realm left behind, then exit"
    )
    p.add_argument("--out", type=arguments.output_file, default=REPO_ROOT / "docs" / "bench" / "baseline.md")
    p.add_argument(
        "--summary",
        type=lambda t: None if t == "-" else arguments.output_file(t),
        default=REPO_ROOT / "docs" / "benchmarks.md",
        help="file whose baseline block is replaced with the summary ('-' for none)",
    )
    p.add_argument("--data", type=arguments.output_dir, default=settings_mod.load().paths.load / "baseline")


@dataclass(frozen=True)
class Plan:
    """What the command will do, checked before anything is created or seeded."""

    order: list[tuple[str, int]]
    phases: list[Phase]
    per_run: int
    first: int
    runs: int
    seed: int | None

    @property
    def accounts(self) -> int:
        """Accounts to seed in each realm: 0 .. the end of the warm-up slice."""
        return self.first + self.runs * self.per_run + WARM_SLICE

    @property
    def warm_slice(self) -> tuple[int, int]:
        return self.accounts - WARM_SLICE, WARM_SLICE

    def slice_of(self, k: int) -> tuple[int, int]:
        return self.first + k * self.per_run, self.per_run

    @property
    def seconds(self) -> float:
        return len(self.order) * (sum(p.seconds for p in self.phases) + 10)


def plan(args: argparse.Namespace) -> Plan:
    phases = step_phases(
        SimpleNamespace(
            base_rate=args.base_rate,
            step_rate=args.step_rate,
            steps=args.steps,
            step_seconds=args.step_seconds,
        )
    )
    top = max(p.rate for p in phases)
    need = math.ceil(top * min(MIN_SLICE_SECONDS, sum(p.seconds for p in phases)))
    if args.accounts_per_run < need:
        raise SystemExit(
            f"bizid load baseline: --accounts-per-run {args.accounts_per_run} is too small for {top:g}"
            f" sign-ins/s: at least {need} (an account may not sign in twice within 90 s, TOTP)"
        )
    rng_seed = args.seed if args.seed is not None else (int(time.time()) if args.order == "random" else None)
    order = run_order(args.runs, args.order, random.Random(rng_seed))
    return Plan(order, phases, args.accounts_per_run, args.first_account, args.runs, rng_seed)


def hash_ms(cfg: Settings, iterations: int, seconds: float, jvms: int = 3) -> list[float]:
    """Milliseconds per Argon2 hash on one thread, one value per JVM (Keycloak's BouncyCastle)."""
    return [1000.0 / bench.argon2_ceiling(cfg, 1, seconds, iterations) for _ in range(jvms)]


def step_figures(run: bench.Run) -> list[StepFigures]:
    return [StepFigures(w.phase.rate, w.rate, w.passes, w.cpu.get("keycloak", 0.0)) for w in run.windows]


def log(message: str) -> None:
    print(f"baseline: {message}", file=sys.stderr, flush=True)


def realm_log(realm: str, message: str) -> None:
    log(f"{realm} {message}")


def main(args: argparse.Namespace) -> int:
    cfg = settings_mod.load()
    try:
        assert_loopback(cfg.keycloak_url)
        stock_realm.check_local(cfg.target())
    except (stock_realm.StockRealmRefused, RuntimeError) as exc:
        print(f"bizid load baseline: {exc}", file=sys.stderr)
        return 2
    if args.remove_stock:
        print("removed" if stock_realm.remove(cfg) else "no stock realm to remove")
        return 0
    the_plan = plan(args)
    unhealthy = [s.name for s in services.status(cfg) if not s.healthy]
    if unhealthy:
        print(f"bizid load baseline: not healthy: {unhealthy}; run `bizid up` first", file=sys.stderr)
        return 2
    log(
        f"plan: {len(the_plan.order)} runs of {len(the_plan.phases)} steps,"
        f" about {the_plan.seconds / 60:.0f} min"
    )
    began = dt.datetime.now(dt.UTC)
    args.data.mkdir(parents=True, exist_ok=True)
    stock_realm.create(cfg)
    try:
        results = measure(cfg, args, the_plan)
    finally:
        if not args.keep_stock:
            stock_realm.remove(cfg)
            log(f"removed the stock realm {stock_realm.STOCK_REALM}")
    write_report(args, cfg, the_plan, began, results)
    return 0


@dataclass
class Results:
    iterations: int
    seeded: list[str]
    hash_before: list[float]
    hash_after: list[float]
    warm: dict[str, list[warmup.Chunk]]
    runs: dict[str, list[bench.Run]]
    comparison: Comparison


def measure(cfg: Settings, args: argparse.Namespace, the_plan: Plan) -> Results:
    with psycopg.connect(seed.conninfo(cfg), autocommit=True) as conn:
        iterations = seed.inspect(conn).hash_iterations
    seeded = []
    for realm, report in (
        (BIZID, seed.seed(cfg, the_plan.accounts, progress=False)),
        (STOCK, stock_realm.seed_accounts(cfg, the_plan.accounts)),
    ):
        seeded.append(
            f"{realm}: {the_plan.accounts:,} accounts, {report.written:,} written in {report.seconds:.1f} s,"
            f" counts {'verified' if report.ok else 'MISMATCH'}"
        )
        if not report.ok:
            raise RuntimeError(f"seeding the {realm} realm: counts {report.counts} != {report.expected}")
    log("measuring one Argon2 hash (before)")
    before = hash_ms(cfg, iterations, args.hash_seconds, args.hash_jvms)
    stock_target = stock_realm.journey_target(cfg)
    targets = {BIZID: None, STOCK: (stock_target.clients, stock_target.profile)}
    warm = warmup.warm_up_alternating(
        cfg,
        *the_plan.warm_slice,
        targets=targets,
        max_chunks=args.warmup_chunks,
        chunk_visits=args.warmup_visits,
        log=realm_log,
    )
    runs: dict[str, list[bench.Run]] = {BIZID: [], STOCK: []}
    skip = min(10.0, args.step_seconds / 4)
    extra = {"signin-only": ""} if args.signin_only else {}
    for n, (realm, k) in enumerate(the_plan.order, 1):
        start, population = the_plan.slice_of(k)
        log(
            f"run {n}/{len(the_plan.order)}: {realm} #{k + 1}, accounts {start:,}..{start + population - 1:,}"
        )
        options = {
            "base-rate": str(args.base_rate),
            "step-rate": str(args.step_rate),
            "steps": str(args.steps),
            "step-seconds": str(args.step_seconds),
            "population-start": str(start),
            **extra,
        }
        run = bench.run_shape(
            cfg, f"{realm}-{k + 1}", SHAPES[realm], the_plan.phases, population, options, args.data, skip
        )
        runs[realm].append(run)
    log("measuring one Argon2 hash (after)")
    after = hash_ms(cfg, iterations, args.hash_seconds, args.hash_jvms)
    figures = {realm: [step_figures(r) for r in runs[realm]] for realm in REALMS}
    comparison = compare(figures, min(before + after))
    return Results(iterations, seeded, before, after, warm, runs, comparison)


# --- report -----------------------------------------------------------------------------------------


def order_text(order: list[tuple[str, int]]) -> str:
    """`ABBAAB` (A = bizid, B = stock): the order the runs ran in."""
    return "".join("A" if realm == BIZID else "B" for realm, _ in order)


def summary_lines(
    c: Comparison, phases: list[Phase], order: list[tuple[str, int]], command: str, report: str
) -> list[str]:
    """The headline table: the same lines in the report and in docs/benchmarks.md."""
    ref = phases[c.reference] if c.reference < len(phases) else phases[0]
    note = "" if c.all_passed_reference else "; not every run passed even this step, see the per-run tables"
    runs = len(order) // 2
    single = " A single run of each realm: no range." if runs == 1 else ""
    return [
        f"Stock-realm baseline, same Keycloak and database, one session: `{command}` ({report}). Each figure"
        f" is the median of {runs} run{'s' if runs > 1 else ''} per realm with its range; run order"
        f" {order_text(order)} (A = bizid, B = stock).{single}",
        "",
        "| figure | bizid realm | stock realm | bizid / stock |",
        "|---|---|---|---|",
        f"| sustained sign-ins/s (0 errors, 0 shed, p95 < {P95_LIMIT_MS:.0f} ms)"
        f" | {c.sustained[BIZID].text(1)} | {c.sustained[STOCK].text(1)} | {c.sustained_ratio.text(2)} |",
        f"| Keycloak CPU ms per sign-in at {ref.rate:g}/s offered (the highest step every run passed{note})"
        f" | {c.cpu_ms[BIZID].text(0)} | {c.cpu_ms[STOCK].text(0)} | {c.cpu_ratio.text(2)} |",
        f"| ... as a multiple of one Argon2 hash ({c.hash_ms:.0f} ms, measured in the same session)"
        f" | {c.hash_ratio[BIZID].text(2)} | {c.hash_ratio[STOCK].text(2)} | |",
        "",
        "Ratios are per pair (bizid run k / stock run k, run next to each other): the median and range of the"
        " pairs' ratios.",
    ]


def run_table(realm: str, run: bench.Run) -> list[str]:
    lines = [
        f"### {realm} run {run.label.rsplit('-', 1)[1]}",
        "",
        f"`{run.command}`",
        "",
        "| step | offered/s | sign-ins ok/s | p95 ms | shed | timeouts | errors | Keycloak cores"
        " | Keycloak CPU ms/sign-in | OPA | Locust | pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in run.windows:
        kc = w.cpu.get("keycloak", 0.0)
        per = kc / w.rate * 1000 if w.rate else math.nan
        lines.append(
            f"| {w.phase.name} | {w.phase.rate:g} | {w.rate:.1f} | {bench.fmt(w.p95)} | {w.shed}"
            f" | {w.timeouts} | {w.errors} | {kc:.2f} | {bench.fmt(per)} | {w.cpu.get('opa', 0):.2f}"
            f" | {w.cpu.get('locust', 0):.2f} | {'yes' if w.passes else 'no'} |"
        )
    return [*lines, ""]


def warm_lines(warm: dict[str, list[warmup.Chunk]]) -> list[str]:
    """The warm-up's own figure: the realms' chunks ran in turn at the same concurrency (no arrival rate,
    so no queueing), and the last chunk of each is Keycloak's CPU per sign-in once the JIT has settled."""
    last = {realm: warm[realm][-1].keycloak_ms for realm in REALMS if warm.get(realm)}
    if len(last) < len(REALMS):
        return []
    return [
        f"- warm-up chunks ran in turn (bizid, stock, bizid, ...), {warmup.THREADS} user agents each; the"
        f" last chunk of each realm: bizid {last[BIZID]:.0f} ms, stock {last[STOCK]:.0f} ms Keycloak CPU per"
        f" sign-in, bizid / stock {ratio(last[BIZID], last[STOCK]):.2f} (one chunk each: a cross-check of"
        " the runs' figure, not a median)",
    ]


def shown(path: Path) -> str:
    """A path as the report prints it: relative to the repository when inside it."""
    path = path.resolve()
    return os.path.relpath(path, REPO_ROOT) if path.is_relative_to(REPO_ROOT) else str(path)


def command_line() -> str:
    argv = sys.argv[1:]
    if argv[:2] == ["load", "baseline"]:
        argv = argv[2:]
    return " ".join(["bizid load baseline", *argv]).strip()


def write_report(
    args: argparse.Namespace, cfg: Settings, the_plan: Plan, began: dt.datetime, r: Results
) -> None:
    c = r.comparison
    m = bench.machine()
    m["postgresql"] = bench.postgres_version(cfg)
    command = command_line()
    order = order_text(the_plan.order)
    summary = summary_lines(c, the_plan.phases, the_plan.order, command, shown(args.out))
    lines = [
        "# Load baseline: bizid beside a stock Keycloak realm",
        "",
        f"Generated by `bizid load baseline` (loadtests/baseline.py) on {began:%Y-%m-%d %H:%M} UTC. Command:",
        "",
        "```",
        command,
        "```",
        "",
        "## Summary",
        "",
        *summary,
        "",
        "## How",
        "",
        f"- Realms: `bizid` (as deployed) and `{stock_realm.STOCK_REALM}` (loadtests/stock_realm.py: Keycloak"
        " defaults, no bizid authenticator, no OPA, no custom mapper, brute-force protection off as"
        f" Keycloak's default; password policy `{stock_realm.password_policy(cfg.definitions())}` as"
        " bizid's), on the same Keycloak and PostgreSQL. The stock realm was created for this run and removed"
        " after it.",
        f"- Accounts: the same {the_plan.accounts:,} usernames, passwords and TOTP secrets in both realms"
        " (loadtests/population.py; 70% Prime, 20% Member with TOTP, 10% Entry without). Each run draws"
        f" from {the_plan.per_run:,} accounts of its own (from index {the_plan.first:,} on; a TOTP code is"
        f" accepted once), the warm-up from the last {WARM_SLICE:,}.",
        "- Visit: authorization code + PKCE through the login form, TOTP for Prime and Member (in the stock"
        " realm Keycloak's default browser flow asks for it because the accounts have it enrolled, so both"
        " realms do the same second factor), then"
        + (
            " logout (--signin-only)."
            if args.signin_only
            else " userinfo, refresh, SSO at a second client, logout."
        )
        + " Tokens are checked in both (iss, aud, sub, expiry; the bizid realm also its acr).",
        f"- Ramp: {', '.join(f'{p.rate:g}' for p in the_plan.phases)} sign-ins/s offered,"
        f" {args.step_seconds:g} s per step (the first {min(10.0, args.step_seconds / 4):g} s of each not"
        " counted), Poisson arrivals,"
        f" {PER_USER_RATE} visits/s per simulated user. Run order (A = bizid, B = stock): {order}"
        + (f" (random, seed {the_plan.seed})." if args.order == "random" else " (alternating pairs)."),
        f"- Argon2 hash: Keycloak's BouncyCastle on one thread, m={seed.ARGON2_MEMORY_KIB} KiB,"
        f" t={r.iterations}, p=1; ms per hash before the runs {', '.join(f'{v:.1f}' for v in r.hash_before)},"
        f" after {', '.join(f'{v:.1f}' for v in r.hash_after)} (one JVM each; the ratio uses the best,"
        f" {c.hash_ms:.1f} ms). One sign-in costs exactly one such hash in either realm.",
        "- CPU is read from /proc every second for Keycloak, PostgreSQL, OPA and Locust; Locust runs on the"
        " same cores (its column).",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in m.items()],
        "",
        "## Seeding and warm-up",
        "",
        *[f"- {s}" for s in r.seeded],
        *[
            f"- warm-up {realm}: "
            + "; ".join(
                f"{ch.visits} at {ch.rate:.1f}/s, {ch.keycloak_ms:.0f} ms{warmup.jit_text(ch)},"
                f" {ch.errors} errors"
                for ch in r.warm[realm]
            )
            + f" (settled: {'yes' if warmup.settled(r.warm[realm]) else 'no'})"
            for realm in REALMS
        ],
        *warm_lines(r.warm),
        "",
        "## Runs",
        "",
    ]
    for realm, k in the_plan.order:
        lines += run_table(realm, r.runs[realm][k])
    lines += [
        f"Plots per run: [{args.out.with_suffix('.html').name}]({args.out.with_suffix('.html').name}).",
        f"Raw samples: `{shown(args.data)}/<realm>-<k>/` (one CSV line per request).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    page = [
        "<!doctype html><html><head><meta charset='utf-8'><title>bizid load baseline</title>",
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}</style></head><body>",
        "<h1>bizid beside a stock Keycloak realm</h1>",
        f"<p>{began:%Y-%m-%d %H:%M} UTC, <code>{html.escape(command)}</code>. Summary and tables:"
        f" {html.escape(args.out.name)}.</p>",
        *[bench.run_html(r.runs[realm][k]) for realm, k in the_plan.order],
        "</body></html>",
    ]
    args.out.with_suffix(".html").write_text("\n".join(page))
    if args.summary is not None:
        replace_block(args.summary, summary)
    log(
        f"wrote {args.out}, {args.out.with_suffix('.html')}"
        + (f" and {args.summary}" if args.summary else "")
    )


def replace_block(path: Path, body: list[str]) -> None:
    """Put `body` between the baseline markers of `path` (appended with them when absent)."""
    text = path.read_text() if path.exists() else ""
    block = "\n".join([SUMMARY_BEGIN, "", *body, "", SUMMARY_END])
    if SUMMARY_BEGIN in text and SUMMARY_END in text:
        head, rest = text.split(SUMMARY_BEGIN, 1)
        tail = rest.split(SUMMARY_END, 1)[1]
        text = head + block + tail
    else:
        text = text.rstrip("\n") + ("\n\n" if text else "") + block + "\n"
    path.write_text(text)
