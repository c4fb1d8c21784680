"""The site operations: what the runbook and the drills do to the two-site topology.

Each operation is one step an operator (or a drill) takes; none switches the failover record by hand: the
record follows the sites' writable signal, and only `promote` changes which site it prefers (the runbook's
re-designation after a failover), `rebuild_as_standby` which one may take over next.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field

from policies import opa_server
from realm import reconcile
from realm.target import PasswordLogin, Target
from scripts import install, services
from scripts.install import InstallError, log
from scripts.settings import LOOPBACK, REALM, Settings
from scripts.sites import keycloak, lb, pg, proc
from scripts.sites.topology import SITES, Site, Topology

SITE_COUNT = 2


def topology(settings: Settings) -> Topology:
    return Topology.from_settings(settings)


def _site(settings: Settings, name: str) -> tuple[Topology, Site]:
    topo = topology(settings)
    return topo, topo.site(name)


def check_site_count(count: int) -> None:
    """`--sites N`: the topology is Tokyo + Osaka; anything else is refused before anything starts."""
    if count != SITE_COUNT:
        raise ValueError(f"--sites {count}: the topology has exactly {SITE_COUNT} sites ({', '.join(SITES)})")


# --- OPA per site -----------------------------------------------------------------------------------


def _opa_ready(site: Site) -> bool:
    return services._http_ok(f"{site.opa_url}/health?bundles")


def start_opa(settings: Settings, site: Site) -> None:
    """The site's OPA on the same signed bundle and verification key the platform's OPA serves."""
    if proc.running(settings, site.opa_process) and _opa_ready(site):
        return
    opa = install.ensure_opa(settings)
    services.write_opa_bundle(settings)
    cmd = opa_server.server_command(
        opa,
        f"{LOOPBACK}:{site.opa_port}",
        settings.paths.opa_bundle,
        settings.paths.opa_verification_key,
        decision_log=True,
    )
    tokens = opa_server.token_env(
        settings.secret(opa_server.DECIDE_TOKEN_SECRET), settings.secret(opa_server.READ_TOKEN_SECRET)
    )
    proc.stop(settings, site.opa_process)
    log(f"{site.name}: starting OPA on {site.opa_url}")
    pid = services._spawn(settings, site.opa_process, cmd, {**os.environ, **tokens}, site.state)
    services._wait(
        f"OPA {site.name}",
        lambda: _opa_ready(site),
        60,
        settings.paths.logs / f"{site.opa_process}.log",
        lambda: services._running(pid),
    )


# --- the whole topology -----------------------------------------------------------------------------


def primary_site(settings: Settings) -> str:
    """The site the record prefers: the one whose database is the primary (or was, until it was lost)."""
    return lb.designation(topology(settings)).primary


def up(settings: Settings, apply_realm: bool = True) -> Topology:
    """Start what is not running: both databases (Osaka's made a standby of Tokyo on first start), OPA per
    site, the primary site's two Keycloak nodes, zero nodes at the standby, both LBs and the record; then
    apply the realm through the primary's LB and wait until the record points there."""
    topo = topology(settings)
    install.ensure_all(settings)
    services.build_keycloak(settings)
    primary = topo.site(primary_site(settings))
    standby = topo.other(primary.name)
    fresh = not (primary.pgdata / "PG_VERSION").exists()
    if fresh:
        primary.state.mkdir(parents=True, exist_ok=True)
        pg.init_primary(settings, primary)
    else:
        pg.start(primary)
    if not (standby.pgdata / "PG_VERSION").exists():
        pg.init_standby(settings, standby, primary)
    else:
        pg.start(standby)
    for site in topo.sites:
        start_opa(settings, site)
        lb.start_site(settings, topo, site)
    lb.start_record(settings, topo)
    if pg.in_recovery(primary) is False:
        # On an empty database one node first: two nodes creating the schema at once raced on Liquibase's
        # changelog table (`relation "databasechangelog" already exists`, node 1 exited; seen 18:17 on
        # 2026-12-01). Keycloak's database lock only serialises migrations once that table exists.
        start_keycloak(settings, primary.name, len(primary.nodes), sequential=fresh)
    if apply_realm:
        writes = reconcile.apply_definitions(site_target(settings, primary), settings.paths.secrets)
        log(f"realm applied through {primary.name}'s LB ({writes} Admin API writes)")
        wait_record(settings, primary.name)
    return topo


def down(settings: Settings) -> None:
    """Stop every process of the topology (data kept: the next `up` resumes it)."""
    topo = topology(settings)
    lb.stop_all(settings, topo)
    for site in topo.sites:
        for node in site.nodes:
            keycloak.stop(settings, node)
        proc.stop(settings, site.opa_process)
        pg.stop(site)


def wipe(settings: Settings) -> None:
    """`down`, then forget the topology (both clusters, nodes, the record's designation)."""
    down(settings)
    shutil.rmtree(topology(settings).state, ignore_errors=True)


def site_target(settings: Settings, site: Site) -> Target:
    """The realm as code's target for the topology, through `site`'s LB (the record needs the realm first:
    its health check asks a path of the realm)."""
    return Target(
        keycloak_url=site.lb_url,
        login=PasswordLogin(settings.admin_username, settings.secret("admin-password")),
        ca_cert=settings.paths.ca_cert,
        opa_url=site.opa_url,
        realm=REALM,
        rp_port=settings.ports.rp,
    )


# --- single steps (the runbook's and the drills') ---------------------------------------------------


def start_keycloak(settings: Settings, site: str, nodes: int = 2, sequential: bool = False) -> None:
    """Run `nodes` Keycloak nodes at `site` (the ECS service's desired count). Refused while the site's
    database is a standby: the stacks keep the secondary region at zero tasks until it is promoted."""
    topo, s = _site(settings, site)
    if not 0 <= nodes <= len(s.nodes):
        raise ValueError(f"nodes: {site} has 0..{len(s.nodes)} Keycloak nodes, not {nodes}")
    role = pg.in_recovery(s)
    if role is None:
        raise ValueError(f"{site}: its database does not answer; start or rebuild it first")
    if role:
        raise ValueError(f"{site}: its database is a read-only standby; promote it before starting Keycloak")
    wanted = s.nodes[:nodes]
    for node in wanted:
        keycloak.start(settings, topo, s, node, wait=sequential)
    for node in wanted:
        keycloak.wait_ready(settings, topo, node)
    for node in s.nodes[nodes:]:
        keycloak.stop(settings, node)


def stop_keycloak(settings: Settings, site: str) -> None:
    """Scale the site's Keycloak to zero (graceful stop)."""
    _, s = _site(settings, site)
    for node in s.nodes:
        keycloak.stop(settings, node)


def kill_node(settings: Settings, site: str, node: int) -> None:
    """SIGKILL one Keycloak node (a task lost)."""
    _, s = _site(settings, site)
    keycloak.kill(settings, s.node(node))


def start_node(settings: Settings, site: str, node: int) -> None:
    """Start one Keycloak node again (ECS replacing the lost task); waits until it is ready."""
    topo, s = _site(settings, site)
    if pg.in_recovery(s) is not False:
        raise ValueError(f"{site}: its database is not a running primary; a node would not start")
    keycloak.start(settings, topo, s, s.node(node))


def kill_site(settings: Settings, site: str) -> None:
    """SIGKILL the site's database and Keycloak nodes (the region lost; its LB stays, answering 503)."""
    _, s = _site(settings, site)
    for node in s.nodes:
        keycloak.kill(settings, node)
    pg.kill(s)


def promote(settings: Settings, site: str) -> None:
    """Promote the site's standby (Aurora Global failover) and re-designate the record: the promoted site is
    its primary; the old primary is left out until it is rebuilt as a standby (fail-back safety)."""
    topo, s = _site(settings, site)
    pg.promote(s)
    deadline = time.monotonic() + 60
    while pg.in_recovery(s) is not False:
        if time.monotonic() > deadline:
            raise InstallError(f"{site}: still in recovery 60 s after pg_ctl promote; see {s.pglog}")
        time.sleep(0.2)
    lb.designate(settings, topo, lb.Designation(primary=site, secondary=None))


def fence(settings: Settings, site: str) -> None:
    """Fence the old primary: stop its Keycloak nodes and database so it takes no writes, and drop it from
    the record (it comes back only through `rebuild_as_standby`)."""
    topo, s = _site(settings, site)
    chosen = lb.designation(topo)
    if chosen.primary == site:
        raise ValueError(f"{site} is the record's primary: promote the other site before fencing this one")
    for node in s.nodes:
        keycloak.stop(settings, node)
    pg.stop(s)
    if chosen.secondary == site:
        lb.designate(settings, topo, lb.Designation(primary=chosen.primary, secondary=None))


def rebuild_as_standby(settings: Settings, site: str, primary_site: str) -> None:
    """Make `site` a fresh streaming standby of `primary_site` (pg_basebackup); it becomes the record's
    secondary (it still gets traffic only once promoted: a standby is never writable)."""
    topo, s = _site(settings, site)
    primary = topo.site(primary_site)
    if s.name == primary.name:
        raise ValueError(f"a site cannot be a standby of itself ({site})")
    if pg.in_recovery(primary) is not False:
        raise ValueError(f"{primary_site}: its database is not a running primary")
    chosen = lb.designation(topo)
    if chosen.primary != primary_site:
        raise ValueError(f"the record's primary is {chosen.primary}, not {primary_site}")
    for node in s.nodes:
        keycloak.stop(settings, node)
    pg.init_standby(settings, s, primary)
    lb.designate(settings, topo, lb.Designation(primary=primary_site, secondary=site))


def record_points_to(settings: Settings) -> str | None:
    """ "tokyo" | "osaka" | None: where the record sends a new connection now (HAProxy's health state)."""
    return lb.record_points_to(topology(settings))


def wait_record(settings: Settings, expected: str | None, timeout: float = 120) -> None:
    """Until the record points at `expected` (its checks run every second)."""
    deadline = time.monotonic() + timeout
    while (now := record_points_to(settings)) != expected:
        if time.monotonic() > deadline:
            raise InstallError(f"the record points at {now}, not {expected}, after {timeout:.0f} s")
        time.sleep(0.5)


# --- status -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NodeStatus:
    index: int
    running: bool
    ready: bool
    in_lb: bool


@dataclass(frozen=True)
class SiteStatus:
    name: str
    role: str
    """primary | standby | down"""
    postgres_port: int
    lag: pg.Lag | None
    """Of this site behind the other (standby only)."""
    nodes: list[NodeStatus] = field(default_factory=list)
    opa_ready: bool = False
    lb_running: bool = False
    lb_url: str = ""


@dataclass(frozen=True)
class TopologyStatus:
    sites: list[SiteStatus]
    record_url: str
    record_primary: str
    record_secondary: str | None
    record_points_to: str | None
    record_running: bool

    @property
    def running(self) -> bool:
        return self.record_running or any(s.role != "down" or s.lb_running for s in self.sites)


def status(settings: Settings) -> TopologyStatus:
    topo = topology(settings)
    sites = []
    for s in topo.sites:
        recovery = pg.in_recovery(s) if (s.pgdata / "PG_VERSION").exists() else None
        role = "down" if recovery is None else ("standby" if recovery else "primary")
        lag = pg.lag(topo.other(s.name), s) if recovery else None
        in_lb = lb.healthy_nodes(s)
        nodes = [
            NodeStatus(
                n.index,
                keycloak.running(settings, n),
                keycloak.running(settings, n) and keycloak.ready(n, topo.ca_cert),
                n.index in in_lb,
            )
            for n in s.nodes
        ]
        sites.append(
            SiteStatus(
                name=s.name,
                role=role,
                postgres_port=s.postgres_port,
                lag=lag,
                nodes=nodes,
                opa_ready=_opa_ready(s),
                lb_running=lb.running(settings, s.lb_process),
                lb_url=s.lb_url,
            )
        )
    chosen = lb.designation(topo)
    return TopologyStatus(
        sites=sites,
        record_url=topo.record_url,
        record_primary=chosen.primary,
        record_secondary=chosen.secondary,
        record_points_to=lb.record_points_to(topo),
        record_running=lb.running(settings, topo.record_process),
    )


def describe(state: TopologyStatus) -> list[str]:
    """`bizid status` lines for the topology."""
    lines = []
    for s in state.sites:
        ready = [n.index for n in s.nodes if n.ready]
        in_lb = [n.index for n in s.nodes if n.in_lb]
        lag = ""
        if s.lag is not None:
            shown_bytes = "?" if s.lag.bytes is None else f"{s.lag.bytes} B"
            shown_seconds = "?" if s.lag.seconds is None else f"{s.lag.seconds:.3f} s"
            lag = f"  lag {shown_bytes} / {shown_seconds}"
        elif s.role == "standby":
            lag = "  lag unknown (primary not answering)"
        lines.append(
            f"{s.name:6} {s.role:8} postgres {LOOPBACK}:{s.postgres_port}{lag}  "
            f"keycloak nodes ready {len(ready)}/{len(s.nodes)} {ready}  in LB {in_lb}  "
            f"OPA {'ready' if s.opa_ready else 'down'}  LB {s.lb_url} {'up' if s.lb_running else 'down'}"
        )
    secondary = state.record_secondary or "none"
    lines.append(
        f"record {state.record_url}  primary {state.record_primary}, secondary {secondary}  "
        f"-> points to {state.record_points_to or 'nowhere (no healthy, writable site)'}"
        f"{'' if state.record_running else '  (record not running)'}"
    )
    return lines
