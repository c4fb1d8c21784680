"""CPU used by the platform's processes, read from /proc: the load benchmark's per-process columns and the
warm-up's measure of when Keycloak has settled. A process group is a root pid and all its descendants
(kc.sh and its JVM, the postmaster and its backends)."""

from __future__ import annotations

import os
import threading
import time
from collections import defaultdict

from scripts.settings import Settings


class CpuSampler(threading.Thread):
    """Every second: CPU seconds used by each process group (a root pid and all its descendants)."""

    def __init__(self, groups: dict[str, list[int]]) -> None:
        super().__init__(daemon=True)
        self.groups = groups
        self.samples: list[tuple[float, dict[str, float]]] = []
        self.stop_event = threading.Event()
        self.tick = os.sysconf("SC_CLK_TCK")

    @staticmethod
    def _table() -> dict[int, tuple[int, int]]:
        table: dict[int, tuple[int, int]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            fields = stat[stat.rindex(")") + 2 :].split()
            table[int(entry)] = (int(fields[1]), int(fields[11]) + int(fields[12]))  # ppid, utime+stime
        return table

    def totals(self) -> dict[str, float]:
        table = self._table()
        children: dict[int, list[int]] = defaultdict(list)
        for pid, (ppid, _) in table.items():
            children[ppid].append(pid)
        totals: dict[str, float] = {}
        for name, roots in self.groups.items():
            seen: set[int] = set()
            stack = [r for r in roots if r in table]
            while stack:
                pid = stack.pop()
                if pid not in seen:
                    seen.add(pid)
                    stack.extend(children.get(pid, []))
            totals[name] = sum(table[p][1] for p in seen) / self.tick
        return totals

    def run(self) -> None:
        previous = self.totals()
        last = time.time()
        while not self.stop_event.wait(1.0):
            now, current = time.time(), self.totals()
            span = now - last
            self.samples.append(
                (now, {k: max(0.0, current[k] - previous.get(k, 0.0)) / span for k in current})
            )
            previous, last = current, now

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)


def process_groups(cfg: Settings) -> dict[str, list[int]]:
    groups: dict[str, list[int]] = {}
    for name in ("keycloak", "opa"):
        pid_file = cfg.paths.pids / f"{name}.pid"
        if pid_file.exists():
            groups[name] = [int(pid_file.read_text().strip())]
    postmaster = cfg.paths.pgdata / "postmaster.pid"
    if postmaster.exists():
        groups["postgres"] = [int(postmaster.read_text().splitlines()[0])]
    return groups
