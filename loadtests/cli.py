"""CLI of the load-test work: `bizid seed` and `bizid load bench` / `bizid load baseline` / `bizid load run`.

scripts/cli.py wires `register(subparsers)` in beside the other folders' commands. Without it:
`python -m loadtests.cli seed --accounts 1000000`, `python -m loadtests.cli load bench`.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from loadtests import seed
from scripts import arguments, settings
from scripts.settings import REPO_ROOT

SHAPES = ("step", "steady", "burst", "soak")


def _own_options(args: argparse.Namespace, extra: list[str]) -> list[str]:
    """`--population` or `--workers` given after the shape lands in the pass-through list
    (argparse.REMAINDER): take it out and check it like the option it is, so `load run steady --population -5`
    is refused, not run."""
    rest = extra[1:] if extra[:1] == ["--"] else list(extra)
    for i, item in enumerate(rest):
        for option, parse in (("--population", arguments.positive_int), ("--workers", _workers)):
            if item == option or item.startswith(f"{option}="):
                value = item.split("=", 1)[1] if "=" in item else (rest[i + 1] if i + 1 < len(rest) else "")
                try:
                    setattr(args, option.removeprefix("--"), parse(value))
                except argparse.ArgumentTypeError as exc:
                    raise ValueError(f"argument {option}: {exc}") from None
                del rest[i : i + (1 if "=" in item else 2)]
                return _own_options(args, rest)
    return rest


def _workers(text: str) -> int:
    from loadtests.distributed import MAX_WORKERS

    value = arguments.positive_int(text)
    if value > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_WORKERS} local workers (got {value})")
    return value


def _run_cmd(args: argparse.Namespace, extra: list[str]) -> int:
    """Run one shape headless with CSV and HTML output (a thin wrapper over the locust command)."""
    extra = _own_options(args, extra)
    out = settings.load().paths.load / args.shape
    out.mkdir(parents=True, exist_ok=True)
    locust_args = [
        "-f",
        str(REPO_ROOT / "loadtests" / "shapes" / f"{args.shape}.py"),
        "--headless",
        "--csv",
        str(out / "run"),
        "--csv-full-history",
        "--html",
        str(out / "report.html"),
        "--samples-dir",
        str(out / "samples"),
        "--population",
        str(args.population),
        *extra,
    ]
    if args.workers:
        return _distributed(locust_args, args.workers, out)
    cmd = [sys.executable, "-m", "locust", *locust_args]
    print("+", " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, cwd=REPO_ROOT, check=False).returncode


def _distributed(locust_args: list[str], workers: int, out: Path) -> int:
    """One master and `workers` local worker processes (loadtests/distributed.py); then the master's
    aggregated counts are checked against the workers' own samples."""
    from loadtests import distributed

    result = distributed.run(locust_args, workers, out / "samples", timeout=4 * 3600 + 60)
    comparison = distributed.compare(out / "run_stats.csv", result.samples)
    print(
        f"master counted {sum(comparison.master.values())} requests, the workers"
        f" {sum(comparison.summed.values())} ({len(comparison.workers)} sample files)",
        file=sys.stderr,
    )
    for key, (master, summed) in comparison.mismatches.items():
        print(f"bizid: mismatch in {key}: master {master}, workers {summed}", file=sys.stderr)
    return result.returncode or (1 if comparison.mismatches else 0)


def _bench_cmd(args: argparse.Namespace) -> int:
    from loadtests import bench

    return bench.main(args)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    seed.add_seed_parser(sub)
    load = sub.add_parser("load", help="load tests of the local platform (Locust)")
    load_sub = load.add_subparsers(dest="load_command", required=True)

    run = load_sub.add_parser(
        "run",
        help="run one load shape headless (CSV + HTML in <state folder>/load/<shape>/, state: .bizid)",
        description="Extra options after -- go to Locust, e.g. -- --base-rate 10 --step-seconds 60",
    )
    run.add_argument("shape", choices=SHAPES)
    run.add_argument(
        "--population", type=arguments.positive_int, default=10_000, help="accounts to draw from (seeded)"
    )
    run.add_argument(
        "--workers",
        type=_workers,
        default=0,
        help="Locust's distributed mode: one master and this many local worker processes (loopback)",
    )
    run.set_defaults(func=lambda a: _run_cmd(a, list(a.locust_args)))
    run.add_argument("locust_args", nargs=argparse.REMAINDER, help="passed to locust")

    bench_p = load_sub.add_parser(
        "bench", help="the standard benchmark: ceiling, sustained, scale, burst; writes docs/bench/load.md"
    )
    from loadtests import bench

    bench.add_arguments(bench_p)
    bench_p.set_defaults(func=_bench_cmd)

    from loadtests import baseline

    baseline_p = load_sub.add_parser(
        "baseline",
        help="bizid beside a stock Keycloak realm on the same server: >= 3 alternated runs each, medians"
        " and ranges, CPU per sign-in vs one Argon2 hash; writes docs/bench/baseline.md",
    )
    baseline.add_arguments(baseline_p)
    baseline_p.set_defaults(func=lambda a: baseline.main(a))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.cli")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
