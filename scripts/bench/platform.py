"""Figures of the local platform and the realm reconciler.

Measures, on a second platform in a temporary state folder with shifted ports (so the usual one keeps
running): a fresh `bizid up` (downloads come from the cache; everything else is installed and started
anew), a warm `bizid up`, resident memory at idle; then `realm plan`/`apply` time and Admin API writes
for the sample realm and for 1,000 generated RPs, and the writes of a no-op apply.

Usage: .venv/bin/python -m scripts.bench.platform [--rps 1000] [--out docs/bench/platform.md]
"""

from __future__ import annotations

import argparse
import os
import platform as host
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from realm import reconcile
from realm.loader import DEFINITIONS_DIR
from scripts import settings as settings_mod
from scripts.settings import KEYCLOAK_VERSION, OPA_VERSION, REPO_ROOT, Settings

PORT_OFFSET = 1000
BENCH_REALM = "bizid-bench"


@dataclass
class Row:
    what: str
    value: str


def _rss_kib(pid: int) -> int:
    """Resident memory of a process and all its descendants."""
    own = subprocess.run(["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True).stdout
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return sum(int(v) for v in own.split()) + sum(_rss_kib(int(child)) for child in children)


def _postgres_rss_kib(cfg: Settings) -> int:
    pid_file = cfg.paths.pgdata / "postmaster.pid"
    return _rss_kib(int(pid_file.read_text().splitlines()[0])) if pid_file.exists() else 0


def _bizid(env: dict[str, str], *args: str) -> float:
    start = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "scripts.cli", *args],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - start


def generated_definitions(target: Path, rp_count: int) -> Path:
    """A copy of the definitions for realm `bizid-bench` with `rp_count` RPs modelled on the samples."""
    shutil.copytree(DEFINITIONS_DIR, target)
    realm_file = target / "realm.yaml"
    realm = yaml.safe_load(realm_file.read_text())
    realm["name"] = BENCH_REALM
    realm_file.write_text(yaml.safe_dump(realm))
    samples = [yaml.safe_load(p.read_text()) for p in sorted((target / "rps").glob("*.yaml"))]
    for path in (target / "rps").glob("*.yaml"):
        path.unlink()
    for i in range(rp_count):
        rp = dict(samples[i % len(samples)])
        rp["client_id"] = f"rp-{i:05d}"
        rp["name"] = f"Generated RP {i}"
        rp["redirect_uris"] = [f"http://127.0.0.1:18900/callback/rp-{i:05d}"]
        (target / "rps" / f"rp-{i:05d}.yaml").write_text(yaml.safe_dump(rp, allow_unicode=True))
    return target


def _timed_apply(cfg: Settings, directory: Path) -> tuple[float, int]:
    start = time.monotonic()
    writes = reconcile.apply_definitions(cfg.target(), cfg.paths.secrets, directory)
    return time.monotonic() - start, writes


def _timed_plan(cfg: Settings, directory: Path) -> tuple[float, int]:
    start = time.monotonic()
    plan = reconcile.plan_definitions(cfg.target(), directory)
    return time.monotonic() - start, len(plan.changes)


@contextmanager
def second_platform() -> Iterator[tuple[Settings, dict[str, str]]]:
    state = Path(tempfile.mkdtemp(prefix="bizid-bench-state-"))
    os.chmod(state, 0o755)
    env = {**os.environ, "BIZID_STATE_DIR": str(state), "BIZID_PORT_OFFSET": str(PORT_OFFSET)}
    saved = {k: os.environ.get(k) for k in ("BIZID_STATE_DIR", "BIZID_PORT_OFFSET")}
    os.environ.update({k: env[k] for k in saved})
    try:
        yield settings_mod.load(), env
    finally:
        subprocess.run(
            [sys.executable, "-m", "scripts.cli", "down"],
            cwd=REPO_ROOT,
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
        )
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(state, ignore_errors=True)


def measure(rp_count: int) -> list[Row]:
    rows: list[Row] = []
    with second_platform() as (cfg, env):
        rows.append(
            Row("fresh `bizid up` (new state; downloads from the cache)", f"{_bizid(env, 'up'):.1f} s")
        )
        rows.append(Row("warm `bizid up` (everything running)", f"{_bizid(env, 'up'):.1f} s"))
        time.sleep(30)
        from scripts import services

        kc = services.read_pid(cfg, "keycloak") or 0
        opa = services.read_pid(cfg, "opa") or 0
        rss = {"Keycloak": _rss_kib(kc), "OPA": _rss_kib(opa), "PostgreSQL": _postgres_rss_kib(cfg)}
        for name, kib in rss.items():
            rows.append(Row(f"resident memory at idle: {name}", f"{kib / 1024:.0f} MiB"))
        rows.append(Row("resident memory at idle: total", f"{sum(rss.values()) / 1024:.0f} MiB"))

        seconds, changes = _timed_plan(cfg, DEFINITIONS_DIR)
        rows.append(
            Row("sample realm: `realm plan` on an applied realm", f"{seconds:.2f} s, {changes} changes")
        )
        seconds, writes = _timed_apply(cfg, DEFINITIONS_DIR)
        rows.append(Row("sample realm: no-op `realm apply`", f"{seconds:.2f} s, {writes} writes"))

        with tempfile.TemporaryDirectory() as tmp:
            generated = generated_definitions(Path(tmp) / "definitions", rp_count)
            seconds, changes = _timed_plan(cfg, generated)
            rows.append(
                Row(f"{rp_count} RPs: `realm plan` on an empty realm", f"{seconds:.2f} s, {changes} changes")
            )
            seconds, writes = _timed_apply(cfg, generated)
            rows.append(Row(f"{rp_count} RPs: first `realm apply`", f"{seconds:.1f} s, {writes} writes"))
            seconds, changes = _timed_plan(cfg, generated)
            rows.append(
                Row(f"{rp_count} RPs: `realm plan` after apply", f"{seconds:.2f} s, {changes} changes")
            )
            seconds, writes = _timed_apply(cfg, generated)
            rows.append(Row(f"{rp_count} RPs: no-op `realm apply`", f"{seconds:.2f} s, {writes} writes"))
    return rows


def render(rows: list[Row], command: str) -> str:
    lines = [
        "## Local platform and realm reconciler",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {os.cpu_count()} cores, {host.machine()}, Python {host.python_version()}; "
        f"Keycloak {KEYCLOAK_VERSION}, OPA {OPA_VERSION}. Measured {time.strftime('%Y-%m-%d')}.",
        "",
        "| what | result |",
        "|---|---|",
        *(f"| {r.what} | {r.value} |" for r in rows),
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rps", type=int, default=1000)
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "docs" / "bench" / "platform.md")
    args = parser.parse_args()
    rows = measure(args.rps)
    text = render(rows, f".venv/bin/python -m scripts.bench.platform --rps {args.rps}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
