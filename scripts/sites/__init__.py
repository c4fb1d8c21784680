"""The two-site topology on one machine (Tokyo primary, Osaka standby, the failover record) and the
operations the failover runbook and the drills take on it. docs/infra.md "Two sites on one machine"."""

from scripts.sites.ops import (
    check_site_count,
    down,
    fence,
    kill_node,
    kill_site,
    promote,
    rebuild_as_standby,
    record_points_to,
    start_keycloak,
    start_node,
    status,
    stop_keycloak,
    up,
    wait_record,
    wipe,
)
from scripts.sites.topology import SITES, Topology

__all__ = [
    "SITES",
    "Topology",
    "check_site_count",
    "down",
    "fence",
    "kill_node",
    "kill_site",
    "promote",
    "rebuild_as_standby",
    "record_points_to",
    "start_keycloak",
    "start_node",
    "status",
    "stop_keycloak",
    "up",
    "wait_record",
    "wipe",
]
