"""Figures for the infrastructure code: resources per stack and the time of the whole infra test suite.

Run from the repository root:  .venv/bin/python -m scripts.bench.infra
Counts come from the real Pulumi program run under mocks (the same graph the tests and Rego rules check);
the suite time is one `pytest tests/infra` run in a subprocess, wall clock, on this machine.
"""

from __future__ import annotations

import collections
import platform
import subprocess
import sys
import time

from infra.config import STACKS
from infra.graph import stack_graph
from realm.platform import REPO_ROOT


def main() -> int:
    print("| stack | regions | cloud resources | per region | components | build under mocks (s) |")
    print("|---|---|---|---|---|---|")
    for stack in STACKS:
        started = time.perf_counter()
        graph = stack_graph(stack)
        elapsed = time.perf_counter() - started
        cloud = graph.cloud_resources()
        per_region = collections.Counter(r.region or "image build" for r in cloud)
        split = ", ".join(f"{region}: {n}" for region, n in sorted(per_region.items()))
        components = sum(1 for r in graph.resources if not r.custom)
        print(f"| {stack} | {len(graph.regions)} | {len(cloud)} | {split} | {components} | {elapsed:.1f} |")

    command = [sys.executable, "-m", "pytest", "tests/infra", "-q", "-p", "no:cacheprovider"]
    started = time.perf_counter()
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr.strip()
    print()
    print(f"infra test suite: {elapsed:.1f} s wall clock ({summary}); exit {result.returncode}")
    print(f"machine: {platform.machine()}, {platform.python_implementation()} {platform.python_version()}")
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
