"""Keycloak's server options: the one source read by the local platform (scripts/services.py: `kc.sh build`
and the environment of `kc.sh start`) and by the ECS task definition (infra/components/keycloak_service.py).

What may differ between the two is a `Site` field with its reason; everything else is the same value in
both places. Addresses, ports, certificates and secrets are each consumer's own (loopback ports and
generated secrets locally, the ALB-facing ports and Secrets Manager on AWS); tests/test_runtime_options.py
builds the task definition under Pulumi mocks and checks that it and the local command agree.

The tuning and what it was measured with are in docs/tuning.md.
"""

from __future__ import annotations

from dataclasses import dataclass

BUILD_OPTIONS: dict[str, str] = {
    "KC_DB": "postgres",
    "KC_HEALTH_ENABLED": "true",
    "KC_METRICS_ENABLED": "true",
}
"""Build-time options (`kc.sh build`): locally as `--db=postgres ...`, in the image as ENV of the builder
stage (infra/images/keycloak/Dockerfile, tested). Also in the runtime environment, where they must equal
what was built (`start --optimized`)."""

THREADS_PER_CORE = 4
"""Worker threads per core. Password hashing is CPU bound and Keycloak lets only `cores` Argon2 hashes run
at once; the other steps of a sign-in are a few ms of CPU each. 4 per core kept two cores busy (8 threads:
sustained 22.6 sign-ins/s against 20/s with 24); more only park requests inside the server where no one
sees them (Keycloak's default is max(50, 4 x cores), which is the same on big boxes and far more on small)."""
QUEUE_PER_THREAD = 2
"""Load shedding: beyond 2 x threads queued requests Keycloak answers 503 at once (median 6 ms) instead of
letting every client's wait grow until timeouts. Little's law: a sign-in is five requests in a row, each
behind at most threads + queue others (about 0.2 s on two cores), so an admitted sign-in takes about a
second; 24 + 48 on two cores let admitted sign-ins wait 3 s at p99 (docs/tuning.md)."""

DB_POOL: dict[str, str] = {
    # Default max is 100: far more than a task's cores can use, and each idle connection costs PostgreSQL
    # a backend (Aurora: tasks x pool <= max_connections). 20 covers the worker threads that touch the
    # database at once; starting with 10 open avoids connection set-up during the first burst.
    "KC_DB_POOL_INITIAL_SIZE": "10",
    "KC_DB_POOL_MIN_SIZE": "10",
    "KC_DB_POOL_MAX_SIZE": "20",
}

PASSWORD_BLOCKLIST: dict[str, str] = {
    # The common-password blocklist (scripts/password_blocklist.py) is held as a Bloom filter whose default
    # false-positive rate, 1e-4, refuses one sound password in 10,000 as "blacklisted" (at ten million
    # accounts: a thousand holders told their random password is common; the test suite hit it too). 1e-9
    # costs a few hundred KB of heap for the ~20,000 words and refuses nothing a holder could explain.
    "KC_SPI_PASSWORD_POLICY__PASSWORD_BLACKLIST__FALSE_POSITIVE_PROBABILITY": "1e-9",
}

AUDIT_EVENT_LEVELS: dict[str, str] = {
    # Success events too, not only errors: in AWS they are the audit trail shipped to the archive.
    "KC_SPI_EVENTS_LISTENER__JBOSS_LOGGING__SUCCESS_LEVEL": "info",
    "KC_SPI_EVENTS_LISTENER__JBOSS_LOGGING__ERROR_LEVEL": "warn",
}


@dataclass(frozen=True)
class Site:
    """What legitimately differs between where Keycloak runs; each field says why."""

    cores: int
    """CPUs the server gets: the sizes above are per core (the local box was measured with 2)."""
    heap: str
    """`JAVA_OPTS_KC_HEAP`: fixed on a shared box (predictable RSS), a share of the container elsewhere."""
    clustered: bool
    """Infinispan across tasks (`ispn`, nodes found through the database: `jdbc-ping`) or one node
    (`local`: no cluster transport, which would otherwise listen on every interface)."""
    behind_proxy: bool
    """Behind the ALB: trust its X-Forwarded-* headers (never on loopback, where nothing sets them)."""
    json_logs: bool
    """JSON lines for CloudWatch Logs and the audit archive's subscription filters."""
    audit_events_in_log: bool
    """Log every Keycloak event (the audit archive's source on AWS); locally the event store in PostgreSQL
    is the trail and the log keeps the load tests' CPU for sign-ins."""


LOCAL = Site(
    cores=2,
    # 2 GiB holds the realm, the user cache (10,000 entries by default) and thousands of sessions; every
    # Argon2 hash allocates 7 MiB of short-lived blocks, which G1's young generation collects cheaply.
    heap="-Xms1g -Xmx2g",
    clustered=False,
    behind_proxy=False,
    json_logs=False,
    audit_events_in_log=False,
)


def ecs(cpu_units: int) -> Site:
    """An ECS Fargate task of `cpu_units` (1024 per vCPU), several per region behind the ALB."""
    return Site(
        cores=max(1, cpu_units // 1024),
        heap="-XX:MaxRAMPercentage=70",
        clustered=True,
        behind_proxy=True,
        json_logs=True,
        audit_events_in_log=True,
    )


def http_pool(cores: int) -> dict[str, str]:
    threads = THREADS_PER_CORE * cores
    return {
        "KC_HTTP_POOL_MAX_THREADS": str(threads),
        "KC_HTTP_MAX_QUEUED_REQUESTS": str(QUEUE_PER_THREAD * threads),
    }


def server_env(site: Site) -> dict[str, str]:
    """Every Keycloak option that is not an address, port, certificate or secret, for `site`."""
    env = {
        **BUILD_OPTIONS,
        # TLS only: locally Keycloak's own certificate, on AWS the ALB re-encrypts to the task.
        "KC_HTTP_ENABLED": "false",
        "KC_LOG_LEVEL": "info",
        **http_pool(site.cores),
        **DB_POOL,
        **PASSWORD_BLOCKLIST,
        "JAVA_OPTS_KC_HEAP": site.heap,
        "KC_CACHE": "ispn" if site.clustered else "local",
    }
    if site.clustered:
        env["KC_CACHE_STACK"] = "jdbc-ping"
        # Explicit, not Keycloak's default: the security group opens this port (and + 50000) and no other;
        # the two-site topology on one machine overrides it per node (`cluster_transport_env`).
        env.update(cluster_transport_env(None))
    if site.behind_proxy:
        env["KC_PROXY_HEADERS"] = "xforwarded"
    if site.json_logs:
        env["KC_LOG_CONSOLE_OUTPUT"] = "json"
    if site.audit_events_in_log:
        env.update(AUDIT_EVENT_LEVELS)
    return env


CLUSTER_TRANSPORT_PORT = 7800
"""JGroups' TCP transport port; FD_SOCK2 (failure detection) listens at this + FAILURE_DETECTION_OFFSET. The
ECS task's security group opens exactly these two (infra/components/common.py JGROUPS_PORTS)."""
FAILURE_DETECTION_OFFSET = 50000


def cluster_transport_env(
    bind_address: str | None, bind_port: int = CLUSTER_TRANSPORT_PORT
) -> dict[str, str]:
    """Where a clustered node's transport listens: on ECS the task's own address (Keycloak's default,
    SITE_LOCAL, is the awsvpc interface: `bind_address=None`) on the default port; on one machine each node
    binds loopback on a port of its own (scripts/sites), so no cluster traffic leaves the box."""
    env = {"KC_CACHE_EMBEDDED_NETWORK_BIND_PORT": str(bind_port)}
    if bind_address is not None:
        env["KC_CACHE_EMBEDDED_NETWORK_BIND_ADDRESS"] = bind_address
    return env


def build_args() -> list[str]:
    """`kc.sh build` arguments for BUILD_OPTIONS (`KC_DB=postgres` -> `--db=postgres`)."""
    return [f"--{_cli_name(name)}={value}" for name, value in BUILD_OPTIONS.items()]


def _cli_name(env_name: str) -> str:
    return env_name.removeprefix("KC_").lower().replace("_", "-")
