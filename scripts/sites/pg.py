"""The sites' PostgreSQL: Tokyo's primary and Osaka's streaming-replication standby (the Aurora Global
database and its secondary region), each a project-local cluster on its own loopback port.

Asynchronous physical replication, as Aurora Global: a commit in Tokyo returns before Osaka has it, so a
loss of Tokyo can lose the last transactions (the replication lag at the kill). The standby is read-only
(`pg_is_in_recovery()`) until `promote`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from realm.platform import DB_NAME, DB_USER
from scripts import install
from scripts.install import InstallError, log
from scripts.services import PG_SUPERUSER, _as_postgres_user
from scripts.settings import LOOPBACK, Settings
from scripts.sites.topology import Site

REPLICATION_USER = "replicator"
CONF_FILE = "bizid-site.conf"


def _bin() -> Path:
    return install.ensure_postgres()


def conf(site: Site) -> str:
    """Loopback only; modest memory (two clusters and four Keycloak nodes share a 2-core box)."""
    return f"""# Written by scripts/sites/pg.py on every start.
listen_addresses = '{LOOPBACK}'
port = {site.postgres_port}
unix_socket_directories = '{site.pgsocket}'
unix_socket_permissions = 0700
max_connections = 100
shared_buffers = 128MB
wal_level = replica
max_wal_senders = 5
wal_keep_size = 1GB
hot_standby = on
"""


def ready(site: Site) -> bool:
    result = subprocess.run(
        [str(_bin() / "pg_isready"), "-q", "-h", LOOPBACK, "-p", str(site.postgres_port)], check=False
    )
    return result.returncode == 0


def psql(site: Site, sql: str, database: str = "postgres") -> str:
    cmd = _as_postgres_user(
        [
            str(_bin() / "psql"),
            "-h",
            str(site.pgsocket),
            "-p",
            str(site.postgres_port),
            "-U",
            PG_SUPERUSER,
            "-d",
            database,
            "-v",
            "ON_ERROR_STOP=1",
            "-tAc",
            sql,
        ]
    )
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise InstallError(f"psql on {site.name} failed: {result.stderr.strip()}")
    return result.stdout.strip()


def _own(path: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chown", "-R", "postgres:postgres", str(path)], check=True)


def _pg_ctl(site: Site, *args: str) -> None:
    install.run(_as_postgres_user([str(_bin() / "pg_ctl"), "-D", str(site.pgdata), "-w", "-t", "60", *args]))


def _write_conf(site: Site) -> None:
    target = site.pgdata / CONF_FILE
    target.write_text(conf(site))
    _own(target)


def init_primary(settings: Settings, site: Site) -> None:
    """A fresh cluster with Keycloak's database and the replication role (like the single platform's)."""
    log(f"{site.name}: creating the primary PostgreSQL cluster")
    site.pgsocket.mkdir(parents=True, exist_ok=True)
    _own(site.pgdata.parent)
    install.run(
        _as_postgres_user(
            [
                str(_bin() / "initdb"),
                "-D",
                str(site.pgdata),
                "-U",
                PG_SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ]
        )
    )
    with (site.pgdata / "postgresql.conf").open("a") as f:
        f.write(f"\ninclude_if_exists '{CONF_FILE}'\n")
    start(site)
    password = install.ensure_secret(settings, "db-password")
    replication = install.ensure_secret(settings, "replication-password")
    psql(site, f"CREATE ROLE {DB_USER} LOGIN PASSWORD '{password}'")
    psql(site, f"CREATE DATABASE {DB_NAME} OWNER {DB_USER}")
    psql(site, f"CREATE ROLE {REPLICATION_USER} REPLICATION LOGIN PASSWORD '{replication}'")


def init_standby(settings: Settings, site: Site, primary: Site) -> None:
    """`pg_basebackup -R` from `primary`: an asynchronous streaming standby (standby.signal written)."""
    log(f"{site.name}: pg_basebackup from {primary.name} (streaming standby)")
    stop(site)
    shutil.rmtree(site.pgdata, ignore_errors=True)
    site.pgsocket.mkdir(parents=True, exist_ok=True)
    _own(site.pgdata.parent)
    password = install.ensure_secret(settings, "replication-password")
    conninfo = (
        f"host={LOOPBACK} port={primary.postgres_port} user={REPLICATION_USER} "
        f"password={password} application_name={site.name}"
    )
    install.run(
        _as_postgres_user(
            [
                str(_bin() / "pg_basebackup"),
                "-d",
                conninfo,
                "-D",
                str(site.pgdata),
                "-X",
                "stream",
                "-R",
                "-c",
                "fast",
            ]
        )
    )
    # The copy carries the primary's bizid-site.conf (its port): this site's own settings replace it.
    start(site)


def start(site: Site) -> None:
    if ready(site):
        return
    _write_conf(site)
    _own(site.pgdata.parent)
    _pg_ctl(site, "-l", str(site.pglog), "start")


def stop(site: Site) -> None:
    if (site.pgdata / "postmaster.pid").exists():
        subprocess.run(
            _as_postgres_user([str(_bin() / "pg_ctl"), "-D", str(site.pgdata), "-m", "fast", "-w", "stop"]),
            capture_output=True,
            check=False,
        )


def postmaster_pid(site: Site) -> int | None:
    try:
        return int((site.pgdata / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def kill(site: Site) -> None:
    """SIGKILL the postmaster (its backends exit when they see it gone): a lost region, not a shutdown."""
    pid = postmaster_pid(site)
    if pid is None:
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return


def in_recovery(site: Site) -> bool | None:
    """True on a standby, False on a primary, None when the cluster does not answer."""
    if not ready(site):
        return None
    return psql(site, "SELECT pg_is_in_recovery()") == "t"


def promote(site: Site) -> None:
    """`pg_ctl promote`: the standby leaves recovery and takes writes (the Aurora Global failover)."""
    if in_recovery(site) is not True:
        raise ValueError(f"{site.name}: the database is not a running standby; nothing to promote")
    _pg_ctl(site, "promote")


@dataclass(frozen=True)
class Lag:
    bytes: int | None
    seconds: float | None


def lag(primary: Site, standby: Site) -> Lag:
    """Replication lag of `standby` behind `primary`: WAL bytes (primary's current LSN - standby's replayed
    LSN) and seconds (the primary's view, `pg_stat_replication.replay_lag`; 0 when idle and caught up)."""
    try:
        row = psql(
            primary,
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint, "
            "coalesce(extract(epoch FROM replay_lag), 0) FROM pg_stat_replication "
            f"WHERE application_name = '{standby.name}'",
        )
    except InstallError:
        return Lag(None, None)
    if not row:
        return Lag(None, None)
    lag_bytes, seconds = row.split("|")
    return Lag(int(lag_bytes), float(seconds))


def replayed_lsn(site: Site) -> str | None:
    try:
        return psql(site, "SELECT pg_last_wal_replay_lsn()") or None
    except InstallError:
        return None
