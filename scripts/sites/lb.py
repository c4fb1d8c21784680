"""HAProxy from Debian as the sites' load balancers (each region's ALB) and as the failover record (Route 53).

Site LB: terminates TLS with the platform's certificate and re-encrypts to the site's Keycloak nodes (as the
ALB does to the tasks), sets X-Forwarded-*, health-checks each node on `/health/ready` of its management
port (the target group's check) and names the site in an `X-Bizid-Site` response header.

Record: one TCP address (as DNS does not proxy, the record does not look into TLS) in front of the two site
LBs, each health-checked the way the Route 53 check is: `GET /realms/bizid/bizid-site/writable` through the
site's LB over TLS, healthy only when the body holds `"writable":true`. The designated primary gets every
connection while healthy; the secondary only while the primary is not. Servers start DOWN (a server-state
file says so) and must pass the check first: a record that just started sends nothing anywhere.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass
from pathlib import Path

from realm import site as site_signal
from scripts import install, services
from scripts.install import log
from scripts.settings import LOOPBACK, REALM, Settings
from scripts.sites import proc
from scripts.sites.topology import Site, Topology

CHECK = "inter 1s fastinter 500ms downinter 1s fall 2 rise 2"
"""Route 53 checks every 10 or 30 s with a threshold of 3 (docs/infra.md); the local record checks every
second so drills stay short. The decision is the same: consecutive results, not a single probe."""

SITE_BACKEND_ID = 10
RECORD_BACKEND_ID = 20


@dataclass(frozen=True)
class Designation:
    """Which site the record prefers and which may take over. After a failover the promoted site becomes the
    primary and the old one is left out (`secondary=None`) until it is rebuilt as a standby: an old primary
    that comes back writable without fencing gets no traffic (no split brain through the record)."""

    primary: str
    secondary: str | None

    def to_json(self) -> str:
        return json.dumps({"primary": self.primary, "secondary": self.secondary})


def designation(topology: Topology) -> Designation:
    path = topology.record_state
    if not path.exists():
        return Designation(primary="tokyo", secondary="osaka")
    data = json.loads(path.read_text())
    return Designation(primary=data["primary"], secondary=data.get("secondary"))


def _globals(socket_path: Path, state_file: Path) -> str:
    return f"""global
  stats socket {socket_path} mode 600 level admin
  server-state-file {state_file}
  log stderr format short local0 notice

defaults
  log global
  load-server-state-from-file global
  timeout connect 3s
  timeout client 60s
  timeout server 60s
  timeout check 3s
"""


def site_config(settings: Settings, topology: Topology, site: Site) -> str:
    ca = topology.ca_cert
    servers = "\n".join(
        f"  server kc{n.index} {LOOPBACK}:{n.https_port} id {n.index} ssl verify required ca-file {ca} "
        f"check port {n.management_port} check-ssl {CHECK}"
        for n in site.nodes
    )
    return f"""# {site.name}'s load balancer (the ALB). Written by scripts/sites/lb.py.
{_globals(site.lb_socket, _state_file(site.lb_config))}
frontend {site.name}
  mode http
  option httplog
  bind {LOOPBACK}:{site.lb_port} ssl crt {topology.lb_pem}
  option forwardfor
  http-request set-header X-Forwarded-Proto https
  http-request set-header X-Forwarded-Port %[dst_port]
  http-request set-header X-Forwarded-Host %[req.hdr(host)]
  http-response set-header X-Bizid-Site {site.name}
  http-response set-header X-Bizid-Node %[srv_name]
  default_backend {site.name}-keycloak

backend {site.name}-keycloak
  id {SITE_BACKEND_ID}
  mode http
  balance roundrobin
  option httpchk GET /health/ready
  http-check expect status 200
{servers}
"""


def record_config(topology: Topology, chosen: Designation) -> str:
    ca = topology.ca_cert
    check = site_signal.writable_path(REALM)
    lines = []
    for index, name in enumerate((chosen.primary, chosen.secondary), start=1):
        if name is None:
            continue
        site = topology.site(name)
        role = "" if name == chosen.primary else " backup"
        lines.append(
            f"  server {name} {LOOPBACK}:{site.lb_port} id {index} check check-ssl verify required "
            f"ca-file {ca} {CHECK}{role}"
        )
    servers = "\n".join(lines)
    secondary = chosen.secondary or "none"
    return f"""# The failover record (Route 53): primary {chosen.primary}, secondary {secondary}.
# Written by scripts/sites/lb.py from {topology.record_state.name}.
{_globals(topology.record_socket, _state_file(topology.record_config))}
frontend record
  mode tcp
  bind {LOOPBACK}:{topology.record_port}
  default_backend sites

backend sites
  id {RECORD_BACKEND_ID}
  mode tcp
  option httpchk
  http-check send meth GET uri {check} ver HTTP/1.1 hdr Host {LOOPBACK}:{topology.record_port}
  http-check expect string '{site_signal.WRITABLE_MARKER}'
{servers}
"""


def _state_file(config: Path) -> Path:
    return config.with_name("servers.state")


def _down_state(backend: str, backend_id: int, servers: list[tuple[int, str, int, bool, int]]) -> str:
    """A server-state file that has every server DOWN with no health credit: HAProxy then needs `rise`
    passing checks before it sends anything (its default would be to start them UP)."""
    header = (
        "1\n# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight "
        "srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state "
        "srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl "
        "srv_check_port srv_check_addr srv_agent_addr srv_agent_port\n"
    )
    rows = "".join(
        f"{backend_id} {backend} {sid} {name} {LOOPBACK} 0 0 1 1 0 8 2 0 6 0 0 0 - {port} - {int(ssl)} "
        f"{check_port} - - 0\n"
        for sid, name, port, ssl, check_port in servers
    )
    return header + rows


def _start(settings: Settings, process: str, config: Path, text: str, state: str) -> None:
    haproxy = install.ensure_haproxy()
    config.parent.mkdir(parents=True, exist_ok=True)
    running = proc.running(settings, process)
    if running and config.exists() and config.read_text() == text:
        return
    proc.stop(settings, process, timeout=10)
    config.write_text(text)
    _state_file(config).write_text(state)
    check = install.run  # validate first: a bad config is an error with HAProxy's message
    check([str(haproxy), "-c", "-q", "-f", str(config)])
    log(f"starting HAProxy {process}")
    services._spawn(settings, process, [str(haproxy), "-db", "-f", str(config)], {}, config.parent)


def ensure_pem(settings: Settings, topology: Topology) -> None:
    tls = settings.paths.tls
    pem = (tls / "server.pem").read_text() + (tls / "server-key.pem").read_text()
    topology.lb_pem.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not topology.lb_pem.exists() or topology.lb_pem.read_text() != pem:
        topology.lb_pem.write_text(pem)
        topology.lb_pem.chmod(0o600)


def start_site(settings: Settings, topology: Topology, site: Site) -> None:
    ensure_pem(settings, topology)
    state = _down_state(
        f"{site.name}-keycloak",
        SITE_BACKEND_ID,
        [(n.index, f"kc{n.index}", n.https_port, True, n.management_port) for n in site.nodes],
    )
    _start(settings, site.lb_process, site.lb_config, site_config(settings, topology, site), state)


def start_record(settings: Settings, topology: Topology) -> None:
    chosen = designation(topology)
    servers = [
        (i, name, topology.site(name).lb_port, False, 0)
        for i, name in enumerate((chosen.primary, chosen.secondary), start=1)
        if name is not None
    ]
    _start(
        settings,
        topology.record_process,
        topology.record_config,
        record_config(topology, chosen),
        _down_state("sites", RECORD_BACKEND_ID, servers),
    )


def designate(settings: Settings, topology: Topology, chosen: Designation) -> None:
    """Re-designate the record (the runbook's step after a promotion) and reload it with the new roles."""
    for name in (chosen.primary, chosen.secondary):
        if name is not None:
            topology.site(name)
    if chosen.primary == chosen.secondary:
        raise ValueError(f"the record's primary and secondary must differ (both {chosen.primary})")
    topology.record_state.parent.mkdir(parents=True, exist_ok=True)
    topology.record_state.write_text(chosen.to_json() + "\n")
    start_record(settings, topology)


def stop(settings: Settings, process: str) -> None:
    proc.stop(settings, process, timeout=10)


def stop_all(settings: Settings, topology: Topology) -> None:
    stop(settings, topology.record_process)
    for site in topology.sites:
        stop(settings, site.lb_process)


def running(settings: Settings, process: str) -> bool:
    return proc.running(settings, process)


def server_states(socket_path: Path) -> dict[str, dict[str, str]]:
    """HAProxy's own view (`show stat`): server name -> {status: UP/DOWN/..., bck: 0/1}; {} if not running."""
    try:
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(3)
            sock.connect(str(socket_path))
            sock.sendall(b"show stat\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
    except OSError:
        return {}
    lines = b"".join(chunks).decode().splitlines()
    if not lines or not lines[0].startswith("# "):
        return {}
    header = lines[0][2:].split(",")
    states = {}
    for line in lines[1:]:
        row = dict(zip(header, line.split(","), strict=False))
        if row.get("svname") not in (None, "", "FRONTEND", "BACKEND"):
            states[row["svname"]] = row
    return states


def _admin(socket_path: Path, command: str) -> str:
    """One command on HAProxy's admin socket; its answer ("" when it has nothing to say)."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(3)
        sock.connect(str(socket_path))
        sock.sendall(command.encode() + b"\n")
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks).decode().strip()


def drain_record(topology: Topology, site: str) -> None:
    """Take `site` out of the record whatever its health check says (a planned switchover's first step: the
    record must not send anything to a site that is about to turn read-only) and close the connections the
    record still holds to it. Lasts until the record is restarted (a re-designation), which leaves a drained
    old primary out or rebuilt as a standby. Other servers are not touched: leaving maintenance, HAProxy
    counts a server UP until its next check fails, so "ready" on an unhealthy one would let it through."""
    topology.site(site)
    states = server_states(topology.record_socket)
    if site not in states:
        servers = ", ".join(states) or "the record is not running"
        raise ValueError(f"{site} is not in the record (servers: {servers})")
    answer = _admin(topology.record_socket, f"set server sites/{site} state maint")
    if answer:
        raise RuntimeError(f"record: set server sites/{site} state maint: {answer}")
    _admin(topology.record_socket, f"shutdown sessions server sites/{site}")


def record_points_to(topology: Topology) -> str | None:
    """Where a new connection to the record goes now, by HAProxy's health state: the primary while it
    passes the writable check, else the secondary while it does, else nowhere (None)."""
    states = server_states(topology.record_socket)
    chosen = designation(topology)
    for name in (chosen.primary, chosen.secondary):
        if name is not None and states.get(name, {}).get("status", "").startswith("UP"):
            return name
    return None


def healthy_nodes(site: Site) -> list[int]:
    """The site's nodes its LB has in service (passing /health/ready)."""
    states = server_states(site.lb_socket)
    return [n.index for n in site.nodes if states.get(f"kc{n.index}", {}).get("status", "").startswith("UP")]
