"""What one bizid realm setting costs a sign-in: interleaved chunks on one warm Keycloak, the setting flipped
between them through the admin API, and put back at the end.

    .venv/bin/python -m scripts.bench.realm_setting_ab [--rounds 3] [--signins 150] [--warmup 600]

Conditions: `deployed` (the realm as applied), `no-event-store` (login events not stored: `eventsEnabled`
false; the listeners still run), `no-brute-force` (`bruteForceProtected` false). Each round runs one chunk
per condition, in an order rotated every round; every chunk prints Keycloak's CPU per sign-in split by JVM
thread kind (scripts.bench.realm_ab's row). A measurement, not a proposal: both settings carry a security
or audit property (docs/tuning.md, the "(h-kc)" rows), and the realm is restored from the representation
read before the first change (checked at the end). Local platform only (stock_realm.check_local).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Callable
from typing import Any

from loadtests import stock_realm, warmup
from loadtests.cpu import CpuSampler, process_groups
from loadtests.journey import AccountPicker
from scripts.bench.realm_ab import chunk_row, preflight
from scripts.settings import REALM

REALM_PATH = f"admin/realms/{REALM}"
EVENTS_PATH = f"admin/realms/{REALM}/events/config"


def conditions(admin: Any, realm: dict[str, Any], events: dict[str, Any]) -> dict[str, Callable[[], None]]:
    def put(path: str, body: dict[str, Any]) -> None:
        response = admin.connection.raw_put(path, data=json.dumps(body))
        if response.status_code not in (200, 204):
            raise RuntimeError(f"PUT {path}: {response.status_code} {response.text[:200]}")

    def deployed() -> None:
        put(REALM_PATH, {"bruteForceProtected": realm["bruteForceProtected"]})
        put(EVENTS_PATH, events)

    def no_event_store() -> None:
        deployed()
        put(EVENTS_PATH, {**events, "eventsEnabled": False})

    def no_brute_force() -> None:
        deployed()
        put(REALM_PATH, {"bruteForceProtected": False})

    return {"deployed": deployed, "no-event-store": no_event_store, "no-brute-force": no_brute_force}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--signins", type=int, default=150)
    parser.add_argument("--warmup", type=int, default=600, help="sign-ins before the first chunk")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--population", type=int, default=3000)
    args = parser.parse_args(argv)
    if not 1 <= args.rounds <= 10 or not 1 <= args.signins <= 5000 or not 0 <= args.warmup <= 10_000:
        parser.error("--rounds 1-10, --signins 1-5000, --warmup 0-10000")
    if not 1 <= args.threads <= 16 or not 500 <= args.population <= 1_000_000:
        parser.error("--threads 1-16, --population 500-1000000")
    cfg = preflight(parser, args.population)
    admin = stock_realm._admin(cfg)
    realm = admin.connection.raw_get(REALM_PATH).json()
    events = admin.connection.raw_get(EVENTS_PATH).json()
    apply = conditions(admin, realm, events)
    names = list(apply)
    picker = AccountPicker(args.population, start=0)
    figures: dict[str, list[float]] = {name: [] for name in names}
    try:
        if args.warmup:
            cpu = CpuSampler(process_groups(cfg))
            warmup.run_chunk(cfg, picker, args.warmup, args.threads, cpu)
        print(
            "| condition | sign-ins | errors | Keycloak ms CPU/sign-in | without JIT | OPA ms | PostgreSQL ms"
            " | Keycloak threads, ms/sign-in |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        for number in range(args.rounds):
            for name in names[number % len(names) :] + names[: number % len(names)]:
                apply[name]()
                _, no_jit, row = chunk_row(cfg, name, picker, args.signins, args.threads, None)
                figures[name].append(no_jit)
                print(row, flush=True)
    finally:
        apply["deployed"]()
    after = admin.connection.raw_get(REALM_PATH).json()
    if after.get("bruteForceProtected") != realm.get("bruteForceProtected"):
        print("realm_setting_ab: the realm was NOT restored; run `bizid realm apply`")
        return 1
    if admin.connection.raw_get(EVENTS_PATH).json() != events:
        print("realm_setting_ab: the events config was NOT restored; run `bizid realm apply`")
        return 1
    for name in names:
        v = figures[name]
        print(
            f"{name}: without JIT median {statistics.median(v):.1f} ({min(v):.1f}-{max(v):.1f}),"
            f" {len(v)} chunks"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
