"""CPU per sign-in of the local platform over a bounded number of sign-ins; Keycloak's OPA connections.

    .venv/bin/python -m scripts.bench.signin_cpu [--signins 300] [--chunks 3] [--threads 2] [--label before]

Runs `--chunks` chunks of `--signins` sign-ins each (the Locust journey: authorize, password, TOTP, token,
logout; accounts of a seeded population, `bizid seed --accounts N`) and prints, per chunk, the CPU time in
ms per sign-in of Keycloak, OPA and PostgreSQL (from /proc, process groups as `bizid load bench` reads
them) and how many TCP connections to OPA were opened meanwhile (sockets to OPA's port in TIME-WAIT or
newly ESTABLISHED: a client that reuses its connection opens none after the first), and Keycloak's CPU
split by JVM thread kind (/proc/<pid>/task/*: request threads, event loop, JIT compilers, OPA client I/O
threads, GC, rest), so that the JIT of a young JVM does not hide a lever's effect. CPU time, not rates:
on a shared machine it is the figure that other work disturbs least. Compare levers by running this before
and after, interleaved, on a warm Keycloak. No thresholds: it prints figures.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess

from loadtests.cpu import CpuSampler, process_groups
from loadtests.journey import AccountPicker
from loadtests.jvm_threads import split_by_kind, thread_cpu
from loadtests.warmup import run_chunk
from scripts import settings


def opa_sockets(port: int) -> set[tuple[str, str]]:
    """(state, client address) of every TCP connection to OPA's port, from either end: a connection that
    the server closed leaves its TIME-WAIT on OPA's side, one the client closed on Keycloak's."""
    out = subprocess.run(["ss", "-tanH"], capture_output=True, text=True, check=True).stdout
    sockets = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 5 or fields[0] == "LISTEN":
            continue
        local, peer = fields[3], fields[4]
        if peer.endswith(f":{port}"):
            sockets.add((fields[0], local))
        elif local.endswith(f":{port}"):
            sockets.add((fields[0], peer))
    return sockets


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--signins", type=int, default=300, help="sign-ins per chunk")
    parser.add_argument("--chunks", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2, help="concurrent user agents")
    parser.add_argument("--population", type=int, default=3000, help="seeded accounts to draw from")
    parser.add_argument("--label", default="", help="printed in every row (e.g. before / after)")
    args = parser.parse_args(argv)
    if not 1 <= args.signins <= 10_000 or not 1 <= args.chunks <= 50 or not 1 <= args.threads <= 16:
        parser.error("--signins 1-10000, --chunks 1-50, --threads 1-16")
    cfg = settings.load()
    port = int(cfg.opa_url.rsplit(":", 1)[1])
    groups = process_groups(cfg)
    cpu = CpuSampler(groups)
    picker = AccountPicker(args.population, start=0)
    keycloak_ms: list[float] = []
    no_jit_ms: list[float] = []
    print(
        "| label | chunk | sign-ins | errors | Keycloak ms CPU/sign-in | without JIT | OPA ms "
        "| PostgreSQL ms | new OPA connections | Keycloak threads, ms/sign-in |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for number in range(1, args.chunks + 1):
        before = cpu.totals()
        threads_before = thread_cpu(groups.get("keycloak", []))
        sockets_before = opa_sockets(port)
        chunk = run_chunk(cfg, picker, args.signins, args.threads, cpu)
        after = cpu.totals()
        split = split_by_kind(threads_before, thread_cpu(groups.get("keycloak", [])))
        opened = {s for s in opa_sockets(port) - sockets_before if s[0] in {"TIME-WAIT", "ESTAB"}}
        per = {k: (after.get(k, 0.0) - before.get(k, 0.0)) / args.signins * 1000 for k in groups}
        per_kind = {k: v / args.signins * 1000 for k, v in split.items()}
        keycloak_ms.append(per.get("keycloak", 0.0))
        no_jit_ms.append(per.get("keycloak", 0.0) - per_kind["jit"])
        kinds = " ".join(f"{k} {v:.1f}" for k, v in per_kind.items() if v >= 0.05)
        print(
            f"| {args.label} | {number} | {chunk.visits} | {chunk.errors} | {per.get('keycloak', 0):.1f} | "
            f"{no_jit_ms[-1]:.1f} | {per.get('opa', 0):.1f} | {per.get('postgres', 0):.1f} | {len(opened)} "
            f"| {kinds} |",
            flush=True,
        )
        if chunk.first_error:
            print(f"  first error: {chunk.first_error}")
    print(
        f"median Keycloak ms CPU per sign-in ({args.label}): {statistics.median(keycloak_ms):.1f}, "
        f"without the JIT threads {statistics.median(no_jit_ms):.1f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
