"""The site operations a drill step names (`steps.Op`), run through the site operations API (scripts/sites).

Each operation is a function `(ctx, *args) -> detail` registered in `OPERATIONS` with the arguments it
takes; the drill engine and `bizid drill op <name> <args>` (one step by hand, as the runbook shows it) call
the same function, so what the runbook says is rehearsed is what runs. Arguments are validated
(`validate`) before anything runs.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from realm import site as site_signal
from realm.platform import DB_NAME, DB_USER
from scripts.drills import inventory
from scripts.drills.inventory import Database, Lag, Snapshot
from scripts.drills.recorder import Recorder
from scripts.drills.result import DrillResult, RecordSample
from scripts.drills.steps import SITES, Op
from scripts.settings import LOOPBACK, Settings

WAIT_RECORD_SECONDS = 240.0
"""How long `wait-record` waits for the record to switch (Osaka's Keycloak start is the long part)."""


def sites_api() -> Any:
    """The site operations API (scripts/sites, with its pg, lb and keycloak modules); a clear error when the
    two-site topology is not there."""
    try:
        api = importlib.import_module("scripts.sites")
        for part in ("pg", "lb", "keycloak"):
            importlib.import_module(f"scripts.sites.{part}")
    except ImportError as exc:  # only before the two-site topology is merged
        raise ValueError(f"the two-site topology (scripts/sites) is not available here: {exc}") from None
    return api


@dataclass
class Context:
    """What the operations of one drill run share."""

    settings: Settings
    result: DrillResult
    recorder: Recorder | None = None
    writer: inventory.Writer | None = None
    snapshots: dict[str, Snapshot] = field(default_factory=dict)
    """The last snapshot taken of each site (`inventory`)."""
    losses: dict[str, inventory.Loss] = field(default_factory=dict)
    """What each inventory found missing at that site."""
    kill_at: float | None = None
    """When a site was lost (`kill-site`): writes acknowledged before it are the ones the survivor owes."""
    node_killed_at: float | None = None
    lag_at_kill: Lag | None = None
    watch_seconds: float = 20.0
    sample: Callable[[], RecordSample] | None = None

    @property
    def topology(self) -> Any:
        return sites_api().Topology.from_settings(self.settings)

    def database(self, site: str) -> Database:
        return Database(
            host=LOOPBACK,
            port=self.topology.site(site).postgres_port,
            dbname=DB_NAME,
            user=DB_USER,
            password=self.settings.secret("db-password"),
        )


def _site(name: str) -> str:
    if name not in SITES:
        raise ValueError(f"site {name!r}: one of {', '.join(SITES)}")
    return name


def _node(text: str) -> int:
    if text not in ("1", "2"):
        raise ValueError(f"node {text!r}: 1 or 2")
    return int(text)


def _other(site: str) -> str:
    return next(s for s in SITES if s != site)


# --- the operations ---------------------------------------------------------------------------------


def kill_node(ctx: Context, site: str, node: str) -> str:
    sites_api().kill_node(ctx.settings, site, _node(node))
    ctx.node_killed_at = time.time()
    return f"SIGKILL {site} node {node}"


def start_node(ctx: Context, site: str, node: str) -> str:
    sites_api().start_node(ctx.settings, site, _node(node))
    return f"{site} node {node} ready"


def kill_site(ctx: Context, site: str) -> str:
    ctx.lag_at_kill = _lag(ctx, site)
    sites_api().kill_site(ctx.settings, site)
    ctx.kill_at = time.time()
    lag = ctx.lag_at_kill
    return f"SIGKILL {site}'s database and nodes; lag at the kill {lag.bytes} bytes, {lag.seconds} s"


def _lag(ctx: Context, primary: str) -> Lag:
    try:
        return inventory.replication_lag(ctx.database(primary), ctx.database(_other(primary)))
    except Exception as exc:  # no standby reachable: no lag to report, the drill says so
        ctx.result.notes.append(f"replication lag not measured: {type(exc).__name__}: {exc}")
        return Lag(None, None)


def fence(ctx: Context, site: str) -> str:
    sites_api().fence(ctx.settings, site)
    return f"{site} fenced"


def promote(ctx: Context, site: str) -> str:
    sites_api().promote(ctx.settings, site)
    return f"{site}'s database promoted"


def start_keycloak(ctx: Context, site: str, nodes: str) -> str:
    sites_api().start_keycloak(ctx.settings, site, _node(nodes))
    return f"{site}: {nodes} Keycloak node(s) ready"


def stop_keycloak(ctx: Context, site: str) -> str:
    sites_api().stop_keycloak(ctx.settings, site)
    return f"{site}: Keycloak stopped"


def rebuild_standby(ctx: Context, site: str, primary: str) -> str:
    if site == primary:
        raise ValueError(f"rebuild-standby {site} {primary}: a site cannot be its own primary")
    sites_api().rebuild_as_standby(ctx.settings, site, primary)
    return f"{site} rebuilt as a standby of {primary}"


def _record(ctx: Context) -> RecordSample:
    if ctx.sample is not None:
        return ctx.sample()
    return RecordSample(time.time(), sites_api().record_points_to(ctx.settings), {})


def wait_record(ctx: Context, site: str) -> str:
    """Until the record points at `site` (it switches by the sites' health signal, never by hand)."""
    began = time.time()
    deadline = time.monotonic() + WAIT_RECORD_SECONDS
    while time.monotonic() < deadline:
        if _record(ctx).points_to == site:
            return f"record points at {site} after {time.time() - began:.1f} s"
        time.sleep(0.5)
    raise RuntimeError(f"the record did not point at {site} within {WAIT_RECORD_SECONDS:.0f} s")


WATCH_SETTLE_SECONDS = 240.0
"""How long `watch-record` watches past its duration while the other site's nodes are still starting."""


def watch_record(ctx: Context, site: str) -> str:
    """Sample the record for `ctx.watch_seconds` and then for as long as the other site's Keycloak nodes are
    still starting, or (under a drill's load) until `site` has served a good sign-in, up to
    WATCH_SETTLE_SECONDS: what the record does once those nodes are ready (or have given up) is part of the
    watch (for `ctx.watch_seconds` more), and the leg has sign-ins of its own. The record must never point
    at another site. The other site's own signal is probed too: the report says whether the record stayed
    away from a site that claimed to be writable."""
    api = sites_api()
    topo = ctx.topology
    other = topo.site(_other(site))
    samples: list[RecordSample] = []
    claims = {"writable": 0, "not writable": 0}
    began = time.monotonic()
    deadline = began + ctx.watch_seconds
    settle = began + max(ctx.watch_seconds, WATCH_SETTLE_SECONDS)

    def starting() -> bool:
        return any(
            api.keycloak.running(ctx.settings, n) and not api.keycloak.ready(n, topo.ca_cert)
            for n in other.nodes
        )

    since = time.time()

    def served() -> int:
        """Good sign-ins `site` served that started during the watch (the load's own view of the leg)."""
        if ctx.recorder is None:
            return 0
        return sum(1 for s in ctx.recorder.snapshot() if s.ok and s.site == site and s.start >= since)

    def waiting() -> bool:
        return starting() or (ctx.recorder is not None and served() == 0)

    waited = extended = False
    while (now := time.monotonic()) < settle:
        if now >= deadline:
            if waiting():
                waited = True
            elif waited and not extended:  # what they settled into is watched too, as long again
                deadline, extended = now + ctx.watch_seconds, True
            else:
                break
        samples.append(_record(ctx))
        claims["writable" if _signal(other.writable_url, topo.ca_cert) else "not writable"] += 1
        time.sleep(0.5)
    watched = time.monotonic() - began
    elsewhere = [s for s in samples if s.points_to not in (site, None)]
    ready = [n.index for n in other.nodes if api.keycloak.ready(n, topo.ca_cert)]
    where = f"{other.name}'s signal: writable in {claims['writable']}, not in {claims['not writable']}"
    where += f"; {other.name} nodes ready at the end: {ready or 'none'}"
    if ctx.recorder is not None:
        where += f"; good sign-ins served by {site} meanwhile: {served()}"
    if elsewhere:
        raise RuntimeError(
            f"the record pointed at {elsewhere[0].points_to} in {len(elsewhere)} of {len(samples)} ({where})"
        )
    nowhere = sum(1 for s in samples if s.points_to is None)
    gap = f"; nowhere in {nowhere} (the record restarting on a re-designation)" if nowhere else ""
    return (
        f"the record never left {site} for another site ({len(samples)} samples over {watched:.0f} s{gap};"
        f" {where})"
    )


def _signal(url: str, ca_cert: object) -> bool:
    """Whether a site's writability signal (through its LB) answers writable now."""
    try:
        response = requests.get(url, verify=str(ca_cert), timeout=2)
    except requests.RequestException:
        return False
    return response.status_code == 200 and site_signal.WRITABLE_MARKER in response.text


def drain_record(ctx: Context, site: str) -> str:
    """Take `site` out of the record (its server in maintenance, its connections closed), whatever its
    health signal says, and wait until the record no longer points at it: a planned switchover does this
    before the site turns read-only, so the record never points at a read-only site."""
    api = sites_api()
    api.lb.drain_record(ctx.topology, site)
    deadline = time.monotonic() + 10
    while (now := _record(ctx).points_to) == site:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the record still points at {site} 10 s after draining it")
        time.sleep(0.1)
    return f"{site} is out of the record; the record points at {now or 'nowhere'}"


def wait_node_out(ctx: Context, site: str, node: str) -> str:
    """Until the site's load balancer has taken the node out of service (its health check failed)."""
    api = sites_api()
    s = ctx.topology.site(site)
    since = ctx.node_killed_at or time.time()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if _node(node) not in api.lb.healthy_nodes(s):
            return f"the LB took {site} node {node} out {time.time() - since:.1f} s after the kill"
        time.sleep(0.2)
    raise RuntimeError(f"{site}'s LB still had node {node} in service 60 s after the kill")


def wait_caught_up(ctx: Context, standby: str) -> str:
    """Until the standby has replayed everything its primary has written (lag 0 bytes)."""
    began = time.time()
    deadline = time.monotonic() + 120
    lag = Lag(None, None)
    while time.monotonic() < deadline:
        lag = inventory.replication_lag(ctx.database(_other(standby)), ctx.database(standby))
        if lag.bytes == 0:
            took = time.time() - began
            ctx.result.figures.setdefault(f"{standby} catch-up (s)", f"{took:.1f}")
            return f"{standby} caught up in {took:.1f} s"
        time.sleep(0.2)
    raise RuntimeError(f"{standby} did not catch up within 120 s (lag {lag.bytes} bytes)")


def switchover_db(ctx: Context, old: str, new: str) -> str:
    """The planned switch (Aurora's `switchover-global-cluster`), no committed write lost: the old primary
    turns read-only (its Keycloak's writes and its signal fail from here), the new one replays everything
    it wrote, the old one shuts down cleanly, the new one is promoted, and the old one is rebuilt as its
    standby (pg_basebackup). The record follows by the health signal and the designation promote sets."""
    if old == new:
        raise ValueError(f"switchover-db {old} {new}: two different sites")
    api = sites_api()
    pg = api.pg
    topo = ctx.topology
    o = topo.site(old)
    if pg.in_recovery(o) is not False:
        raise ValueError(f"switchover-db: {old} is not a running primary")
    if api.record_points_to(ctx.settings) == old:
        raise ValueError(f"switchover-db: the record still points at {old}: drain-record {old} first")
    pg.psql(o, "ALTER SYSTEM SET default_transaction_read_only = on")
    pg.psql(o, "SELECT pg_reload_conf()")
    began = time.time()
    target = pg.psql(o, "SELECT pg_current_wal_lsn()")
    deadline = time.monotonic() + 120
    while True:
        replayed = pg.replayed_lsn(topo.site(new))
        if replayed and pg.psql(o, f"SELECT pg_wal_lsn_diff('{replayed}', '{target}') >= 0") == "t":
            break
        if time.monotonic() > deadline:
            raise RuntimeError(f"switchover-db: {new} did not replay {target} within 120 s")
        time.sleep(0.1)
    caught_up = time.time() - began
    pg.stop(o)
    api.promote(ctx.settings, new)
    api.rebuild_as_standby(ctx.settings, old, new)
    return f"{new} replayed {old}'s last write in {caught_up:.1f} s and is the primary; {old} is its standby"


def restart_db(ctx: Context, site: str) -> str:
    """Start the site's database on the data it has, without rebuilding it (a region coming back)."""
    api = sites_api()
    s = ctx.topology.site(site)
    api.pg.start(s)
    role = api.pg.in_recovery(s)
    what = "a standby" if role else "a primary (writable)" if role is False else "not answering"
    return f"{site}'s database is up: {what}"


def start_nodes_unfenced(ctx: Context, site: str, nodes: str) -> str:
    """Start the site's Keycloak nodes whatever its database is (tasks that survived a lost region), without
    the guard of `start-keycloak`; they may not become ready (a read-only database), which is the point."""
    api = sites_api()
    topo = ctx.topology
    s = topo.site(site)
    for node in s.nodes[: _node(nodes)]:
        api.keycloak.start(ctx.settings, topo, s, node, wait=False)
    return f"{site}: {nodes} node(s) started, not waited for"


def burst(ctx: Context, standby: str, count: str) -> str:
    """`count` account creations at once (4 in parallel) on the primary; then the time until the standby has
    replayed the primary's WAL position at the last acknowledgement (its catch-up after a burst)."""
    n = _count(count)
    if ctx.writer is None:
        raise ValueError("burst: needs the drill's writer (run it inside a drill)")
    create = ctx.writer.create
    primary = ctx.database(_other(standby))
    replica = ctx.database(standby)
    done: list[float] = []
    lags: list[int] = []

    def one(k: int) -> None:
        try:
            create(f"{ctx.writer.prefix}-burst-{k:04d}")  # type: ignore[union-attr]
            done.append(time.time())
        except Exception as exc:  # counted: a burst write refused is not a replication figure
            ctx.result.notes.append(f"burst write {k} failed: {type(exc).__name__}")

    began = time.time()
    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(one, k) for k in range(n)]
        while not all(f.done() for f in futures):
            lags.append(inventory.replication_lag(primary, replica).bytes or 0)
            time.sleep(0.2)
    acked_at = time.time()
    with primary.connect() as p:
        row = p.execute("SELECT pg_current_wal_lsn()::text").fetchone()
    target = str(row[0]) if row else "0/0"
    deadline = time.monotonic() + 120
    with replica.connect() as r:
        while True:
            row = r.execute(
                "SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), %s::pg_lsn) >= 0", (target,)
            ).fetchone()
            if row and row[0]:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"burst: {standby} did not replay {target} within 120 s")
            time.sleep(0.05)
    catch_up = time.time() - acked_at
    ctx.result.figures["burst: account creations"] = f"{len(done)} of {n} in {acked_at - began:.1f} s"
    ctx.result.figures["burst: largest lag seen (bytes)"] = max(lags, default=0)
    ctx.result.figures["burst: standby catch-up after the last write (s)"] = f"{catch_up:.2f}"
    return (
        f"{len(done)} writes in {acked_at - began:.1f} s; {standby} caught up {catch_up:.2f} s after the last"
    )


def _count(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 500:
        raise ValueError(f"count {text!r}: a whole number 1..500")
    return int(text)


def take_inventory(ctx: Context, site: str) -> str:
    """Snapshot `site` and compare: every acknowledged account creation (before the kill, if there was
    one) must be there, and so must everything an earlier snapshot of the other site (the primary before
    the failure) had; what is not is recorded as lost, by natural key."""
    now = inventory.snapshot(site, ctx.database(site))
    baseline = next((s for name, s in ctx.snapshots.items() if name != site), None)
    ctx.snapshots[site] = now
    cutoff = ctx.kill_at if ctx.kill_at is not None else now.taken
    acked = ctx.writer.acknowledged(before=cutoff) if ctx.writer else set()
    loss = inventory.compare(baseline or now, now, acked)
    ctx.losses[site] = loss
    for kind, keys in loss.missing.items():
        if keys:
            ctx.result.findings.append(f"lost at {site}: {kind} ({len(keys)}): {', '.join(keys)}")
    if loss.acknowledged_missing:
        ctx.result.findings.append(
            f"acknowledged account creations missing at {site}: {', '.join(loss.acknowledged_missing)}"
        )
    counts = ", ".join(f"{n} {kind}" for kind, n in now.count().items())
    verdict = "nothing lost" if loss.none else f"LOST {loss.transactions} account(s), listed in the findings"
    return f"{site} at {now.lsn}: {counts}; {verdict} ({loss.acknowledged} acknowledged writes checked)"


OPERATIONS: dict[str, tuple[tuple[Callable[[str], object], ...], Callable[..., str]]] = {
    "kill-node": ((_site, _node), kill_node),
    "start-node": ((_site, _node), start_node),
    "kill-site": ((_site,), kill_site),
    "fence": ((_site,), fence),
    "promote": ((_site,), promote),
    "start-keycloak": ((_site, _node), start_keycloak),
    "stop-keycloak": ((_site,), stop_keycloak),
    "rebuild-standby": ((_site, _site), rebuild_standby),
    "wait-record": ((_site,), wait_record),
    "watch-record": ((_site,), watch_record),
    "wait-node-out": ((_site, _node), wait_node_out),
    "drain-record": ((_site,), drain_record),
    "wait-caught-up": ((_site,), wait_caught_up),
    "switchover-db": ((_site, _site), switchover_db),
    "restart-db": ((_site,), restart_db),
    "start-nodes-unfenced": ((_site, _node), start_nodes_unfenced),
    "inventory": ((_site,), take_inventory),
    "burst": ((_site, _count), burst),
}
"""name -> (a validator per argument, the function)."""


def validate(op: Op) -> None:
    """Raise ValueError naming the operation and argument unless `op` can run."""
    if op.name not in OPERATIONS:
        raise ValueError(f"unknown site operation {op.name!r}: one of {', '.join(OPERATIONS)}")
    checks, _ = OPERATIONS[op.name]
    if len(op.args) != len(checks):
        raise ValueError(f"{op.name}: takes {len(checks)} argument(s), got {len(op.args)}: {list(op.args)}")
    for check, arg in zip(checks, op.args, strict=True):
        try:
            check(arg)
        except ValueError as exc:
            raise ValueError(f"{op.name}: {exc}") from None


def run(ctx: Context, op: Op) -> str:
    validate(op)
    return OPERATIONS[op.name][1](ctx, *op.args)
