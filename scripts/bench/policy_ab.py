"""Policy decision time, before and after a change: two OPA servers side by side, requests interleaved.

    .venv/bin/python -m scripts.bench.policy_ab --baseline <git-ref> [--requests 2000] [--rounds 3]
        [--baseline-env NAME=VALUE ...] [--candidate-env NAME=VALUE ...]

On a shared machine absolute latencies drift with the other work; asking the baseline (the policies and the
registry generator of `<git-ref>`) and the working tree alternately, request by request, exposes both to the
same load, so their ratio holds when the figures do not. Both servers are the real OPA binary
(`.bizid/bin/opa`) with the production evaluation flags (`--ignore '*_test.rego'`, decision logs to the
console, discarded); authentication and the system.authz policy are left out, they cost both sides the
same. The figures are OPA's own timers (`?metrics=true`): `timer_rego_query_eval_ns` (evaluation) and
`timer_server_handler_ns` (the whole handler), p50/p99 in microseconds per case of
`scripts.bench.policy.inputs` (the inputs Keycloak sends for a Prime signing in to jGrants). Every answer
is checked to be the same on both sides, so a faster policy that decides differently is reported, not
timed. No thresholds: this prints figures.

`--baseline-env` / `--candidate-env` add to one side's process environment (e.g. `GOGC=100` against
`GOGC=400` with `--candidate <the same ref>`): an OPA process lever measured the same way, same policies.
By default both sides get the environment the platform starts OPA with (`policies.opa_server.RUNTIME_ENV`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from policies.opa_server import RUNTIME_ENV
from realm.platform import REPO_ROOT
from scripts.bench.policy import inputs, percentile

_GENERATE = (
    "import sys; from pathlib import Path; from realm import build, opa_data; "
    "defs, profile = build.load(Path(sys.argv[1]) / 'realm' / 'definitions'); "
    "opa_data.write(defs, Path(sys.argv[2]), profile=profile)"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _checkout(ref: str, directory: Path) -> Path:
    """The policies and realm/ of `ref` ("WORKTREE": this checkout as it is) under `directory`."""
    if ref == "WORKTREE":
        return REPO_ROOT
    target = directory / "baseline"
    target.mkdir()
    archive = subprocess.run(
        ["git", "archive", ref, "policies", "realm"], cwd=REPO_ROOT, capture_output=True, check=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


@contextmanager
def _opa(opa: Path, root: Path, directory: Path, process_env: dict[str, str]) -> Iterator[str]:
    data = directory / "data"
    env = {**os.environ, "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, "-c", _GENERATE, str(root), str(data)], env=env, check=True)
    port = _free_port()
    command = [
        str(opa),
        "run",
        "--server",
        f"--addr=127.0.0.1:{port}",
        "--skip-version-check",
        "--ignore=*_test.rego",
        "--log-format=json",
        "--set=decision_logs.console=true",
        str(root / "policies" / "bizid"),
        str(data),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **RUNTIME_ENV, **process_env},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise SystemExit(f"OPA for {root} did not start")
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def _ask(http: requests.Session, url: str, package: str, body: bytes) -> tuple[Any, float, float]:
    response = http.post(
        f"{url}/v1/data/bizid/{package}/decision?metrics=true",
        data=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    answer = response.json()
    metrics = answer["metrics"]
    return (
        answer.get("result"),
        metrics["timer_rego_query_eval_ns"] / 1000,
        metrics["timer_server_handler_ns"] / 1000,
    )


def _gc_count(http: requests.Session, url: str) -> float:
    """Garbage collections the server's Go runtime has run (its Prometheus metrics; no auth here)."""
    metrics = http.get(f"{url}/metrics", timeout=10).text
    found = re.search(r"^go_gc_duration_seconds_count (\S+)$", metrics, re.MULTILINE)
    return float(found.group(1)) if found else float("nan")


def compare(baseline: str, candidate: str, requests_per_case: int) -> dict[str, dict[str, float]]:
    """p50/p99 of evaluation and handler time per case and side, asking the two servers in turn, and the
    garbage collections each server ran during the case (warm-up included) per 1,000 decisions."""
    http = requests.Session()
    cases = inputs(dt.datetime.now(dt.UTC))
    figures: dict[str, dict[str, float]] = {}
    for name, (package, policy_input) in cases.items():
        gc_start = {"base": _gc_count(http, baseline), "new": _gc_count(http, candidate)}
        body = json.dumps({"input": policy_input}).encode()
        samples: dict[str, list[float]] = {"base_eval": [], "new_eval": [], "base_hdl": [], "new_hdl": []}
        for i in range(requests_per_case + 50):
            order = (
                (("base", baseline), ("new", candidate))
                if i % 2
                else (("new", candidate), ("base", baseline))
            )
            results = {}
            for side, url in order:
                result, evaluation, handler = _ask(http, url, package, body)
                results[side] = result
                if i >= 50:
                    samples[f"{side}_eval"].append(evaluation)
                    samples[f"{side}_hdl"].append(handler)
            if results["base"] != results["new"]:
                raise SystemExit(f"{name}: the decisions differ:\n{results['base']}\n{results['new']}")
        figures[name] = {
            f"{key}_{label}": percentile(values, q)
            for key, values in samples.items()
            for label, q in (("p50", 0.5), ("p99", 0.99))
        }
        for side, url in (("base", baseline), ("new", candidate)):
            collections = _gc_count(http, url) - gc_start[side]
            figures[name][f"{side}_gc"] = collections * 1000 / (requests_per_case + 50)
    return figures


def _env(parser: argparse.ArgumentParser, pairs: list[str]) -> dict[str, str]:
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            parser.error(f"--*-env {pair!r}: expected NAME=VALUE")
        env[name] = value
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", required=True, help="git ref of the policies to compare against")
    parser.add_argument("--candidate", default="WORKTREE", help="git ref, or WORKTREE (default)")
    parser.add_argument("--requests", type=int, default=2000, help="decisions per case and side")
    parser.add_argument("--rounds", type=int, default=1, help="repeat the whole comparison")
    parser.add_argument("--opa", type=Path, default=REPO_ROOT / ".bizid" / "bin" / "opa")
    parser.add_argument(
        "--baseline-env", action="append", default=[], metavar="NAME=VALUE", help="baseline OPA's env"
    )
    parser.add_argument(
        "--candidate-env", action="append", default=[], metavar="NAME=VALUE", help="candidate OPA's env"
    )
    args = parser.parse_args(argv)
    base_env, new_env = _env(parser, args.baseline_env), _env(parser, args.candidate_env)
    with tempfile.TemporaryDirectory(prefix="bizid-policy-ab-") as tmp:
        base_dir, new_dir = Path(tmp) / "base", Path(tmp) / "new"
        base_dir.mkdir()
        new_dir.mkdir()
        base_root = _checkout(args.baseline, base_dir)
        new_root = _checkout(args.candidate, new_dir)
        with (
            _opa(args.opa, base_root, base_dir, base_env) as base_url,
            _opa(args.opa, new_root, new_dir, new_env) as new_url,
        ):
            print(
                f"baseline {args.baseline} {base_env or ''} vs {args.candidate} {new_env or ''}; "
                f"{args.requests} decisions per case and side"
            )
            print(
                "| round | decision | eval p50 before → after | eval p99 before → after "
                "| handler p99 before → after | GCs per 1,000 before → after |"
            )
            print("| --- | --- | --- | --- | --- | --- |")
            for round_no in range(1, args.rounds + 1):
                for name, f in compare(base_url, new_url, args.requests).items():
                    print(
                        f"| {round_no} | {name} | {f['base_eval_p50']:.0f} → {f['new_eval_p50']:.0f} | "
                        f"{f['base_eval_p99']:.0f} → {f['new_eval_p99']:.0f} | "
                        f"{f['base_hdl_p99']:.0f} → {f['new_hdl_p99']:.0f} | "
                        f"{f['base_gc']:.0f} → {f['new_gc']:.0f} |",
                        flush=True,
                    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
