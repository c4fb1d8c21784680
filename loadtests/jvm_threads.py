"""Keycloak's CPU split by JVM thread kind (/proc/<pid>/task/*): request threads, event loop, the JIT
compilers, the OPA client's threads, GC, rest. The JIT's share tells a young JVM from a warm one: the warm-up
(loadtests/warmup.py) waits for it, the benches (scripts/bench/signin_cpu.py, realm_ab.py) print it."""

from __future__ import annotations

import os

THREAD_KINDS: tuple[tuple[str, str], ...] = (
    ("executor-thread", "executor"),
    ("vert.x-eventloo", "eventloop"),
    ("C2 CompilerThre", "jit"),
    ("C1 CompilerThre", "jit"),
    ("HttpClient-", "jdk-http"),
    ("bizid-opa-deadl", "opa-deadline"),
    ("GC Thread", "gc"),
    ("G1 ", "gc"),
)
"""Thread name prefix (as /proc shows it: 15 characters) → kind; everything else is "other"."""
KINDS = ("executor", "eventloop", "jit", "jdk-http", "opa-deadline", "gc", "other")


def thread_kind(name: str) -> str:
    for prefix, kind in THREAD_KINDS:
        if name.startswith(prefix):
            return kind
    return "other"


def _descendants(roots: list[int]) -> list[int]:
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            parents[int(entry)] = int(stat[stat.rindex(")") + 2 :].split()[1])
    found, frontier = set(roots), list(roots)
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in found:
                found.add(child)
                frontier.append(child)
    return sorted(found)


def thread_cpu(roots: list[int]) -> dict[tuple[int, int], tuple[str, float]]:
    """(pid, tid) → (kind, CPU seconds) of every thread of the processes under `roots`."""
    tick = os.sysconf("SC_CLK_TCK")
    threads: dict[tuple[int, int], tuple[str, float]] = {}
    for pid in _descendants(roots):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            name = stat[stat.index("(") + 1 : stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2 :].split()
            threads[(pid, int(tid))] = (thread_kind(name), (int(fields[11]) + int(fields[12])) / tick)
    return threads


def split_by_kind(
    before: dict[tuple[int, int], tuple[str, float]], after: dict[tuple[int, int], tuple[str, float]]
) -> dict[str, float]:
    """CPU seconds per thread kind between two readings (a thread that ended meanwhile is not counted)."""
    split = dict.fromkeys(KINDS, 0.0)
    for key, (kind, seconds) in after.items():
        split[kind] += seconds - before.get(key, (kind, 0.0))[1]
    return split
