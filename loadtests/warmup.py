"""Warm Keycloak up before measuring it: sign-ins until its CPU cost per sign-in stops falling.

A freshly started Keycloak is not yet the server it will be. Its JVM compiles code as it becomes hot, and
Keycloak's code path for a sign-in is large (Hibernate, Infinispan, FreeMarker, RESTEasy, the protocol
mappers): on this machine the JIT still compiled some 300 methods per 100 sign-ins after 3,000 sign-ins,
and a sign-in cost Keycloak 110 ms of CPU instead of the 45 ms it costs once compilation settles (the
compiler threads run on the same two cores). A ramp measured in that state reports the JIT, not Keycloak.

So the benchmark first drives real sign-ins (the same journey as Locust, from a few threads) in chunks,
and stops when Keycloak's CPU per sign-in of two chunks in a row differs by less than `SETTLED` and the JIT
compiler threads took less than `JIT_SETTLED` of it in the last chunk, or after `max_chunks`. The chunks
are reported beside the results.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from loadtests.cpu import CpuSampler, process_groups
from loadtests.journey import AccountPicker, Journey, RealmProfile, rp_clients
from loadtests.jvm_threads import split_by_kind, thread_cpu
from realm import loader
from realm.oidc.browser_flow import Client
from scripts.settings import Settings

SETTLED = 0.10
"""Relative change of Keycloak's CPU per sign-in between two chunks below which it counts as warm."""
JIT_SETTLED = 0.10
"""...and the JIT compiler threads' share of Keycloak's CPU in the last chunk below which it counts as warm.
Why both: the CPU per sign-in of a young JVM falls slowly (4-5 % per chunk of 300 sign-ins on this box, as C2
works through Keycloak's large code path), so two chunks in a row can differ by < 10 % while the compilers
still take a quarter of Keycloak's CPU; the baseline of 2026-12-01 "settled" at 138 ms that way, and one warm
Keycloak costs about half that (docs/tuning.md, "An honest baseline")."""
CHUNK_VISITS = 600
THREADS = 4


@dataclass(frozen=True)
class Chunk:
    visits: int
    errors: int
    seconds: float
    keycloak_ms: float
    """Keycloak CPU milliseconds per sign-in in this chunk."""
    first_error: str = ""
    jit_ms: float | None = None
    """CPU milliseconds per sign-in of Keycloak's JIT compiler threads in this chunk (None: not measured)."""

    @property
    def rate(self) -> float:
        return self.visits / self.seconds if self.seconds else 0.0


def jit_text(chunk: Chunk) -> str:
    return "" if chunk.jit_ms is None else f" (JIT compilers {chunk.jit_ms:.0f})"


def settled(chunks: list[Chunk], tolerance: float = SETTLED) -> bool:
    """The last two chunks cost Keycloak about the same CPU per sign-in (and both ran without errors)."""
    if len(chunks) < 2:
        return False
    a, b = chunks[-2], chunks[-1]
    if a.errors or b.errors or not a.keycloak_ms:
        return False
    if b.jit_ms is not None and b.keycloak_ms and b.jit_ms / b.keycloak_ms >= JIT_SETTLED:
        return False
    return abs(b.keycloak_ms - a.keycloak_ms) / a.keycloak_ms < tolerance


def run_chunk(
    cfg: Settings,
    picker: AccountPicker,
    visits: int,
    threads: int,
    cpu: CpuSampler,
    target: tuple[dict[str, Client], RealmProfile] | None = None,
) -> Chunk:
    """`visits` sign-ins (each with a logout) from `threads` user agents, as fast as they complete.
    `target`: the clients and realm to sign in to (default: the bizid realm's RPs)."""
    defs = loader.load()
    pairwise = {rp.client_id for rp in defs.rps if rp.pairwise_sub} if target is None else set()
    clients, profile = target if target is not None else (rp_clients(cfg, defs), None)
    lock = threading.Lock()
    errors: list[str] = []
    remaining = [visits]

    def agent() -> None:
        journey = Journey(requests.Session(), cfg, clients, pairwise, profile=profile)
        while True:
            with lock:
                if remaining[0] <= 0:
                    return
                remaining[0] -= 1
                index = picker.draw()
            try:
                journey.visit(index, full=False)
            except Exception as exc:  # counted; the chunk does not stop for one failed sign-in
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")

    roots = process_groups(cfg).get("keycloak", [])
    threads_before = thread_cpu(roots)
    before = cpu.totals().get("keycloak", 0.0)
    began = time.monotonic()
    pool = [threading.Thread(target=agent, daemon=True) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    seconds = time.monotonic() - began
    used = cpu.totals().get("keycloak", 0.0) - before
    jit = split_by_kind(threads_before, thread_cpu(roots))["jit"] if roots else None
    return Chunk(
        visits,
        len(errors),
        seconds,
        used / visits * 1000,
        errors[0] if errors else "",
        None if jit is None else jit / visits * 1000,
    )


def warm_up(
    cfg: Settings,
    start: int,
    size: int,
    max_chunks: int = 12,
    chunk_visits: int = CHUNK_VISITS,
    log: Callable[[str], None] = print,
    target: tuple[dict[str, Client], RealmProfile] | None = None,
) -> list[Chunk]:
    """Sign in accounts drawn from [start, start + size) until Keycloak has settled; the chunks run."""
    cpu = CpuSampler(process_groups(cfg))
    picker = AccountPicker(size, start=start)
    chunks: list[Chunk] = []
    while len(chunks) < max_chunks and not settled(chunks):
        chunk = run_chunk(cfg, picker, chunk_visits, THREADS, cpu, target)
        chunks.append(chunk)
        log(
            f"warm-up {len(chunks)}: {chunk.visits} sign-ins at {chunk.rate:.1f}/s, Keycloak"
            f" {chunk.keycloak_ms:.0f} ms CPU per sign-in, {chunk.errors} errors"
        )
    return chunks


def warm_up_alternating(
    cfg: Settings,
    start: int,
    size: int,
    targets: dict[str, tuple[dict[str, Client], RealmProfile] | None],
    max_chunks: int = 12,
    chunk_visits: int = CHUNK_VISITS,
    log: Callable[[str, str], None] = lambda realm, message: print(realm, message),
) -> dict[str, list[Chunk]]:
    """Warm one Keycloak up on several realms in turn (a chunk of each, A B A B ...) until every realm has
    settled, or `max_chunks` each.

    Why in turn: the realms share one JVM and most of its code (Hibernate, FreeMarker, the OIDC endpoints).
    Warmed one after the other, the first realm pays for the JIT and the second rides on it: its chunks
    settle sooner and cheaper, and the first measured run of the first realm still meets C2 compiling the
    code only its realm uses. In turn, each realm's last two chunks are compared under the same JIT state,
    and a realm that has settled keeps running its chunks until the others have (so the JIT work that the
    later chunks trigger is not left to the measured runs of one realm only)."""
    cpu = CpuSampler(process_groups(cfg))
    pickers = {realm: AccountPicker(size, start=start) for realm in targets}
    chunks: dict[str, list[Chunk]] = {realm: [] for realm in targets}
    while any(len(chunks[r]) < max_chunks and not settled(chunks[r]) for r in targets):
        for realm, target in targets.items():
            if len(chunks[realm]) >= max_chunks:
                continue
            chunk = run_chunk(cfg, pickers[realm], chunk_visits, THREADS, cpu, target)
            chunks[realm].append(chunk)
            log(
                realm,
                f"warm-up {len(chunks[realm])}: {chunk.visits} sign-ins at {chunk.rate:.1f}/s, Keycloak"
                f" {chunk.keycloak_ms:.0f} ms CPU per sign-in{jit_text(chunk)}, {chunk.errors} errors",
            )
    return chunks
