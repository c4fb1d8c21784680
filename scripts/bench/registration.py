"""Issue 13 §4: what a registration surge costs the sign-in rate, measured on the local platform.

    .venv/bin/python -m scripts.bench.registration [--base-rate 0.4] [--step-seconds 20] [--share 0.5]

Two runs of the rumour shape (loadtests/shapes/rumour.py: baseline, 10x, 50x, recovery) in one session on the
same platform: sign-ins only, then with `--share` of the arriving users registering (form, verification mail
through the real Mailpit, link, tokens). Per phase: sign-ins/s and registrations/s that completed, sign-in
p95, failures. Loopback only, bounded by the phases, stops by itself. Each registration creates a real Entry
account (`surge-…`): run it on a platform you can throw away. Sign-ins draw from the seeded population
(`bizid load seed`); the script refuses to start without one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
from pathlib import Path
from types import SimpleNamespace

import psycopg

from loadtests import bench, seed
from loadtests import population as pop
from loadtests.phases import burst_phases
from scripts import settings
from scripts.settings import REPO_ROOT, Settings

SIGN_IN = "sign-in"
REGISTRATION = "registration"


def seeded_population(cfg: Settings) -> int:
    """One past the highest seeded account index (0: none seeded)."""
    with psycopg.connect(seed.conninfo(cfg)) as conn:
        row = conn.execute(
            "SELECT username FROM user_entity WHERE username LIKE %s ORDER BY username DESC LIMIT 1",
            (f"{pop.USERNAME_PREFIX}%",),
        ).fetchone()
    return int(row[0].removeprefix(pop.USERNAME_PREFIX)) + 1 if row else 0


def _phase_rows(run: bench.Run) -> list[str]:
    rows = []
    for w in run.windows:
        seconds = max(w.end - w.start, 1e-9)
        inside = [s for s in run.samples if w.start <= s.t < w.end]
        signins = [s for s in inside if s.name == SIGN_IN]
        regs = [s for s in inside if s.name == REGISTRATION]
        ok_ms = [s.ms for s in signins if s.outcome == "ok"]
        p95 = statistics.quantiles(ok_ms, n=20)[18] if len(ok_ms) >= 20 else float("nan")
        failed = sum(1 for s in signins + regs if s.outcome != "ok")
        rows.append(
            f"| {run.label} | {w.phase.name} | {w.phase.rate:g} | "
            f"{sum(1 for s in signins if s.outcome == 'ok') / seconds:.2f} | "
            f"{sum(1 for s in regs if s.outcome == 'ok') / seconds:.2f} | {bench.fmt(p95)} | {failed} |"
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.bench.registration", description=__doc__)
    parser.add_argument("--base-rate", type=float, default=0.4, help="users/s arriving in the baseline")
    parser.add_argument("--step-seconds", type=int, default=20, help="seconds per burst step")
    parser.add_argument("--share", type=float, default=0.5, help="share of arriving users that register")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "build" / "bench-registration")
    parser.add_argument("--report", type=Path, default=REPO_ROOT / "docs" / "bench" / "registration.md")
    args = parser.parse_args(argv)
    if not 0.0 < args.share < 1.0:
        parser.error(f"--share must be between 0 and 1 (got {args.share})")
    if not 0.0 < args.base_rate <= 2.0 or not 5 <= args.step_seconds <= 120:
        parser.error("--base-rate must be in (0, 2] and --step-seconds in [5, 120] (bounded load)")
    cfg = settings.load()
    population = seeded_population(cfg)
    if population < 100:
        print(f"bizid: no seeded population on {cfg.keycloak_url} (found {population}): `bizid load seed`")
        return 2
    phases = burst_phases(SimpleNamespace(base_rate=args.base_rate, step_seconds=args.step_seconds))
    base = {"base-rate": str(args.base_rate), "step-seconds": str(args.step_seconds)}
    runs = [
        bench.run_shape(
            cfg, label, "rumour", phases, population, {**base, "registration-share": share}, args.out, 2
        )
        for label, share in (("sign-ins only", "0"), (f"{args.share:g} registering", str(args.share)))
    ]
    lines = [
        "# Benchmark: the rumour surge (registrations on top of sign-ins)",
        "",
        f"Command: `.venv/bin/python -m scripts.bench.registration --base-rate {args.base_rate:g} "
        f"--step-seconds {args.step_seconds} --share {args.share:g}` ({dt.date.today().isoformat()}, "
        f"{bench.machine().get('cpu', 'this machine')}, seeded population {population}). One run of each, "
        "sign-ins-only first: a single run, not a median.",
        "",
        "| run | phase | users/s arriving | sign-ins/s ok | registrations/s ok | sign-in p95 (ms) | failed |",
        "|---|---|---|---|---|---|---|",
        *(row for run in runs for row in _phase_rows(run)),
        "",
        "Commands run:",
        "",
        *(f"    {run.command}" for run in runs),
        "",
    ]
    args.report.write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
