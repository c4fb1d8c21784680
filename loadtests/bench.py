"""`bizid load bench`: the standard load benchmark of the local platform, and its report.

1. ceiling: Argon2 hashes per second on this machine with the realm's parameters, computed by the same
   library Keycloak uses (BouncyCastle, from Keycloak's own lib folder) on as many threads as cores;
2. warm-up: sign-ins until Keycloak's CPU per sign-in settles (loadtests/warmup.py);
3. sustained: a step ramp (fractions of the ceiling) drawing from a small population, then from a large
   one; a step passes with zero errors, sign-in p95 < 300 ms and the offered rate achieved. Sustained =
   the highest passing rate; scale = sustained(large) / sustained(small);
4. burst: baseline (sustained / 10), 10x, 50x, recovery; shedding (503), admitted p99, recovery time, and
   afterwards: the account count is unchanged and every session held open during the burst still refreshes.

CPU of Keycloak, PostgreSQL, OPA and Locust is sampled every second from /proc. Writes docs/bench/load.md
and docs/bench/load.html (SVG plots, no plotting library needed); raw data stays in .bizid/load/bench/.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import os
import platform as pyplatform
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg
import requests

from loadtests import population as pop
from loadtests import seed, warmup
from loadtests.bench_stats import P95_LIMIT_MS, Sample, Window, pct, read_samples, windows
from loadtests.bench_svg import svg_chart
from loadtests.cpu import CpuSampler, process_groups
from loadtests.journey import assert_loopback, rp_clients
from loadtests.phases import PER_USER_RATE, Phase, burst_phases, step_phases
from scripts import services
from scripts import settings as settings_mod
from scripts.settings import KEYCLOAK_VERSION, REPO_ROOT, Settings

BURST_P99_LIMIT_MS = 2000.0
RECOVERY_LIMIT_S = 60.0
KEYCLOAK_SIZING_PER_VCPU = 15.0
"""Keycloak's published sizing: 1 vCPU per 15 password-based logins/s (High availability guide,
"Concepts for sizing CPU and memory resources", tested up to 300 logins/s)."""

ARGON2_BENCH_JAVA = Path(__file__).resolve().parent / "java" / "Argon2Bench.java"
"""Run as a single-file Java program against Keycloak's BouncyCastle jar."""


# --- measurements -----------------------------------------------------------------------------------


def argon2_ceiling(cfg: Settings, threads: int, seconds: float, iterations: int) -> float:
    """Hashes/s of Keycloak's Argon2 (BouncyCastle jar shipped with Keycloak) on `threads` threads."""
    jars = sorted((cfg.paths.keycloak_home / "lib" / "lib" / "main").glob("org.bouncycastle.bcprov-*.jar"))
    if not jars:
        raise RuntimeError(f"no BouncyCastle jar under {cfg.paths.keycloak_home}: is Keycloak installed?")
    out = subprocess.run(
        ["java", "-cp", str(jars[-1]), str(ARGON2_BENCH_JAVA), str(threads), str(seconds), str(iterations),
         str(seed.ARGON2_MEMORY_KIB)],
        capture_output=True, text=True, check=True, timeout=seconds + 120,
    )  # fmt: skip
    return float(out.stdout.strip().splitlines()[-1])


def argon2_cffi_ms(iterations: int, n: int = 20) -> float:
    """Milliseconds per hash of the reference C implementation (argon2-cffi), one thread, for comparison."""
    began = time.perf_counter()
    for k in range(n):
        seed.argon2_hash("a-password-of-24-chars!!", k.to_bytes(16, "big"), iterations)
    return (time.perf_counter() - began) / n * 1000


@dataclass
class Run:
    label: str
    shape: str
    population: int
    phases: list[Phase]
    samples: list[Sample]
    cpu: list[tuple[float, dict[str, float]]]
    t0: float
    windows: list[Window]
    command: str
    held: list[dict[str, Any]] = field(default_factory=list)


def run_shape(
    cfg: Settings,
    label: str,
    shape: str,
    phases: list[Phase],
    population: int,
    options: dict[str, str],
    out: Path,
    skip: float,
) -> Run:
    """Run one Locust shape headless while sampling CPU; analyse it per phase."""
    directory = out / label
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    cmd = [
        sys.executable, "-m", "locust", "-f", f"loadtests/shapes/{shape}.py", "--headless",
        "--csv", str(directory / "locust"), "--csv-full-history", "--html", str(directory / "locust.html"),
        "--samples-dir", str(directory), "--population", str(population), "--only-summary",
        "--loglevel", "WARNING",
    ]  # fmt: skip
    for key, value in options.items():
        cmd += [f"--{key}", value] if value != "" else [f"--{key}"]
    groups = process_groups(cfg)
    log = (directory / "locust.log").open("w")
    proc = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT)
    groups["locust"] = [proc.pid]
    sampler = CpuSampler(groups)
    t0 = time.time() + 1.0  # estimate until Locust says when the shape's clock started
    sampler.start()
    limit = sum(p.seconds for p in phases) + 120
    try:
        proc.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.terminate()
        proc.wait(timeout=30)
    finally:
        sampler.stop()
        log.close()
    (directory / "cpu.json").write_text(json.dumps(sampler.samples))
    started = directory / "started"  # written by the locustfile when the shape's clock starts
    if started.exists():
        t0 = float(started.read_text())
    samples = read_samples(directory)
    held: list[dict[str, Any]] = []
    for path in directory.glob("held-*.jsonl"):
        held.extend(json.loads(line) for line in path.read_text().splitlines() if line.strip())
    display = " ".join(c if not c.startswith("/") else os.path.relpath(c, REPO_ROOT) for c in cmd[2:])
    return Run(
        label, shape, population, phases, samples, sampler.samples, t0,
        windows(samples, sampler.samples, t0, phases, skip), f"python {display}", held,
    )  # fmt: skip


def user_count(cfg: Settings, accounts: int) -> int:
    """Seeded load-test accounts present (other tests create and delete their own accounts meanwhile)."""
    with psycopg.connect(seed.conninfo(cfg, seed.superuser_available(cfg)), autocommit=True) as conn:
        return seed.count_rows(conn, 0, accounts)["user_entity"]


def refresh_held(cfg: Settings, held: list[dict[str, Any]]) -> tuple[int, int, list[str]]:
    """Refresh every session kept open during the burst: (held, still valid, first problems)."""
    clients = rp_clients(cfg)
    session = requests.Session()
    ok = 0
    problems: list[str] = []
    token_url = f"{cfg.issuer}/protocol/openid-connect/token"
    for item in held:
        client = clients[item["client_id"]]
        data = {
            "grant_type": "refresh_token",
            "refresh_token": item["refresh_token"],
            "client_id": client.client_id,
        }
        auth = (client.client_id, client.secret) if client.secret else None
        r = session.post(token_url, data=data, auth=auth, verify=str(cfg.paths.ca_cert), timeout=30)
        if r.status_code == 200:
            ok += 1
            session.post(
                f"{cfg.issuer}/protocol/openid-connect/logout",
                data={"client_id": client.client_id, "refresh_token": r.json()["refresh_token"]},
                auth=auth, verify=str(cfg.paths.ca_cert), timeout=30,
            )  # fmt: skip
        elif len(problems) < 5:
            problems.append(f"{pop.username(item['index'])}: {r.status_code} {r.text[:120]}")
    return len(held), ok, problems


def recovery_seconds(run: Run, baseline_p95: float) -> float | None:
    """Seconds after the 50x phase until the sign-in p95 of a 10 s sliding window is back under
    max(1.5 x baseline p95, baseline p95 + 100 ms) and nothing is shed or failing; None if never."""
    ends = [w.end for w in run.windows]
    burst_end = ends[2]
    limit = max(1.5 * baseline_p95, baseline_p95 + 100)
    t = burst_end
    while t < run.windows[-1].end - 10:
        inside = [s for s in run.samples if t <= s.t < t + 10]
        ok = [s.ms for s in inside if s.name == "sign-in" and s.outcome == "ok"]
        bad = [s for s in inside if s.outcome != "ok"]
        if ok and pct(ok, 95) <= limit and not bad:
            return t - burst_end
        t += 1
    return None


# --- report -----------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem_kb = int(line.split()[1])
    java = subprocess.run(
        ["java", "-version"], capture_output=True, text=True, check=False
    ).stderr.splitlines()
    from importlib.metadata import version  # not `import locust`: it would monkey-patch this process

    return {
        "cpu": f"{os.cpu_count()} x {model}",
        "memory": f"{mem_kb / 1024 / 1024:.0f} GiB",
        "os": f"{pyplatform.system()} {pyplatform.release()}",
        "keycloak": KEYCLOAK_VERSION,
        "java": java[0] if java else "unknown",
        "python": pyplatform.python_version(),
        "locust": version("locust"),
    }


def postgres_version(cfg: Settings) -> str:
    with psycopg.connect(seed.conninfo(cfg), autocommit=True) as conn:
        row = conn.execute("SHOW server_version").fetchone()
    return str(row[0]) if row else "?"


def per_second(run: Run, bucket: float = 5.0) -> dict[str, list[tuple[float, float]]]:
    """Series for the plots: sign-ins/s ok, shed/s, errors/s, p50/p95/p99 per bucket."""
    buckets: dict[int, list[Sample]] = defaultdict(list)
    for s in run.samples:
        if s.t >= run.t0:
            buckets[int((s.t - run.t0) // bucket)].append(s)
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    offered_t = 0.0
    for phase in run.phases:
        out["offered"] += [(offered_t, phase.rate), (offered_t + phase.seconds, phase.rate)]
        offered_t += phase.seconds
    for k in sorted(buckets):
        x = k * bucket + bucket / 2
        items = buckets[k]
        ok = [s.ms for s in items if s.name == "sign-in" and s.outcome == "ok"]
        out["sign-ins ok/s"].append((x, len(ok) / bucket))
        out["shed/s (503)"].append(
            (x, sum(1 for s in items if s.outcome == "shed" and s.name == "sign-in") / bucket)
        )
        out["errors+timeouts/s"].append(
            (x, sum(1 for s in items if s.outcome in ("error", "timeout") and s.name == "sign-in") / bucket)
        )
        out["p50"].append((x, pct(ok, 50)))
        out["p95"].append((x, pct(ok, 95)))
        out["p99"].append((x, pct(ok, 99)))
    return out


def run_html(run: Run) -> str:
    series = per_second(run)
    marks = []
    t = 0.0
    for phase in run.phases:
        marks.append((t, phase.name))
        t += phase.seconds
    cpu_series: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for ts, c in run.cpu:
        for k, v in c.items():
            cpu_series[k].append((ts - run.t0, v))
    throughput = {k: series[k] for k in ("offered", "sign-ins ok/s", "shed/s (503)", "errors+timeouts/s")}
    latency = {k: series[k] for k in ("p50", "p95", "p99")}
    return "\n".join(
        [
            f"<h2>{html.escape(run.label)}</h2><p><code>{html.escape(run.command)}</code></p>",
            svg_chart("Throughput (sign-ins per second, 5 s buckets)", throughput, "per s", marks),
            svg_chart(
                "Sign-in latency of successful sign-ins (ms, log scale)", latency, "ms", marks, log_y=True
            ),
            svg_chart("CPU per process (cores)", dict(cpu_series), "cores", marks),
        ]
    )


def fmt(v: float, digits: int = 0) -> str:
    return "n/a" if v != v else f"{v:,.{digits}f}"


def window_table(run: Run) -> list[str]:
    lines = [
        "| phase | offered/s | sign-ins ok/s | p50 ms | p95 ms | p99 ms | shed | timeouts | errors |"
        " CPU keycloak | postgres | opa | locust | pass |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for w in run.windows:
        c = w.cpu
        lines.append(
            f"| {w.phase.name} | {w.phase.rate:.1f} | {w.rate:.1f} | {fmt(w.p50)} | {fmt(w.p95)}"
            f" | {fmt(w.p99)} | {w.shed} | {w.timeouts} | {w.errors} | {c.get('keycloak', 0):.2f}"
            f" | {c.get('postgres', 0):.2f} | {c.get('opa', 0):.2f} | {c.get('locust', 0):.2f}"
            f" | {'yes' if w.passes else 'no'} |"
        )
    return lines


def cpu_budget(window: Window | None) -> str:
    """CPU milliseconds per successful sign-in of each process in a window: where the cores went."""
    if window is None or not window.rate:
        return "n/a"
    parts = [f"{name} {cores / window.rate * 1000:.0f}" for name, cores in sorted(window.cpu.items())]
    total = sum(window.cpu.values()) / window.rate * 1000
    cores = os.cpu_count() or 1
    limit = cores * 1000 / total
    return ", ".join(parts) + f"; total {total:.0f} ({cores} cores allow {limit:.0f}/s at this cost)"


def sustained(run: Run) -> Window | None:
    passing = [w for w in run.windows if w.passes]
    return max(passing, key=lambda w: w.rate) if passing else None


# --- the benchmark ----------------------------------------------------------------------------------


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--small", type=int, default=10_000, help="small population (default 10,000)")
    p.add_argument("--large", type=int, default=1_000_000, help="large population (default 1,000,000)")
    p.add_argument("--ramp-from", type=float, default=0.05, help="first step, fraction of the ceiling")
    p.add_argument("--ramp-step", type=float, default=0.05, help="step size, fraction of the ceiling")
    p.add_argument("--step-seconds", type=float, default=40.0, help="seconds per step of the ramp")
    p.add_argument("--steps", type=int, default=8, help="steps of the ramp")
    p.add_argument("--burst-seconds", type=float, default=45.0, help="seconds per burst phase")
    p.add_argument("--ceiling-seconds", type=float, default=10.0)
    p.add_argument("--warmup-chunks", type=int, default=12, help="at most this many warm-up chunks of 600")
    p.add_argument("--signin-only", action="store_true", help="visits stop after the sign-in")
    p.add_argument("--skip-seed", action="store_true", help="do not seed (the large population must exist)")
    p.add_argument("--skip-ramp-small", action="store_true", help="measure the large population only")
    p.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "bench" / "load.md")
    p.add_argument("--data", type=Path, default=settings_mod.load().paths.load / "bench")


@dataclass(frozen=True)
class Slices:
    """Which accounts each part of the benchmark draws from. Keycloak refuses a TOTP code that was already
    used, so no account may sign in twice within one TOTP window across runs either: each run that follows
    another at once draws from its own slice. The warm-up and the burst share one, minutes apart."""

    large: int
    small: int

    @property
    def ramp_small(self) -> tuple[int, int]:
        return self.large - self.small, self.small

    @property
    def ramp_large(self) -> tuple[int, int]:
        return 0, self.large // 2

    @property
    def warm_and_burst(self) -> tuple[int, int]:
        return self.large // 2, self.large - self.small - self.large // 2

    def check(self) -> None:
        if self.small < 1000 or self.large < 4 * self.small:
            raise SystemExit(
                f"bizid load bench: --large {self.large} must be at least 4 x --small {self.small} (and"
                " --small at least 1,000): the runs draw from separate slices of the large population"
            )


def main(args: argparse.Namespace) -> int:
    cfg = settings_mod.load()
    assert_loopback(cfg.keycloak_url)
    slices = Slices(args.large, args.small)
    slices.check()
    unhealthy = [s.name for s in services.status(cfg) if not s.healthy]
    if unhealthy:
        print(f"bizid load bench: not healthy: {unhealthy}; run `bizid up` first", file=sys.stderr)
        return 2
    began = dt.datetime.now(dt.UTC)
    args.data.mkdir(parents=True, exist_ok=True)
    cores = os.cpu_count() or 1
    with psycopg.connect(seed.conninfo(cfg), autocommit=True) as conn:
        iterations = seed.inspect(conn).hash_iterations

    def log(message: str) -> None:
        print(f"bench: {message}", file=sys.stderr, flush=True)

    seeds: list[str] = []
    if not args.skip_seed:
        report = seed.seed(cfg, args.large, progress=True)
        seeds.append(
            f"{args.large:,} accounts: {report.written:,} written in {report.seconds:.1f} s"
            f" ({report.rate:,.0f}/s), counts {'verified' if report.ok else 'MISMATCH'}"
        )
    log("measuring the Argon2 ceiling")
    # Best of three JVMs: HotSpot compiles BouncyCastle's Argon2 loop well in some JVMs and badly in others
    # (46 vs 16 hashes/s on one thread, same machine, minutes apart); the ceiling is what the box can do.
    ceiling_runs = [argon2_ceiling(cfg, cores, args.ceiling_seconds, iterations) for _ in range(3)]
    ceiling_1_runs = [argon2_ceiling(cfg, 1, args.ceiling_seconds / 2, iterations) for _ in range(3)]
    ceiling, ceiling_1 = max(ceiling_runs), max(ceiling_1_runs)
    log(f"ceiling runs: {ceiling_runs} on {cores} threads, {ceiling_1_runs} on 1")
    cffi_ms = argon2_cffi_ms(iterations)
    warm = warmup.warm_up(cfg, *slices.warm_and_burst, max_chunks=args.warmup_chunks, log=log)
    extra = {"signin-only": ""} if args.signin_only else {}
    ramp = SimpleNamespace(
        base_rate=round(max(1.0, args.ramp_from * ceiling), 1),
        step_rate=round(max(0.5, args.ramp_step * ceiling), 1),
        steps=args.steps,
        step_seconds=args.step_seconds,
    )
    runs: list[Run] = []
    skip = min(10.0, args.step_seconds / 4)

    def ramp_run(slice_: tuple[int, int], label: str) -> Run:
        start, population = slice_
        log(f"step ramp drawing from {population:,} accounts")
        options = {
            "base-rate": str(ramp.base_rate),
            "step-rate": str(ramp.step_rate),
            "steps": str(ramp.steps),
            "step-seconds": str(ramp.step_seconds),
            "population-start": str(start),
            **extra,
        }
        return run_shape(cfg, label, "step", step_phases(ramp), population, options, args.data, skip)

    small = None if args.skip_ramp_small else ramp_run(slices.ramp_small, f"ramp-{args.small}")
    large = ramp_run(slices.ramp_large, f"ramp-{args.large}")
    runs += [r for r in (small, large) if r]
    best_large = sustained(large)
    best_small = sustained(small) if small else None
    base = round(max(0.5, (best_large.rate if best_large else ramp.base_rate) / 10), 2)
    burst_opts = SimpleNamespace(base_rate=base, step_seconds=args.burst_seconds)
    users_before = user_count(cfg, args.large)
    burst_start, burst_population = slices.warm_and_burst
    log(f"burst from {base}/s drawing from {burst_population:,} accounts")
    burst = run_shape(
        cfg,
        "burst",
        "burst",
        burst_phases(burst_opts),
        burst_population,
        {
            "base-rate": str(base),
            "step-seconds": str(args.burst_seconds),
            "hold-fraction": "0.2",
            "population-start": str(burst_start),
            **extra,
        },
        args.data,
        min(5.0, args.burst_seconds / 6),
    )
    runs.append(burst)
    users_after = user_count(cfg, args.large)
    held, held_ok, held_problems = refresh_held(cfg, burst.held)
    baseline_p95 = burst.windows[0].p95
    recovery = recovery_seconds(burst, baseline_p95)

    results = BenchResults(
        began=began,
        cores=cores,
        ceiling=ceiling,
        ceiling_1=ceiling_1,
        cffi_ms=cffi_ms,
        iterations=iterations,
        seeds=seeds,
        warm=warm,
        small=small,
        large=large,
        best_small=best_small,
        best_large=best_large,
        burst=burst,
        users_before=users_before,
        users_after=users_after,
        held=held,
        held_ok=held_ok,
        held_problems=held_problems,
        recovery=recovery,
        runs=runs,
    )
    write_report(args, cfg, results)
    return 0


@dataclass(frozen=True)
class BenchResults:
    """Everything one `bizid load bench` run measured: what `write_report` turns into the report."""

    began: dt.datetime
    cores: int
    ceiling: float
    ceiling_1: float
    cffi_ms: float
    iterations: int
    seeds: list[str]
    warm: list[warmup.Chunk]
    small: Run | None
    large: Run
    best_small: Window | None
    best_large: Window | None
    burst: Run
    users_before: int
    users_after: int
    held: int
    held_ok: int
    held_problems: list[str]
    recovery: float | None
    runs: list[Run]


def write_report(args: argparse.Namespace, cfg: Settings, results: BenchResults) -> None:
    (
        began,
        cores,
        ceiling,
        ceiling_1,
        cffi_ms,
        iterations,
        seeds,
        warm,
        best_small,
        best_large,
        burst,
        users_before,
        users_after,
        held,
        held_ok,
        held_problems,
        recovery,
        runs,
    ) = (
        results.began,
        results.cores,
        results.ceiling,
        results.ceiling_1,
        results.cffi_ms,
        results.iterations,
        results.seeds,
        results.warm,
        results.best_small,
        results.best_large,
        results.burst,
        results.users_before,
        results.users_after,
        results.held,
        results.held_ok,
        results.held_problems,
        results.recovery,
        results.runs,
    )
    m = machine()
    m["postgresql"] = postgres_version(cfg)
    peak = burst.windows[2]
    kc_cores = best_large.cpu.get("keycloak", float("nan")) if best_large else float("nan")
    rate = best_large.rate if best_large else float("nan")
    recovered = f"{recovery:.0f} s" if recovery is not None else "not within the run"
    lines = [
        "# Load benchmark",
        "",
        f"Generated by `bizid load bench` (loadtests/bench.py) on {began:%Y-%m-%d %H:%M} UTC. Command:",
        "",
        "```",
        "bizid load bench " + " ".join(sys.argv[3:] if sys.argv[1:3] == ["load", "bench"] else sys.argv[1:]),
        "```",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in m.items()],
        f"| population | {args.large:,} accounts in the realm; 70% Prime, 20% Member, 10% Entry |",
        "",
        "Locust runs on the same cores as Keycloak, PostgreSQL and OPA (its CPU is in every table): figures"
        " are for this box under those conditions. Each run draws accounts uniformly at random from its own"
        " slice of the population (a TOTP code may not be used twice, so no two runs in a row share"
        f" accounts): the small ramp from {args.small:,} accounts, which fit Keycloak's user cache (10,000"
        f" entries), the large ramp from {args.large // 2:,}, where nearly every sign-in misses every cache."
        " Arrivals are a Poisson stream at the offered rate (loadtests/pacing.py).",
        "",
        "## Summary",
        "",
        "| figure | value | aim |",
        "|---|---|---|",
        f"| ceiling: Argon2 hashes/s (Keycloak's BouncyCastle, {cores} threads,"
        f" m=7168 KiB, t={iterations}, p=1)"
        f" | {ceiling:.1f}, best of 3 JVMs ({ceiling_1:.1f} on 1 thread; C reference {cffi_ms:.1f} ms/hash)"
        " | |",
        f"| sustained sign-ins/s at {args.large:,} accounts (0 errors, p95 < {P95_LIMIT_MS:.0f} ms)"
        f" | {fmt(rate, 1)} | |",
        f"| ... per Keycloak core (Keycloak used {fmt(kc_cores, 2)} cores) | {fmt(rate / kc_cores, 1)}"
        f" | Keycloak's sizing: {KEYCLOAK_SIZING_PER_VCPU:.0f}/vCPU |",
        f"| ... as a fraction of the ceiling | {fmt(rate / ceiling, 2)} | >= 0.6 |",
        f"| ... CPU per sign-in at that rate, ms: {cpu_budget(best_large)} | | |",
    ]
    if best_small:
        lines.append(
            f"| scale: sustained at {args.large:,} / at {args.small:,} | {fmt(rate / best_small.rate, 2)}"
            f" ({fmt(rate, 1)} / {best_small.rate:.1f}) | >= 0.95 |"
        )
    lines += [
        f"| burst: offered at 50x | {peak.phase.rate:.0f}/s | |",
        f"| burst: admitted sign-ins/s at 50x | {peak.rate:.1f} | |",
        f"| burst: shed (503) requests at 50x, their median latency | {peak.shed}, {fmt(peak.shed_ms_p50)} ms"
        " | explicit and fast |",
        f"| burst: timeouts / other errors at 50x | {peak.timeouts} / {peak.errors} | 0 / 0 |",
        f"| burst: admitted sign-in p99 at 50x | {fmt(peak.p99)} ms | < {BURST_P99_LIMIT_MS:.0f} ms |",
        f"| burst: back to baseline latency after | {recovered} | < {RECOVERY_LIMIT_S:.0f} s |",
        f"| burst: seeded accounts before / after | {users_before:,} / {users_after:,} | equal |",
        f"| burst: sessions held open during the burst that still refresh | {held_ok} / {held}"
        f"{' (' + '; '.join(held_problems) + ')' if held_problems else ''} | all |",
        "",
        "A step passes with zero failed requests (shed and timeouts included), sign-in p95 under"
        f" {P95_LIMIT_MS:.0f} ms and at least 90% of the offered rate achieved. `sign-in` is the whole"
        " browser flow from the authorization request to the tokens (authorize, login form, password, TOTP"
        " for Prime and Member, code exchange); each visit then also calls userinfo, refreshes, signs in at a"
        f" second RP by SSO and logs out{' (not in this run: --signin-only)' if args.signin_only else ''}.",
        "Each simulated user paces itself at"
        f" {PER_USER_RATE} visits/s; users = offered rate / {PER_USER_RATE}.",
        "",
    ]
    if seeds:
        lines += ["## Seeding in this run", "", *[f"- {s}" for s in seeds], ""]
    lines += [
        "## Warm-up",
        "",
        "Sign-ins from 4 threads until Keycloak's CPU per sign-in settles (loadtests/warmup.py says why):",
        "",
        "| chunk | sign-ins | per s | Keycloak CPU ms per sign-in | errors |",
        "|---|---|---|---|---|",
        *[
            f"| {n} | {c.visits} | {c.rate:.1f} | {c.keycloak_ms:.0f} | {c.errors}"
            f"{' (' + c.first_error + ')' if c.first_error else ''} |"
            for n, c in enumerate(warm, 1)
        ],
        "",
        f"Settled: {'yes' if warmup.settled(warm) else 'no (stopped at --warmup-chunks)'}.",
        "",
    ]
    for run in runs:
        lines += [
            f"## {run.label} ({run.population:,} accounts)",
            "",
            f"`{run.command}`",
            "",
            *window_table(run),
            "",
        ]
    lines += [
        "Plots (throughput, p50/p95/p99 over time, errors, CPU per process): [load.html](load.html).",
        "Raw samples: `.bizid/load/bench/<run>/samples-*.csv` (one line per request).",
        "",
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines))
    page = [
        "<!doctype html><html><head><meta charset='utf-8'><title>bizid load benchmark</title>",
        "<style>body{font-family:sans-serif;max-width:900px;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 6px;font-size:12px}</style></head><body>",
        "<h1>bizid load benchmark</h1>",
        f"<p>{began:%Y-%m-%d %H:%M} UTC. Summary and tables: load.md.</p>",
        *[run_html(r) for r in runs],
        "</body></html>",
    ]
    args.out.with_suffix(".html").write_text("\n".join(page))
    print(f"bench: wrote {args.out} and {args.out.with_suffix('.html')}", file=sys.stderr)
