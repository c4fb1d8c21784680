"""The sites' Keycloak nodes: clustered as the ECS tasks are (Infinispan `ispn`, discovery `jdbc-ping` in the
site's own database), behind the site's load balancer, each node with its own OPA-facing settings.

Each node runs from a hard-linked copy of the built distribution (the single platform's `kc.sh build`) with
its own data/ folder, so nodes never share temporary files. The cluster transport binds to loopback only.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

from policies import opa_server
from realm import keycloak_options
from realm.platform import DB_NAME, DB_USER
from scripts import services
from scripts.install import log
from scripts.settings import LOOPBACK, Settings
from scripts.sites import proc
from scripts.sites.topology import FD_PORT_OFFSET, Node, Site, Topology

BLOCKLIST_DIR = "password-blacklists"
HEAP = "-Xms256m -Xmx1g"
"""Per node: up to four site nodes share a 2-core, 24 GiB box with other engineers' platforms."""

SITE_NODE = keycloak_options.Site(
    cores=1,
    heap=HEAP,
    clustered=True,
    behind_proxy=True,
    json_logs=False,
    audit_events_in_log=False,
)
"""What an ECS task gets (realm/keycloak_options.py `ecs()`: clustered, behind the ALB), sized for a share
of this box: one core and a 1 GiB heap per node, plain-text logs (no CloudWatch here)."""


def node_env(settings: Settings, topology: Topology, site: Site, node: Node) -> dict[str, str]:
    tls_dir = settings.paths.tls
    return {
        **os.environ,
        "KC_DB_URL": f"jdbc:postgresql://{LOOPBACK}:{site.postgres_port}/{DB_NAME}",
        "KC_DB_USERNAME": DB_USER,
        "KC_DB_PASSWORD": settings.secret("db-password"),
        # Every node of both sites answers as the record's name, as every task answers as the Route 53 name.
        "KC_HOSTNAME": topology.record_url,
        "KC_HTTP_HOST": LOOPBACK,
        "KC_HTTPS_PORT": str(node.https_port),
        "KC_HTTPS_CERTIFICATE_FILE": str(tls_dir / "server.pem"),
        "KC_HTTPS_CERTIFICATE_KEY_FILE": str(tls_dir / "server-key.pem"),
        "KC_HTTP_MANAGEMENT_PORT": str(node.management_port),
        "KC_BOOTSTRAP_ADMIN_USERNAME": settings.admin_username,
        "KC_BOOTSTRAP_ADMIN_PASSWORD": settings.secret("admin-password"),
        "BIZID_OPA_URL": site.opa_url,
        opa_server.DECIDE_TOKEN_ENV: settings.secret(opa_server.DECIDE_TOKEN_SECRET),
        **keycloak_options.server_env(SITE_NODE),
        **keycloak_options.cluster_transport_env(LOOPBACK, node.jgroups_port),
        "JAVA_OPTS_APPEND": f"-Djgroups.fd.port-offset={FD_PORT_OFFSET}",
    }


def _prepare_home(settings: Settings, node: Node) -> Path:
    """A hard-linked copy of the built distribution (cheap: no file is duplicated), refreshed when the
    build changed."""
    source = settings.paths.keycloak_home
    marker = source / ".bizid-build"
    build = marker.read_text() if marker.exists() else ""
    copied = node.home / ".bizid-build"
    if copied.exists() and copied.read_text() == build:
        return node.home
    shutil.rmtree(node.home, ignore_errors=True)
    node.home.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["cp", "-al", str(source), str(node.home)], check=True)
    # Own data/ (temporary files, transaction logs), with the installed password blocklist (realm.yaml).
    shutil.rmtree(node.home / "data", ignore_errors=True)
    (node.home / "data").mkdir()
    blocklists = source / "data" / BLOCKLIST_DIR
    if blocklists.is_dir():
        shutil.copytree(blocklists, node.home / "data" / BLOCKLIST_DIR)
    # Replace (not edit: it is a hard link) the cache configuration with one naming the site's cluster.
    cache_config = node.home / "conf" / "cache-ispn.xml"
    cache_config.unlink(missing_ok=True)
    cache_config.write_text(cache_ispn(node.site))
    copied.write_text(build)
    return node.home


def cache_ispn(site: str) -> str:
    """Keycloak's own cache-ispn.xml with the transport's cluster named after the site. Osaka's database is
    a copy of Tokyo's, JGroups discovery table included: on one machine Tokyo's rows are reachable addresses
    (on AWS no route joins the regions' tasks), and with the default name an Osaka node would join Tokyo's
    live cluster. JDBC_PING2 and JGroups keep clusters of different names apart."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by scripts/sites/keycloak.py: Keycloak's default, with the cluster named for the site. -->
<infinispan
        xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
        xsi:schemaLocation="urn:infinispan:config:15.0 http://www.infinispan.org/schemas/infinispan-config-15.0.xsd"
        xmlns="urn:infinispan:config:15.0">
    <cache-container name="keycloak">
        <transport lock-timeout="60000" cluster="bizid-{site}"/>
    </cache-container>
</infinispan>
"""


def ready(node: Node, ca_cert: Path) -> bool:
    return services._http_ok(f"{node.management_url}/health/ready", ca_cert)


def running(settings: Settings, node: Node) -> bool:
    return proc.running(settings, node.process)


def start(settings: Settings, topology: Topology, site: Site, node: Node, wait: bool = True) -> None:
    """Start one node (the single platform's Keycloak is built first: `services` does the `kc.sh build`)."""
    if running(settings, node) and ready(node, topology.ca_cert):
        return
    proc.stop(settings, node.process)
    home = _prepare_home(settings, node)
    log(f"{site.name}: starting Keycloak node {node.index} on {node.url}")
    services._spawn(
        settings,
        node.process,
        [str(home / "bin" / "kc.sh"), "start", "--optimized"],
        node_env(settings, topology, site, node),
        home,
    )
    if wait:
        wait_ready(settings, topology, node)


def wait_ready(settings: Settings, topology: Topology, node: Node) -> None:
    log_file = settings.paths.logs / f"{node.process}.log"
    pid = services.read_pid(settings, node.process)
    services._wait(
        f"Keycloak {node.name}",
        lambda: ready(node, topology.ca_cert),
        300,
        log_file,
        lambda: pid is not None and services._running(pid),
    )


def stop(settings: Settings, node: Node) -> None:
    proc.stop(settings, node.process)


def kill(settings: Settings, node: Node) -> None:
    """SIGKILL the node's process group: a task lost, no graceful leave of the cluster."""
    proc.kill(settings, node.process)


def build_fingerprint(settings: Settings) -> str:
    marker = settings.paths.keycloak_home / ".bizid-build"
    return hashlib.sha256(marker.read_bytes()).hexdigest() if marker.exists() else ""
