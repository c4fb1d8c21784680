"""Where the two-site topology lives on one machine: ports and folders of Tokyo, Osaka and the record.

Every port is derived from the platform's BIZID_PORT_OFFSET (scripts/settings.py), in a block of its own
(30000 + offset .. + 40) away from the single-site platform's ports, so a helper's or a test's two sites run
beside any platform. The cluster transport (JGroups) ports sit at 7800 + offset: FD_SOCK2 listens at
transport port + 50000 by default (the ECS task's 7800/57800), but 57800 + offset falls in Linux's range of
ephemeral ports (32768-60999), where an outgoing connection can take it first and the node fails to start:
local nodes move it above that range with FD_PORT_OFFSET.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from realm import site as site_signal
from scripts.settings import LOOPBACK, REALM, Ports, Settings

SITES = ("tokyo", "osaka")
"""Tokyo is the primary region of the stacks, Osaka the secondary (Aurora Global secondary)."""
NODES_PER_SITE = 2
SITE_PORT_BASE = 30000
SITE_PORT_STRIDE = 20
RECORD_PORT_OFFSET = 40
JGROUPS_PORT_BASE = 7800
FD_PORT_OFFSET = 54000
"""`-Djgroups.fd.port-offset` for local nodes: failure detection (FD_SOCK2) at transport port + 54000, i.e.
61800 + offset, above the ephemeral range and below 65536 for every offset the tests and helpers use."""
SLOT_ENV = "BIZID_SITES_SLOT"
"""0 (default) or 1: a second topology of the same checkout on other ports and folders (the tests use 1, so
they never touch a developer's `bizid sites up`)."""
SLOT_PORT_SHIFT = 50


@dataclass(frozen=True)
class Node:
    """One Keycloak node (an ECS task)."""

    site: str
    index: int
    https_port: int
    management_port: int
    jgroups_port: int
    home: Path
    """A hard-linked copy of the built Keycloak distribution with its own data/ folder."""
    process: str
    """Its pid file and log name under .bizid/run and .bizid/logs."""

    @property
    def name(self) -> str:
        return f"{self.site}-kc{self.index}"

    @property
    def url(self) -> str:
        return f"https://{LOOPBACK}:{self.https_port}"

    @property
    def management_url(self) -> str:
        return f"https://{LOOPBACK}:{self.management_port}"


@dataclass(frozen=True)
class Site:
    """One region: its PostgreSQL (primary or standby), Keycloak nodes, OPA and load balancer."""

    name: str
    postgres_port: int
    opa_port: int
    lb_port: int
    nodes: tuple[Node, ...]
    state: Path
    prefix: str

    @property
    def lb_process(self) -> str:
        return f"{self.prefix}-lb-{self.name}"

    @property
    def opa_process(self) -> str:
        return f"{self.prefix}-opa-{self.name}"

    @property
    def pgdata(self) -> Path:
        return self.state / "postgres" / "data"

    @property
    def pgsocket(self) -> Path:
        return self.state / "postgres" / "socket"

    @property
    def pglog(self) -> Path:
        return self.state / "postgres" / "postgres.log"

    @property
    def opa_url(self) -> str:
        return f"http://{LOOPBACK}:{self.opa_port}"

    @property
    def lb_url(self) -> str:
        """The site's load balancer (the region's ALB)."""
        return f"https://{LOOPBACK}:{self.lb_port}"

    @property
    def lb_config(self) -> Path:
        return self.state / "haproxy.cfg"

    @property
    def lb_socket(self) -> Path:
        return self.state / "haproxy.sock"

    @property
    def writable_url(self) -> str:
        """The record's health check of this site, through its LB (the Route 53 health check)."""
        return self.lb_url + site_signal.writable_path(REALM)

    def node(self, index: int) -> Node:
        for node in self.nodes:
            if node.index == index:
                return node
        raise ValueError(f"site {self.name} has nodes 1..{len(self.nodes)}, not {index}")


@dataclass(frozen=True)
class Topology:
    sites: tuple[Site, ...]
    record_port: int
    state: Path
    """.bizid/sites: everything the topology writes."""
    ca_cert: Path
    prefix: str

    @property
    def record_process(self) -> str:
        return f"{self.prefix}-lb-record"

    @classmethod
    def from_settings(cls, settings: Settings) -> Topology:
        slot = os.environ.get(SLOT_ENV, "0")
        if slot not in ("0", "1"):
            raise ValueError(f"{SLOT_ENV} must be 0 or 1, not {slot!r}")
        offset = settings.ports.postgres - Ports().postgres
        prefix = "sites" if slot == "0" else f"sites{slot}"
        state = settings.paths.state / prefix
        base = SITE_PORT_BASE + offset + SLOT_PORT_SHIFT * int(slot)
        jgroups = JGROUPS_PORT_BASE + offset + 2 * NODES_PER_SITE * int(slot)
        highest_fd = jgroups + 2 * NODES_PER_SITE - 1 + FD_PORT_OFFSET
        if highest_fd > 65535:
            raise ValueError(
                f"BIZID_PORT_OFFSET={offset} is too large for two sites: the cluster's failure-detection "
                f"port would be {highest_fd} (> 65535)"
            )
        sites = []
        for i, name in enumerate(SITES):
            sbase = base + SITE_PORT_STRIDE * i
            nodes = tuple(
                Node(
                    site=name,
                    index=n,
                    https_port=sbase + 4 + 2 * (n - 1),
                    management_port=sbase + 5 + 2 * (n - 1),
                    jgroups_port=jgroups + NODES_PER_SITE * i + (n - 1),
                    home=state / name / f"kc{n}",
                    process=f"{prefix}-{name}-kc{n}",
                )
                for n in range(1, NODES_PER_SITE + 1)
            )
            sites.append(
                Site(
                    name=name,
                    postgres_port=sbase,
                    opa_port=sbase + 1,
                    lb_port=sbase + 2,
                    nodes=nodes,
                    state=state / name,
                    prefix=prefix,
                )
            )
        return cls(
            sites=tuple(sites),
            record_port=base + RECORD_PORT_OFFSET,
            state=state,
            ca_cert=settings.paths.ca_cert,
            prefix=prefix,
        )

    def site(self, name: str) -> Site:
        for s in self.sites:
            if s.name == name:
                return s
        raise ValueError(f"unknown site {name!r}: the sites are {', '.join(SITES)}")

    def other(self, name: str) -> Site:
        return next(s for s in self.sites if s.name != self.site(name).name)

    @property
    def record_url(self) -> str:
        """The one address clients use (the Route 53 failover record's name)."""
        return f"https://{LOOPBACK}:{self.record_port}"

    @property
    def issuer(self) -> str:
        return f"{self.record_url}/realms/{REALM}"

    @property
    def record_config(self) -> Path:
        return self.state / "record" / "haproxy.cfg"

    @property
    def record_socket(self) -> Path:
        return self.state / "record" / "haproxy.sock"

    @property
    def record_state(self) -> Path:
        """Which site the record prefers (primary) and which may take over (secondary): JSON."""
        return self.state / "record" / "designation.json"

    @property
    def lb_pem(self) -> Path:
        """Certificate + key in one file, as HAProxy reads them."""
        return self.state / "tls" / "lb.pem"
