"""The RPO inventory: what a site's database has committed, by natural key, and what another site lacks.

Everything an account is lives in Keycloak's tables: the account (`user_entity.username`), its credentials
(`credential`: type and creation time per username), and the delegations and licences it holds
(`user_attribute` values named `delegations` / `licences`, realm/delegation_records.py). A snapshot keys
each by what an operator would recognise (no surrogate ids, which a restore could change), with the WAL
position it was taken at and, on a primary, the replication lag of its standby.

The `Writer` creates accounts through the failover record during a drill (one Admin API call, one
transaction each), so there is something to lose; an account whose creation Keycloak acknowledged has
committed, and the drill checks each one on the surviving site.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from realm.delegation_records import DELEGATIONS_ATTRIBUTE, LICENCES_ATTRIBUTE
from realm.platform import REALM

KINDS = ("accounts", "credentials", "delegations", "licences")

_REALM = "(SELECT id FROM realm WHERE name = %(realm)s)"
QUERIES = {
    "accounts": f"SELECT u.username FROM user_entity u WHERE u.realm_id = {_REALM}",
    "credentials": (
        "SELECT u.username || ' ' || c.type || ' ' || coalesce(c.created_date, 0)"
        f" FROM credential c JOIN user_entity u ON u.id = c.user_id WHERE u.realm_id = {_REALM}"
    ),
    "delegations": (
        "SELECT u.username || ' ' || a.value FROM user_attribute a JOIN user_entity u ON u.id = a.user_id"
        f" WHERE u.realm_id = {_REALM} AND a.name = %(delegations)s"
    ),
    "licences": (
        "SELECT u.username || ' ' || a.value FROM user_attribute a JOIN user_entity u ON u.id = a.user_id"
        f" WHERE u.realm_id = {_REALM} AND a.name = %(licences)s"
    ),
}
_PARAMS = {"realm": REALM, "delegations": DELEGATIONS_ATTRIBUTE, "licences": LICENCES_ATTRIBUTE}


@dataclass(frozen=True)
class Database:
    """How to reach one site's database (Keycloak's own login; a standby answers the same queries)."""

    host: str
    port: int
    dbname: str
    user: str
    password: str

    def connect(self, timeout: float = 5.0) -> psycopg.Connection[Any]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            dbname=self.dbname,
            user=self.user,
            password=self.password,
            connect_timeout=max(1, int(timeout)),
            autocommit=True,
        )


@dataclass(frozen=True)
class Lag:
    """Replication lag of the standby as its primary sees it (pg_stat_replication)."""

    bytes: int | None
    seconds: float | None


@dataclass(frozen=True)
class Snapshot:
    site: str
    taken: float
    lsn: str
    in_recovery: bool
    keys: dict[str, frozenset[str]]

    def count(self) -> dict[str, int]:
        return {kind: len(self.keys.get(kind, frozenset())) for kind in KINDS}


def snapshot(site: str, db: Database) -> Snapshot:
    """What `db` has committed now, by natural key, with its WAL position (one repeatable-read read)."""
    taken = time.time()  # before the read: whatever was acknowledged before this is in it
    with db.connect() as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        in_recovery = bool(_one(conn, "SELECT pg_is_in_recovery()"))
        lsn = str(
            _one(conn, "SELECT pg_last_wal_replay_lsn()" if in_recovery else "SELECT pg_current_wal_lsn()")
        )
        keys = {
            kind: frozenset(str(r[0]) for r in conn.execute(sql, _PARAMS)) for kind, sql in QUERIES.items()
        }
        conn.execute("COMMIT")
    return Snapshot(site, taken, lsn, in_recovery, keys)


def _one(conn: psycopg.Connection[Any], sql: str) -> Any:
    row = conn.execute(sql).fetchone()
    return row[0] if row else None


def replication_lag(primary: Database, standby: Database) -> Lag:
    """The standby's lag behind the primary now: bytes = primary's WAL position - standby's replayed one;
    seconds = primary's clock - commit time of the last transaction the standby replayed (the usual measure;
    with the drill's writer committing every fraction of a second it is not inflated by idle time). Read
    with Keycloak's own login: pg_stat_replication hides its lsn columns from non-superusers."""
    with primary.connect() as p, standby.connect() as s:
        current, now = p.execute(
            "SELECT pg_current_wal_lsn()::text, extract(epoch FROM now())"
        ).fetchone() or (
            None,
            None,
        )
        replayed, replayed_at = s.execute(
            "SELECT pg_last_wal_replay_lsn()::text, extract(epoch FROM pg_last_xact_replay_timestamp())"
        ).fetchone() or (None, None)
        if current is None or replayed is None:
            return Lag(None, None)
        diff = p.execute(
            "SELECT pg_wal_lsn_diff(%s::pg_lsn, %s::pg_lsn)::bigint", (current, replayed)
        ).fetchone()
    seconds = None if now is None or replayed_at is None else max(0.0, float(now) - float(replayed_at))
    return Lag(max(0, int(diff[0])) if diff else None, seconds)


@dataclass(frozen=True)
class Loss:
    """What the survivor lacks of the snapshot (by kind) and of the acknowledged writes."""

    missing: dict[str, list[str]]
    acknowledged_missing: list[str]
    acknowledged: int

    @property
    def transactions(self) -> int:
        """Lost account creations (one transaction each: the user, its attributes and credential)."""
        return len(set(self.missing.get("accounts", [])) | set(self.acknowledged_missing))

    @property
    def none(self) -> bool:
        return not any(self.missing.values()) and not self.acknowledged_missing


def compare(before: Snapshot, after: Snapshot, acknowledged: set[str] | None = None) -> Loss:
    """Everything `before` had (and every acknowledged account) that `after` does not have."""
    missing = {kind: sorted(before.keys[kind] - after.keys[kind]) for kind in KINDS}
    acked = acknowledged or set()
    return Loss(missing, sorted(acked - after.keys["accounts"]), len(acked))


# --- the writer -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Write:
    username: str
    start: float
    end: float
    ok: bool
    error: str = ""


@dataclass
class Writer:
    """Creates Entry accounts `<prefix>-<n>` one after another until stopped or a bound is reached; each
    acknowledged creation is a committed transaction the survivor must have."""

    create: Any
    """Callable[[str], None]: creates one account (raises on failure)."""
    prefix: str
    pause: float = 0.5
    max_writes: int = 2_000
    max_seconds: float = 300.0
    writes: list[Write] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> Writer:
        self._thread = threading.Thread(target=self._run, name="drill-writer", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        deadline = time.monotonic() + self.max_seconds
        n = 0
        while not self._stop.is_set() and time.monotonic() < deadline and n < self.max_writes:
            username = f"{self.prefix}-{n:05d}"
            n += 1
            start = time.time()
            try:
                self.create(username)
                self.writes.append(Write(username, start, time.time(), True))
            except Exception as exc:  # a failed write is expected while a site is down: recorded
                self.writes.append(Write(username, start, time.time(), False, f"{type(exc).__name__}"[:80]))
            self._stop.wait(self.pause)

    def stop(self) -> list[Write]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=60)
        return list(self.writes)

    def acknowledged(self, before: float | None = None) -> set[str]:
        """Accounts whose creation was acknowledged (before `before`, a unix time, if given)."""
        return {w.username for w in self.writes if w.ok and (before is None or w.end <= before)}


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%H:%M:%S.%f")[:-3]
