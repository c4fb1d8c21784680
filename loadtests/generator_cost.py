"""The load generator's own CPU per sign-in: the scenario's user (BareSession, `bare`) against the same
journey on LeanSession (`lean`, loadtests/lean_user.py) or HttpUser (`requests`, loadtests/requests_user.py),
run alternately against the local platform.

    python -m loadtests.generator_cost --runs 3 --users 4 --seconds 40 --clients bare,lean
    python -m loadtests.generator_cost --runs 3 --clients bare       # the scenario's user only
    python -m loadtests.generator_cost --paired 6                    # LeanSession vs BareSession, one process

Each run is one headless Locust process, sign-in only (authorize, login form, password, TOTP for Prime and
Member, code exchange with PKCE, every token check, logout), at `--users` × 0.5 visits/s. The CPU is read
from /proc like the benchmark's (loadtests/cpu.py: utime + stime of the Locust process), from 5 s after the
test started, and divided by the sign-ins that completed in the window; Locust's start-up (imports, the
definitions) is left out. Two windows are reported: "to the end" (until the process exits, the figure of
earlier sessions) and "steady" (until 1 s before the run ends): Locust's stop (its summary tables, the
interpreter's exit) costs 0.2-0.3 s of CPU once per process, which at 2 sign-ins/s over a 40 s run is as
much as all the sign-ins together; the steady figure is what the generator takes per sign-in while a load
runs. Runs alternate (bare, lean, bare, …) and each draws from its own
slice of the seeded population (a TOTP code is refused the second time). The machine may be shared: CPU
per sign-in is the figure to compare, not rates or latencies. Loopback only, bounded like every load run.

Locust's fixed costs (its runner, statistics, the samples file) are charged to the few sign-ins a shared
two-core box completes; the script also measures the journey alone (40 sign-ins in a row in one process, no
runner) for each client: the generator's own cost per sign-in.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from loadtests import population as pop
from loadtests.cpu import CpuSampler
from scripts.settings import REPO_ROOT

LOCUSTFILES = {
    "bare": "loadtests/locustfile.py",
    "lean": "loadtests/lean_user.py",
    "requests": "loadtests/requests_user.py",
}
"""bare: the scenario's user (BareSession); lean: the same user on LeanSession (geventhttpclient), the
client before; requests: the HttpUser before that. `fast` is accepted for `bare` (the scenario's user)."""
SETTLE_SECONDS = 5.0
STEADY_MARGIN_SECONDS = 1.0
"""The steady window ends this long before the run's end, before Locust stops its users."""


@dataclass(frozen=True)
class Run:
    client: str
    signins: int
    errors: int
    cpu_seconds: float
    first_errors: tuple[str, ...] = ()
    steady_signins: int = 0
    steady_cpu_seconds: float = 0.0
    stop_cpu_seconds: float = 0.0

    @property
    def cpu_ms_per_signin(self) -> float:
        return 1000 * self.cpu_seconds / self.signins if self.signins else float("nan")

    @property
    def steady_ms_per_signin(self) -> float:
        """CPU per sign-in while the load runs (settled start to 1 s before the end): what the generator
        takes from the platform's cores per sign-in, without Locust's one-off stop (its summary tables,
        the interpreter's exit), which `cpu_ms_per_signin` charges to the run's few sign-ins."""
        return 1000 * self.steady_cpu_seconds / self.steady_signins if self.steady_signins else float("nan")


def _signins(samples: Path, since: float, until: float) -> tuple[int, int, tuple[str, ...]]:
    ok = errors = 0
    details: list[str] = []
    for path in samples.glob("samples-*.csv"):
        with path.open() as f:
            for row in csv.DictReader(f):
                if row["name"] != "sign-in" or not since <= float(row["t"]) <= until:
                    continue
                if row["outcome"] == "ok":
                    ok += 1
                else:
                    errors += 1
                    if len(details) < 3:
                        details.append(row["detail"][:200])
    return ok, errors, tuple(details)


def run_once(client: str, users: int, seconds: int, population: int, start: int) -> Run:
    with tempfile.TemporaryDirectory(prefix="bizid-gen-") as tmp:
        samples = Path(tmp)
        cmd = [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(REPO_ROOT / LOCUSTFILES[client]),
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(users),
            "--run-time",
            f"{seconds}s",
            "--signin-only",
            "--population",
            str(population),
            "--population-start",
            str(start),
            "--samples-dir",
            str(samples),
            "--only-summary",
            "--stop-timeout",
            "30",
        ]
        process = subprocess.Popen(cmd, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        cpu = CpuSampler({"locust": [process.pid]})
        while not (samples / "started").exists():
            if process.poll() is not None:
                raise SystemExit(f"locust exited before starting: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
            time.sleep(0.2)
        started = float((samples / "started").read_text())
        time.sleep(SETTLE_SECONDS)
        since, before = time.time(), cpu.totals()["locust"]
        last = steady = (since, before)
        steady_end = started + seconds - STEADY_MARGIN_SECONDS
        while process.poll() is None:
            totals = cpu.totals()
            if "locust" in totals and process.poll() is None:
                last = (time.time(), totals["locust"])
                if last[0] <= steady_end:
                    steady = last
            time.sleep(0.25)
        process.wait()
        until, after = last
        ok, errors, details = _signins(samples, since, until)
        steady_ok, _, _ = _signins(samples, since, steady[0])
        return Run(
            client,
            ok,
            errors,
            after - before,
            details,
            steady_signins=steady_ok,
            steady_cpu_seconds=steady[1] - before,
            stop_cpu_seconds=after - steady[1],
        )


def journey_cost(client: str, start: int, count: int) -> float:
    """CPU ms per sign-in of the journey alone (no Locust runner, statistics or pacing): `count` sign-ins in
    a row, one simulated browser, over FastHttpSession or requests; runs in a fresh process (gevent)."""
    code = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import sys; from loadtests.generator_cost import _journey_in_process\n"
        f"print(_journey_in_process({client!r}, {start}, {count}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"journey measurement failed: {done.stderr[-2000:]}")
    return float(done.stdout.strip().splitlines()[-1])


def _journey_in_process(client: str, start: int, count: int) -> float:
    from typing import Any, cast

    import requests
    from locust.event import Events

    from loadtests import locustfile
    from loadtests.journey import Journey, rp_clients
    from realm import loader

    cfg = locustfile.CFG
    defs = loader.load()
    session: Any = requests.Session()
    if client in ("bare", "fast"):
        session = locustfile.platform_session(Events().request)  # type: ignore[no-untyped-call]
    elif client == "lean":
        session = locustfile.lean_session(Events().request)  # type: ignore[no-untyped-call]
    journey = Journey(
        cast(Any, session), cfg, rp_clients(cfg, defs), {r.client_id for r in defs.rps if r.pairwise_sub}
    )
    journey.visit(start, full=False)  # connection and imports warm
    began = time.process_time()
    for index in range(start + 1, start + 1 + count):
        journey.visit(index, full=False)
    return 1000 * (time.process_time() - began) / count


PAIRED = ("lean", "bare")
"""The paired comparison: LeanSession (geventhttpclient, the client before) against BareSession (now)."""


def paired_cost(start: int, rounds: int, per_round: int = 10) -> dict[str, list[float]]:
    """CPU ms per sign-in of the journey over LeanSession (geventhttpclient's HTTPClient, the client before
    BareSession) and over BareSession, interleaved in one process (`per_round` sign-ins each, order
    alternated), so both see the same machine load and caches: a paired comparison that a shared box
    cannot skew towards one side. Runs in a fresh process (gevent)."""
    code = (
        "from gevent import monkey; monkey.patch_all()\n"
        "import json; from loadtests.generator_cost import _paired_in_process\n"
        f"print(json.dumps(_paired_in_process({start}, {rounds}, {per_round})))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"paired measurement failed: {done.stderr[-2000:]}")
    result: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _paired_in_process(start: int, rounds: int, per_round: int) -> dict[str, list[float]]:
    from typing import Any, cast

    from locust.event import Events

    from loadtests import locustfile
    from loadtests.journey import Journey, rp_clients
    from realm import loader

    cfg = locustfile.CFG
    defs = loader.load()
    clients, pairwise = rp_clients(cfg, defs), {r.client_id for r in defs.rps if r.pairwise_sub}
    sessions: dict[str, Any] = {
        "lean": locustfile.lean_session(Events().request),  # type: ignore[no-untyped-call]
        "bare": locustfile.platform_session(Events().request),  # type: ignore[no-untyped-call]
    }
    journeys = {name: Journey(cast(Any, sessions[name]), cfg, clients, pairwise) for name in PAIRED}
    index = start
    for journey in journeys.values():  # connections and imports warm
        journey.visit(index, full=False)
        index += 1
    per: dict[str, list[float]] = {name: [] for name in journeys}
    for i in range(rounds):
        for name in list(journeys) if i % 2 == 0 else list(reversed(journeys)):
            began = time.process_time()
            for _ in range(per_round):
                journeys[name].visit(index, full=False)
                index += 1
            per[name].append(1000 * (time.process_time() - began) / per_round)
    return per


def population_problem(needed: int) -> str | None:
    """Why the platform cannot carry a measurement that signs in as accounts [0, needed), or None: checked
    before anything runs, so a stopped platform or a too-small seed is one clear line, not failed sign-ins
    and a traceback mid-run."""
    from keycloak.exceptions import KeycloakError

    from scripts import settings
    from scripts.keycloak_admin import admin_client

    cfg = settings.load()
    name = pop.username(needed - 1)
    try:
        found = admin_client(cfg).get_users({"username": name, "exact": True})
    except KeycloakError as exc:
        return f"cannot ask the platform's Keycloak at {cfg.keycloak_url} ({exc}): start it with `bizid up`"
    if found:
        return None
    return (
        f"{needed:,} seeded accounts needed; {name} is not on the platform:"
        f" run `bizid seed --accounts {needed}`"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m loadtests.generator_cost", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--runs", type=int, default=2, help="runs of each client (alternated)")
    parser.add_argument("--users", type=int, default=4, help="Locust users (0.5 visits/s each)")
    parser.add_argument("--seconds", type=int, default=60, help="length of one run")
    parser.add_argument("--slice", type=int, default=2000, help="accounts per run (own slice each)")
    parser.add_argument("--population-start", type=int, default=0, help="first account of the first slice")
    parser.add_argument(
        "--clients",
        default="bare,lean",
        help="which users to run, comma-separated: bare (the scenario's; also `fast`), lean (LeanSession),"
        " requests (the old HttpUser)",
    )
    parser.add_argument(
        "--paired",
        type=int,
        default=0,
        metavar="ROUNDS",
        help="only the paired journey comparison LeanSession vs BareSession, ROUNDS x 10 sign-ins each",
    )
    args = parser.parse_args(argv)
    if args.paired:
        if not 1 <= args.paired <= 20:
            parser.error("--paired: 1-20 rounds")
        problem = population_problem(args.population_start + 2 + args.paired * 10 * len(PAIRED))
        if problem is not None:
            print(f"generator_cost: --paired {args.paired}: {problem}", file=sys.stderr)
            return 2
        paired = paired_cost(args.population_start, args.paired)
        for name, values in paired.items():
            print(
                f"{name:8} journey, paired: median {statistics.median(values):5.2f} ms/sign-in"
                f" (range {min(values):.2f}-{max(values):.2f}, {len(values)} rounds of 10)"
            )
        return 0
    clients = tuple({"fast": "bare"}.get(c.strip(), c.strip()) for c in args.clients.split(",") if c.strip())
    if not clients or any(c not in LOCUSTFILES for c in clients) or len(set(clients)) != len(clients):
        parser.error(f"--clients: comma-separated, of {', '.join(LOCUSTFILES)} (got {args.clients!r})")
    if not (
        1 <= args.runs <= 10 and 1 <= args.users <= 50 and 10 <= args.seconds <= 600 and args.slice >= 100
    ):
        parser.error("runs 1-10, users 1-50, seconds 10-600, slice >= 100")
    needed = args.population_start + args.runs * len(clients) * args.slice + 50 * len(clients)
    problem = population_problem(needed)
    if problem is not None:
        print(
            f"generator_cost: {args.runs} runs x {len(clients)} clients x --slice {args.slice} from"
            f" --population-start {args.population_start}: {problem}",
            file=sys.stderr,
        )
        return 2
    results: list[Run] = []
    start = args.population_start
    for i in range(args.runs):
        for client in clients if i % 2 == 0 else tuple(reversed(clients)):
            run = run_once(client, args.users, args.seconds, args.slice, start)
            start += args.slice
            results.append(run)
            print(
                f"{client:8} sign-ins {run.signins:4} errors {run.errors:3}"
                f" locust CPU {run.cpu_seconds:6.2f} s"
                f" = {run.cpu_ms_per_signin:5.2f} ms/sign-in to the end;"
                f" steady {run.steady_ms_per_signin:5.2f} ms/sign-in"
                f" ({run.steady_signins} sign-ins, {run.steady_cpu_seconds:.2f} s),"
                f" stop {run.stop_cpu_seconds:.2f} s",
                flush=True,
            )
            for detail in run.first_errors:
                print(f"         failed sign-in: {detail}", flush=True)
    for client in clients:
        ms = journey_cost(client, start, 40)
        start += 50
        print(
            f"{client:8} journey alone (40 sign-ins in a row, no Locust runner): {ms:5.2f} ms/sign-in",
            flush=True,
        )
    for client in clients:
        per = [r.cpu_ms_per_signin for r in results if r.client == client]
        steady = [r.steady_ms_per_signin for r in results if r.client == client]
        print(
            f"{client:8} median {statistics.median(per):5.2f} ms/sign-in to the end"
            f" (range {min(per):.2f}-{max(per):.2f});"
            f" steady {statistics.median(steady):5.2f} (range {min(steady):.2f}-{max(steady):.2f})"
        )
    return 1 if any(r.errors for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
