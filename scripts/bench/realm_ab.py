"""bizid's sign-in beside a stock-realm sign-in on one warm Keycloak: interleaved chunks, CPU per thread.

    .venv/bin/python -m scripts.bench.realm_ab [--rounds 4] [--signins 200] [--warmup-chunks 6] \\
        [--threads 2] [--population 3000] [--keep-stock] [--jfr DIR]

Creates the stock realm `bench-stock` (loadtests/stock_realm.py, local platform only) with the same
accounts as the bizid realm (the first `--population` of `bizid seed`), warms the one running Keycloak up on
both realms in turn until both have settled (loadtests.warmup.warm_up_alternating), then runs `--rounds`
rounds of one chunk per realm in alternating order (bizid stock, stock bizid, ...) and prints, per chunk,
Keycloak's CPU per sign-in split by JVM thread kind, OPA's and PostgreSQL's (as scripts.bench.signin_cpu),
then per realm the median and range and the per-round ratio bizid / stock. With `--jfr DIR` one more chunk
of each realm is recorded with JFR (`jcmd JFR.start settings=profile`), DIR/bizid.jfr and DIR/stock.jfr.

Same JVM, same JIT state, same database, same concurrency (no arrival rate: no queueing), so the ratio is
the realms' own work. CPU time, not latency: on a shared machine it is the figure other work disturbs
least. No thresholds: it prints figures. The stock realm is removed at the end unless `--keep-stock`.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
from pathlib import Path

from loadtests import stock_realm, warmup
from loadtests.cpu import CpuSampler, process_groups
from loadtests.generator_cost import population_problem
from loadtests.journey import AccountPicker, RealmProfile
from loadtests.jvm_threads import split_by_kind, thread_cpu
from realm.oidc.browser_flow import Client
from scripts import settings

REALMS = ("bizid", "stock")


def chunk_row(
    cfg: settings.Settings,
    realm: str,
    picker: AccountPicker,
    signins: int,
    threads: int,
    target: tuple[dict[str, Client], RealmProfile] | None,
) -> tuple[float, float, str]:
    """One measured chunk: (Keycloak ms, without JIT ms, table row)."""
    groups = process_groups(cfg)
    cpu = CpuSampler(groups)
    before = cpu.totals()
    threads_before = thread_cpu(groups.get("keycloak", []))
    chunk = warmup.run_chunk(cfg, picker, signins, threads, cpu, target)
    after = cpu.totals()
    split = split_by_kind(threads_before, thread_cpu(groups.get("keycloak", [])))
    per = {k: (after.get(k, 0.0) - before.get(k, 0.0)) / signins * 1000 for k in groups}
    kinds = {k: v / signins * 1000 for k, v in split.items()}
    kc = per.get("keycloak", 0.0)
    no_jit = kc - kinds["jit"]
    shown = " ".join(f"{k} {v:.1f}" for k, v in kinds.items() if v >= 0.05)
    row = (
        f"| {realm} | {chunk.visits} | {chunk.errors} | {kc:.1f} | {no_jit:.1f} | {per.get('opa', 0):.1f}"
        f" | {per.get('postgres', 0):.1f} | {shown} |"
    )
    if chunk.first_error:
        row += f"\n  first error: {chunk.first_error}"
    return kc, no_jit, row


def preflight(parser: argparse.ArgumentParser, population: int) -> settings.Settings:
    """The settings, once the platform is local, running and seeded with `population` accounts: checked
    before the first change to any realm, so bad input is one clear line, never a traceback mid-run."""
    cfg = settings.load()
    try:
        stock_realm.check_local(cfg.target())
    except stock_realm.StockRealmRefused as exc:
        parser.error(str(exc))
    problem = population_problem(population)
    if problem:
        parser.error(f"--population {population}: {problem}")
    return cfg


def jcmd(pid: int, *words: str) -> None:
    subprocess.run(["jcmd", str(pid), *words], check=True, capture_output=True, text=True)


def keycloak_jvm(cfg: settings.Settings) -> int:
    """The pid of Keycloak's JVM (the pid file holds kc.sh's, whose child is the java process)."""
    root = process_groups(cfg)["keycloak"][0]
    out = subprocess.run(["pgrep", "-P", str(root), "java"], capture_output=True, text=True).stdout.split()
    return int(out[0]) if out else root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--signins", type=int, default=200, help="sign-ins per measured chunk")
    parser.add_argument("--warmup-chunks", type=int, default=6, help="at most, per realm")
    parser.add_argument("--warmup-visits", type=int, default=300)
    parser.add_argument("--threads", type=int, default=2, help="concurrent user agents")
    parser.add_argument("--population", type=int, default=3000, help="seeded accounts to draw from")
    parser.add_argument("--keep-stock", action="store_true")
    parser.add_argument("--jfr", type=Path, default=None, help="record one chunk per realm into this folder")
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 20 or not 1 <= args.signins <= 10_000 or not 1 <= args.threads <= 16:
        parser.error("--rounds 1-20, --signins 1-10000, --threads 1-16")
    if not 0 <= args.warmup_chunks <= 20 or not 1 <= args.warmup_visits <= 10_000:
        parser.error("--warmup-chunks 0-20, --warmup-visits 1-10000")
    if not 500 <= args.population <= 1_000_000:
        parser.error("--population 500-1000000")
    if args.jfr is not None and args.jfr.exists() and not args.jfr.is_dir():
        parser.error(f"--jfr {args.jfr}: not a folder")
    cfg = preflight(parser, args.population)
    if not stock_realm.exists(cfg):
        stock_realm.create(cfg)
    report = stock_realm.seed_accounts(cfg, args.population)
    if not report.ok:
        print(f"realm_ab: seeding the stock realm: counts {report.counts} != {report.expected}")
        return 1
    stock = stock_realm.journey_target(cfg)
    targets: dict[str, tuple[dict[str, Client], RealmProfile] | None] = {
        "bizid": None,
        "stock": (stock.clients, stock.profile),
    }
    try:
        # The warm-up draws from the upper half, the measured chunks from the lower: no TOTP code twice.
        half = args.population // 2
        warmup.warm_up_alternating(
            cfg,
            half,
            args.population - half,
            targets,
            max_chunks=args.warmup_chunks,
            chunk_visits=args.warmup_visits,
            log=lambda realm, message: print(f"# {realm} {message}", flush=True),
        )
        pickers = {realm: AccountPicker(half, start=0) for realm in REALMS}
        figures: dict[str, list[tuple[float, float]]] = {realm: [] for realm in REALMS}
        print(
            "| realm | sign-ins | errors | Keycloak ms CPU/sign-in | without JIT | OPA ms | PostgreSQL ms"
            " | Keycloak threads, ms/sign-in |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for number in range(args.rounds):
            order = REALMS if number % 2 == 0 else REALMS[::-1]
            for realm in order:
                kc, no_jit, row = chunk_row(
                    cfg, realm, pickers[realm], args.signins, args.threads, targets[realm]
                )
                figures[realm].append((kc, no_jit))
                print(row, flush=True)
        if args.jfr is not None:
            args.jfr.mkdir(parents=True, exist_ok=True)
            pid = keycloak_jvm(cfg)
            for realm in REALMS:
                path = (args.jfr / f"{realm}.jfr").resolve()
                jcmd(pid, "JFR.start", f"name={realm}", "settings=profile", f"filename={path}")
                _, _, row = chunk_row(cfg, realm, pickers[realm], args.signins, args.threads, targets[realm])
                jcmd(pid, "JFR.stop", f"name={realm}")
                print(f"{row} (JFR: {path})", flush=True)
    finally:
        if not args.keep_stock:
            stock_realm.remove(cfg)
    for realm in REALMS:
        totals = [t for t, _ in figures[realm]]
        no_jits = [n for _, n in figures[realm]]
        print(
            f"{realm}: Keycloak ms CPU per sign-in median {statistics.median(totals):.1f}"
            f" ({min(totals):.1f}-{max(totals):.1f}), without JIT {statistics.median(no_jits):.1f}"
            f" ({min(no_jits):.1f}-{max(no_jits):.1f}), {len(totals)} chunks"
        )
    ratios = [a / b for (a, _), (b, _) in zip(figures["bizid"], figures["stock"], strict=True) if b]
    ratios_no_jit = [a / b for (_, a), (_, b) in zip(figures["bizid"], figures["stock"], strict=True) if b]
    if ratios:
        print(
            f"bizid / stock per round: median {statistics.median(ratios):.2f}"
            f" ({min(ratios):.2f}-{max(ratios):.2f}); without JIT {statistics.median(ratios_no_jit):.2f}"
            f" ({min(ratios_no_jit):.2f}-{max(ratios_no_jit):.2f})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
