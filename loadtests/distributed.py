"""Locust's distributed mode as local processes: one master (aggregates, runs the shape) and N workers (run
the users), all on loopback: the path a load tester takes when one process or machine is not enough
(docs/load.md "Distributed mode").

    bizid load run steady --workers 2 -- --base-rate 2 --shape-seconds 60
    python -m loadtests.distributed --workers 2 -- -f loadtests/locustfile.py -u 4 -r 4 -t 30s --signin-only

The master listens on 127.0.0.1 only, on a free port, with `--expect-workers N` and `--bizid-workers N` (each
worker draws its own slice of the population: `i % N == worker index`, so no two workers present the same
account's TOTP code). Every worker writes its own per-request samples (`samples-<pid>.csv` in the samples
folder); `compare` checks the master's aggregated counts against them. The master stops by itself (run time
or shape, both bounded by the locustfile); workers still alive after it are stopped.
"""

from __future__ import annotations

import argparse
import csv
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from scripts.settings import REPO_ROOT

MAX_WORKERS = 8
"""A two-core box runs at most a few; more workers than cores only adds scheduling."""
WORKER_GRACE_SECONDS = 30.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _locustfile(args: Sequence[str]) -> list[str]:
    """The `-f <file>` of the Locust arguments (workers need the same file); refuses a run without one."""
    for i, item in enumerate(args):
        if item in ("-f", "--locustfile") and i + 1 < len(args):
            return [item, args[i + 1]]
        if item.startswith("--locustfile="):
            return [item]
    raise ValueError("distributed run: give the locustfile (-f <file>) among the Locust arguments")


@dataclass(frozen=True)
class Result:
    returncode: int
    worker_returncodes: list[int]
    samples: Path


def run(
    locust_args: Sequence[str],
    workers: int,
    samples: Path,
    timeout: float,
    python: str = sys.executable,
) -> Result:
    """Start N workers and the master (headless, with `locust_args`), wait for the master to finish (at most
    `timeout` seconds, then it is stopped), stop the workers that are left."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ValueError(f"--workers must be between 1 and {MAX_WORKERS} (got {workers})")
    locustfile = _locustfile(locust_args)
    samples.mkdir(parents=True, exist_ok=True)
    port = free_port()
    base = [python, "-m", "locust"]
    master_cmd = [
        *base,
        *locust_args,
        "--master",
        "--master-bind-host=127.0.0.1",
        f"--master-bind-port={port}",
        f"--expect-workers={workers}",
        "--headless",
        f"--bizid-workers={workers}",
    ]
    worker_cmd = [
        *base,
        *locustfile,
        "--worker",
        "--master-host=127.0.0.1",
        f"--master-port={port}",
        f"--samples-dir={samples}",
    ]
    print("+", " ".join(master_cmd), file=sys.stderr)
    master = subprocess.Popen(master_cmd, cwd=REPO_ROOT)
    started: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(workers):
            started.append(subprocess.Popen(worker_cmd, cwd=REPO_ROOT, start_new_session=True))
        try:
            code = master.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            master.send_signal(signal.SIGINT)  # Locust stops the test and writes its CSV on SIGINT
            code = master.wait(timeout=WORKER_GRACE_SECONDS)
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()
        deadline = time.monotonic() + WORKER_GRACE_SECONDS
        for worker in started:
            try:
                worker.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(timeout=10)
    return Result(code, [w.returncode for w in started], samples)


@dataclass(frozen=True)
class Comparison:
    master: Counter[str]
    """Request count per "<type> <name>" in the master's aggregated statistics (its `_stats.csv`)."""
    workers: list[Counter[str]]
    """The same counted from each worker's own samples."""

    @property
    def summed(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.workers:
            total.update(counts)
        return total

    @property
    def mismatches(self) -> dict[str, tuple[int, int]]:
        summed = self.summed
        return {
            key: (self.master.get(key, 0), summed.get(key, 0))
            for key in sorted(set(self.master) | set(summed))
            if self.master.get(key, 0) != summed.get(key, 0)
        }


def master_counts(stats_csv: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    with stats_csv.open() as f:
        for row in csv.DictReader(f):
            if row["Name"] != "Aggregated":
                counts[f"{row['Type']} {row['Name']}"] += int(row["Request Count"])
    return counts


def worker_counts(samples: Path) -> list[Counter[str]]:
    result = []
    for path in sorted(samples.glob("samples-*.csv")):
        counts: Counter[str] = Counter()
        with path.open() as f:
            for row in csv.DictReader(f):
                counts[f"{row['type']} {row['name']}"] += 1
        result.append(counts)
    return result


def compare(stats_csv: Path, samples: Path) -> Comparison:
    return Comparison(master_counts(stats_csv), worker_counts(samples))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.distributed", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--workers", type=int, default=2, help=f"worker processes (1-{MAX_WORKERS})")
    parser.add_argument("--out", type=Path, default=Path("out/distributed"), help="CSV, report and samples")
    parser.add_argument(
        "--timeout", type=float, default=4 * 3600 + 60, help="stop the master after this long"
    )
    parser.add_argument("locust_args", nargs=argparse.REMAINDER, help="-- then Locust's arguments (with -f)")
    args = parser.parse_args(argv)
    rest = args.locust_args[1:] if args.locust_args[:1] == ["--"] else args.locust_args
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        result = run(
            [*rest, "--csv", str(args.out / "run")], args.workers, args.out / "samples", args.timeout
        )
    except ValueError as exc:
        parser.error(str(exc))
    comparison = compare(args.out / "run_stats.csv", result.samples)
    master, summed = sum(comparison.master.values()), sum(comparison.summed.values())
    print(f"master counted {master} requests; workers {summed}")
    for key, (master, summed) in comparison.mismatches.items():
        print(f"MISMATCH {key}: master {master}, workers {summed}", file=sys.stderr)
    return result.returncode or (1 if comparison.mismatches else 0)


if __name__ == "__main__":
    sys.exit(main())
