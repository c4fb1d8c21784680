"""`bizid seed --accounts N`: fill the local platform with N load-test accounts in minutes.

The Admin REST API creates tens of accounts a second (each one a JPA transaction plus an Argon2 hash):
days for millions. This seeder writes the accounts straight into Keycloak's own tables with COPY, exactly
as Keycloak's JPA store would have written them:

- `user_entity` (username and e-mail lower case, e-mail verified, enabled), `user_attribute` (the
  user-profile attributes of the tier), `user_role_mapping` (the realm's default role, as Keycloak grants
  it on creation);
- `credential`: the password as Keycloak's Argon2 provider stores it (same JSON, same parameters as the
  realm policy and the provider defaults, so Keycloak never re-hashes on login), and for Prime and Member
  an enrolled TOTP credential (the JSON Keycloak's OTP enrolment writes).

Keycloak finds such users like any other: its user cache misses and it reads them from the database.

Resumable and idempotent: every row id is derived from the account index (`population.row_id`), and the
work is cut into batches of consecutive indexes, one transaction each. A batch whose users all exist is
skipped; an empty batch is written with plain COPY; a partial batch (someone deleted accounts) is written
through temporary tables with ON CONFLICT DO NOTHING. Counts are verified at the end.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import multiprocessing
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg

from loadtests import population as pop
from realm import admin_paths
from realm.platform import DB_NAME, DB_USER
from scripts import arguments
from scripts import settings as settings_mod
from scripts.settings import LOOPBACK, REALM, Settings

DEFAULT_BATCH = 25_000
MAX_ACCOUNTS = 50_000_000
"""Hard bound: 10 M accounts took 42 GB with Keycloak's indexes; more is beyond any local disk."""

# Argon2 defaults of Keycloak 26.5 (org.keycloak.crypto.hash.Argon2Parameters); the realm policy sets only
# the algorithm and iterations, the provider supplies the rest. Changing any of them makes Keycloak
# re-hash on the next login (Argon2PasswordHashProvider.policyCheck), so the seeder must match them.
ARGON2_TYPE = "id"
ARGON2_VERSION = "1.3"
ARGON2_HASH_LENGTH = 32
ARGON2_MEMORY_KIB = 7168
ARGON2_PARALLELISM = 1

# The tables and columns we write; checked against the live schema before anything is written.
USER_COLUMNS = (
    "id",
    "email",
    "email_constraint",
    "email_verified",
    "enabled",
    "first_name",
    "last_name",
    "realm_id",
    "username",
    "created_timestamp",
    "not_before",
)
CREDENTIAL_COLUMNS = (
    "id",
    "type",
    "user_id",
    "created_date",
    "user_label",
    "secret_data",
    "credential_data",
    "priority",
    "version",
)
ATTRIBUTE_COLUMNS = ("name", "value", "user_id", "id")
ROLE_MAPPING_COLUMNS = ("role_id", "user_id")
TABLES: dict[str, tuple[str, ...]] = {
    "user_entity": USER_COLUMNS,
    "credential": CREDENTIAL_COLUMNS,
    "user_attribute": ATTRIBUTE_COLUMNS,
    "user_role_mapping": ROLE_MAPPING_COLUMNS,
}
OTP_CREDENTIAL_DATA = json.dumps(
    {
        "subType": "totp",
        "digits": pop.TOTP_DIGITS,
        "counter": 0,
        "period": pop.TOTP_PERIOD,
        "algorithm": pop.TOTP_ALGORITHM,
    },
    separators=(",", ":"),
)
PASSWORD_PRIORITY = 10  # Keycloak gives a user's first credential priority 10, the next +10
OTP_PRIORITY = 20
OTP_LABEL = "seeded by bizid seed"


class SeedError(ValueError):
    """Seeding cannot proceed; the message says why and what to do."""


# --- connecting and checking ------------------------------------------------------------------------


def superuser_available(cfg: Settings) -> bool:
    """The cluster's Unix socket is reachable (root or the postgres user): it trusts local logins."""
    return os.access(cfg.paths.pgsocket, os.R_OK | os.X_OK) and any(cfg.paths.pgsocket.glob(".s.PGSQL.*"))


def conninfo(cfg: Settings, superuser: bool = False) -> str:
    """Keycloak's own database login (the DB owner) over loopback TCP, or the cluster superuser over the
    project-local socket (needed only to skip foreign-key triggers, see `run_job`)."""
    if superuser:
        return psycopg.conninfo.make_conninfo(
            host=str(cfg.paths.pgsocket),
            port=cfg.ports.postgres,
            dbname=DB_NAME,
            user="postgres",
            application_name="bizid-seed",
        )
    return psycopg.conninfo.make_conninfo(
        host=LOOPBACK,
        port=cfg.ports.postgres,
        dbname=DB_NAME,
        user=DB_USER,
        password=cfg.secret("db-password"),
        application_name="bizid-seed",
    )


@dataclass(frozen=True)
class Target:
    """What the seeder needs from the live realm."""

    realm_id: str
    default_role_id: str
    hash_algorithm: str
    hash_iterations: int
    id_prefix: str = pop.ID_PREFIX
    """First four hex digits of every row id written into this realm (`population.id_prefix`)."""


def _policy_value(policy: str, name: str) -> str | None:
    match = re.search(rf"\b{name}\(([^)]*)\)", policy)
    return match.group(1) if match else None


def inspect(conn: psycopg.Connection[Any], realm: str = REALM, id_prefix: str = pop.ID_PREFIX) -> Target:
    """Realm id, default role and password policy of the live realm; the schema we write, checked."""
    for table, columns in TABLES.items():
        rows = conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
            " AND table_name = %s",
            (table,),
        ).fetchall()
        have = {r[0] for r in rows}
        missing = [c for c in columns if c not in have]
        if missing:
            raise SeedError(
                f"table {table} lacks columns {missing}: not the Keycloak 26.5 schema this seeder writes"
                " (has Keycloak started once against this database?)"
            )
    row = conn.execute(
        "SELECT id, default_role, coalesce(password_policy, '') FROM realm WHERE name = %s", (realm,)
    ).fetchone()
    if row is None:
        raise SeedError(f"realm {realm!r} does not exist yet: run `bizid up` (it applies the realm) first")
    realm_id, default_role, policy = str(row[0]), str(row[1]), str(row[2])
    algorithm = _policy_value(policy, "hashAlgorithm") or "argon2"  # Keycloak 24+ default
    iterations_text = _policy_value(policy, "hashIterations")
    if algorithm != "argon2":
        raise SeedError(f"realm password policy uses {algorithm!r}; this seeder writes Argon2 hashes only")
    iterations = int(iterations_text) if iterations_text and iterations_text.isdigit() else 5
    if iterations > 100:  # Argon2PasswordHashProvider ignores such values and uses its default (5)
        iterations = 5
    return Target(realm_id, default_role, algorithm, iterations, id_prefix)


# --- what a batch writes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PasswordEntry:
    secret_data: str
    credential_data: str


def argon2_hash(password: str, salt: bytes, iterations: int) -> bytes:
    """Keycloak's Argon2 (BouncyCastle) with its defaults; argon2-cffi computes the identical bytes."""
    from argon2.low_level import Type, hash_secret_raw

    return hash_secret_raw(
        password.encode(),
        salt,
        time_cost=iterations,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=ARGON2_HASH_LENGTH,
        type=Type.ID,
        version=0x13,
    )


def password_pool(iterations: int) -> list[PasswordEntry]:
    """The stored form of each pool password: the exact JSON Keycloak writes (PasswordCredentialModel)."""
    credential_data = json.dumps(
        {
            "hashIterations": iterations,
            "algorithm": "argon2",
            "additionalParameters": {
                "hashLength": [str(ARGON2_HASH_LENGTH)],
                "memory": [str(ARGON2_MEMORY_KIB)],
                "type": [ARGON2_TYPE],
                "version": [ARGON2_VERSION],
                "parallelism": [str(ARGON2_PARALLELISM)],
            },
        },
        separators=(",", ":"),
    )
    entries = []
    for number in range(pop.PASSWORD_POOL):
        salt = pop.pool_salt(number)
        value = argon2_hash(pop.pool_password(number), salt, iterations)
        secret = {
            "value": base64.b64encode(value).decode(),
            "salt": base64.b64encode(salt).decode(),
            "additionalParameters": {},
        }
        entries.append(PasswordEntry(json.dumps(secret, separators=(",", ":")), credential_data))
    return entries


@dataclass(frozen=True)
class BatchRows:
    users: str
    credentials: str
    attributes: str
    role_mappings: str
    count: int


def batch_rows(
    start: int, stop: int, target: Target, pool: list[PasswordEntry], valid_until: dt.date, now_ms: int
) -> BatchRows:
    """COPY text for accounts [start, stop). Values are generated, never contain tabs, newlines or
    backslashes (tests check), so no escaping is needed."""
    users: list[str] = []
    creds: list[str] = []
    attrs: list[str] = []
    roles: list[str] = []
    realm_id, role_id = target.realm_id, target.default_role_id
    until = valid_until.isoformat()
    user_sfx = pop.kind_suffix(pop.Kind.USER)
    password_sfx = pop.kind_suffix(pop.Kind.PASSWORD)
    otp_sfx = pop.kind_suffix(pop.Kind.OTP)
    attr_sfx = {name: pop.kind_suffix(pop.Kind.ATTRIBUTE + n) for n, name in enumerate(pop.ATTRIBUTE_NAMES)}

    def extra_sfx(name: str, k: int) -> str:
        n = pop.ATTRIBUTE_NAMES.index(name)
        return pop.kind_suffix(pop.Kind.ATTRIBUTE + k * pop.MULTIVALUE_STRIDE + n)

    password_tails = [
        f"\t{now_ms}\t\\N\t{e.secret_data}\t{e.credential_data}\t{PASSWORD_PRIORITY}\t0\n" for e in pool
    ]
    otp_tail = f"\t{OTP_CREDENTIAL_DATA}\t{OTP_PRIORITY}\t0\n"
    for i in range(start, stop):
        prefix = pop.id_prefix(i, target.id_prefix)
        uid = prefix + user_sfx
        name = pop.username(i)
        mail = f"{name}@{pop.EMAIL_DOMAIN}"
        users.append(f"{uid}\t{mail}\t{mail}\tt\tt\tLoad\tUser{i:08d}\t{realm_id}\t{name}\t{now_ms}\t0\n")
        creds.append(f"{prefix}{password_sfx}\tpassword\t{uid}{password_tails[pop.password_number(i)]}")
        if pop.needs_otp(i):
            creds.append(
                f"{prefix}{otp_sfx}\totp\t{uid}\t{now_ms}\t{OTP_LABEL}"
                f'\t{{"value":"{pop.totp_secret(i)}"}}{otp_tail}'
            )
        seen: dict[str, int] = {}
        for attr, value in pop.attributes(i, until):
            k = seen[attr] = seen.get(attr, -1) + 1
            sfx = attr_sfx[attr] if k == 0 else extra_sfx(attr, k)
            attrs.append(f"{attr}\t{value}\t{uid}\t{prefix}{sfx}\n")
        roles.append(f"{role_id}\t{uid}\n")
    return BatchRows("".join(users), "".join(creds), "".join(attrs), "".join(roles), stop - start)


def expected_counts(start: int, stop: int) -> dict[str, int]:
    """Rows the accounts [start, stop) own in each table."""
    users = stop - start
    otp = _otp_count(start, stop)
    attributes = 0
    for slot in range(10):
        attributes += _count_slot(start, stop, slot) * len(pop.attributes(slot, "2000-01-01"))
    return {
        "user_entity": users,
        "credential": users + otp,
        "user_attribute": attributes,
        "user_role_mapping": users,
    }


def _count_slot(start: int, stop: int, slot: int) -> int:
    """How many i in [start, stop) have i % 10 == slot."""

    def upto(n: int) -> int:  # count in [0, n)
        return n // 10 + (1 if n % 10 > slot else 0)

    return upto(stop) - upto(start)


def _otp_count(start: int, stop: int) -> int:
    return sum(_count_slot(start, stop, s) for s in range(9))


# --- writing ----------------------------------------------------------------------------------------


def _id_range(start: int, stop: int, prefix: str = pop.ID_PREFIX) -> tuple[str, str]:
    """Smallest and largest id any row of accounts [start, stop) can have (ids sort by index first)."""
    return pop.id_prefix(start, prefix), pop.id_prefix(stop - 1, prefix) + "ffff-ffffffffffff"


def existing_users(conn: psycopg.Connection[Any], start: int, stop: int, prefix: str = pop.ID_PREFIX) -> int:
    return _scalar(
        conn, "SELECT count(*) FROM user_entity WHERE id BETWEEN %s AND %s", *_id_range(start, stop, prefix)
    )


def _copy(cur: psycopg.Cursor[Any], table: str, data: str) -> None:
    columns = ", ".join(TABLES[table])
    with cur.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(data)


def write_batch(conn: psycopg.Connection[Any], rows: BatchRows, partial: bool) -> None:
    """One transaction. Parents before children, so the foreign keys hold at every statement."""
    data = {
        "user_entity": rows.users,
        "credential": rows.credentials,
        "user_attribute": rows.attributes,
        "user_role_mapping": rows.role_mappings,
    }
    with conn.transaction(), conn.cursor() as cur:
        if not partial:
            for table, text in data.items():
                _copy(cur, table, text)
            return
        # Some accounts of this batch exist (or a username is taken): add only what is missing.
        for table, text in data.items():
            tmp = f"seed_{table}"
            cur.execute(f"CREATE TEMP TABLE {tmp} (LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
            columns = ", ".join(TABLES[table])
            with cur.copy(f"COPY {tmp} ({columns}) FROM STDIN") as copy:
                copy.write(text)
            owner = "id" if table == "user_entity" else "user_id"
            exists = (
                ""
                if table == "user_entity"
                else f" WHERE EXISTS (SELECT 1 FROM user_entity u WHERE u.id = t.{owner})"
            )
            cur.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {tmp} t{exists}"
                " ON CONFLICT DO NOTHING"
            )


@dataclass(frozen=True)
class Job:
    start: int
    stop: int
    conninfo: str
    target: Target
    pool: list[PasswordEntry]
    valid_until: dt.date
    now_ms: int
    superuser: bool


def run_job(job: Job) -> tuple[int, int, str]:
    """Seed one batch in its own connection; (start, accounts written, outcome)."""
    with psycopg.connect(job.conninfo, autocommit=True) as conn:
        # Losing the last commits in a crash only means re-running the batch (resumable), so the seeder
        # does not wait for WAL flushes; Keycloak's own sessions keep synchronous_commit on.
        conn.execute("SET synchronous_commit = off")
        if job.superuser:
            # Like pg_restore --disable-triggers: skip the per-row foreign-key checks (a third of the
            # cost). They hold by construction: each batch writes its users before their credentials,
            # attributes and role mappings in one transaction, and the partial path joins on user_entity.
            conn.execute("SET session_replication_role = replica")
        have = existing_users(conn, job.start, job.stop, job.target.id_prefix)
        size = job.stop - job.start
        if have == size:
            return job.start, 0, "skipped"
        rows = batch_rows(job.start, job.stop, job.target, job.pool, job.valid_until, job.now_ms)
        write_batch(conn, rows, partial=have > 0)
        return job.start, size - have, "partial" if have else "written"


# --- bulk mode: secondary indexes built once, after the rows ------------------------------------------

BULK_MIN_ACCOUNTS = 100_000
"""Bulk mode by default only from this many missing accounts, and only when they are at least as many as
the accounts already there (a rebuild sorts all rows; maintaining the indexes costs per new row only)."""
DROPPED_TABLE = "bizid_seed.dropped_index"


def secondary_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(name, definition) of the plain indexes on the tables the seeder writes: not unique, not a primary
    key, so dropping them for a while never lets a duplicate in; only lookups get slower meanwhile."""
    rows = conn.execute(
        "SELECT ic.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i"
        " JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid"
        " JOIN pg_namespace n ON n.oid = t.relnamespace"
        " WHERE n.nspname = 'public' AND t.relname = ANY(%s) AND NOT i.indisunique AND NOT i.indisprimary"
        " ORDER BY ic.relname",
        (list(TABLES),),
    ).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def drop_secondary_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """Record the definitions, then drop the indexes, in one transaction: whatever happens next, the
    definitions survive for `restore_indexes` (this run's end, or the next run after a crash)."""
    with conn.transaction():
        conn.execute("CREATE SCHEMA IF NOT EXISTS bizid_seed")
        conn.execute(f"CREATE TABLE IF NOT EXISTS {DROPPED_TABLE} (name text PRIMARY KEY, definition text)")
        indexes = secondary_indexes(conn)
        for name, definition in indexes:
            conn.execute(
                f"INSERT INTO {DROPPED_TABLE} VALUES (%s, %s) ON CONFLICT DO NOTHING", (name, definition)
            )
            conn.execute(f'DROP INDEX public."{name}"')
    return indexes


def pending_indexes(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """Indexes a bulk seed dropped and has not rebuilt yet (none if no bulk seed ever ran)."""
    if conn.execute("SELECT to_regclass(%s)", (DROPPED_TABLE,)).fetchone() == (None,):
        return []
    rows = conn.execute(f"SELECT name, definition FROM {DROPPED_TABLE} ORDER BY name").fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _build_index(job: tuple[str, str, str]) -> str:
    info, name, definition = job
    statement = definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
    with psycopg.connect(info, autocommit=True) as conn:
        conn.execute("SET maintenance_work_mem = '512MB'")
        conn.execute(statement)
        conn.execute(f"DELETE FROM {DROPPED_TABLE} WHERE name = %s", (name,))
    return name


def restore_indexes(info: str, jobs: int) -> list[str]:
    """Build every index a bulk seed dropped (sorted builds, `jobs` at a time); the ones built."""
    with psycopg.connect(info, autocommit=True) as conn:
        pending = pending_indexes(conn)
    if not pending:
        return []
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, min(jobs, len(pending)))) as workers:
        return list(workers.imap_unordered(_build_index, [(info, n, d) for n, d in pending]))


@dataclass
class SeedReport:
    accounts: int
    written: int
    skipped_batches: int
    seconds: float
    counts: dict[str, int]
    expected: dict[str, int]
    bulk: bool = False
    index_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(self.counts[t] >= n for t, n in self.expected.items())

    @property
    def rate(self) -> float:
        return self.written / self.seconds if self.seconds else 0.0


def count_rows(
    conn: psycopg.Connection[Any], start: int, stop: int, prefix: str = pop.ID_PREFIX
) -> dict[str, int]:
    """Seeded rows of accounts [start, stop) per table, by their id ranges (index scans, no full scan)."""
    lo, hi = _id_range(start, stop, prefix)
    counts = {
        table: _scalar(conn, f"SELECT count(*) FROM {table} WHERE id BETWEEN %s AND %s", lo, hi)
        for table in ("user_entity", "credential", "user_attribute")
    }
    counts["user_role_mapping"] = _scalar(
        conn, "SELECT count(*) FROM user_role_mapping WHERE user_id BETWEEN %s AND %s", lo, hi
    )
    return counts


def _scalar(conn: psycopg.Connection[Any], sql: str, *params: Any) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def batches(accounts: int, batch: int) -> Iterator[tuple[int, int]]:
    for start in range(0, accounts, batch):
        yield start, min(start + batch, accounts)


def seed(
    cfg: Settings,
    accounts: int,
    batch: int = DEFAULT_BATCH,
    jobs: int = 2,
    progress: bool = True,
    superuser: bool | None = None,
    bulk: bool | None = None,
    realm: str = REALM,
    id_prefix: str = pop.ID_PREFIX,
) -> SeedReport:
    """Seed accounts 0..accounts-1 (adding only what is missing) and verify the counts.

    Bulk mode (default: see BULK_MIN_ACCOUNTS) drops the plain secondary indexes of the four tables first
    and builds them once at the end, as pg_restore does: maintaining seven B-trees row by row was about
    half the time of a seed (docs/tuning.md). Unique indexes and primary keys stay, so no duplicate can
    slip in; Keycloak keeps working meanwhile, with slower user lookups. Indexes
    left dropped by a crashed run are rebuilt when the next run starts.

    `realm` and `id_prefix`: the same population seeded into another realm of the same server (the stock
    baseline realm of loadtests/stock_realm.py), under row ids of its own."""
    if not 1 <= accounts <= MAX_ACCOUNTS:
        raise SeedError(f"--accounts {accounts}: must be between 1 and {MAX_ACCOUNTS}")
    if batch < 1:
        raise SeedError(f"--batch {batch}: must be positive")
    if superuser is None:
        superuser = superuser_available(cfg)
    info = conninfo(cfg, superuser)
    with psycopg.connect(info, autocommit=True) as conn:
        target = inspect(conn, realm, id_prefix)
        missing = accounts - count_rows(conn, 0, accounts, id_prefix)["user_entity"]
        present = _scalar(
            conn, "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE relname = 'user_entity'"
        )
    began = time.monotonic()
    restore_indexes(info, jobs)  # a previous bulk run that did not finish
    if bulk is None:  # a rebuild sorts every row, old and new: worth it only when most rows are new
        bulk = missing >= max(BULK_MIN_ACCOUNTS, present)
    bulk = bulk and missing > 0
    if bulk:
        with psycopg.connect(info, autocommit=True) as conn:
            drop_secondary_indexes(conn)
    pool = password_pool(target.hash_iterations)
    today = dt.date.today()
    valid_until = today.replace(year=today.year + 5, day=min(today.day, 28))
    now_ms = int(time.time() * 1000)
    work = [
        Job(s, e, info, target, pool, valid_until, now_ms, superuser) for s, e in batches(accounts, batch)
    ]
    written = skipped = done = 0
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(max(1, jobs)) as workers:
        for _start, n, outcome in workers.imap_unordered(run_job, work):
            written += n
            skipped += outcome == "skipped"
            done += 1
            if progress:
                elapsed = time.monotonic() - began
                print(
                    f"\rseed: {done}/{len(work)} batches, {written:,} accounts written"
                    f" ({written / elapsed if elapsed else 0:,.0f}/s), {skipped} skipped",
                    end="",
                    file=sys.stderr,
                    flush=True,
                )
    if progress:
        print(file=sys.stderr)
    index_began = time.monotonic()
    if bulk:
        if progress:
            print("seed: building the secondary indexes", file=sys.stderr, flush=True)
        restore_indexes(info, jobs)
    index_seconds = time.monotonic() - index_began
    seconds = time.monotonic() - began
    with psycopg.connect(info, autocommit=True) as conn:
        if written:
            conn.execute("ANALYZE user_entity, credential, user_attribute, user_role_mapping")
        counts = count_rows(conn, 0, accounts, id_prefix)
    if written:
        clear_user_cache(cfg, realm)
    return SeedReport(
        accounts, written, skipped, seconds, counts, expected_counts(0, accounts), bulk, index_seconds
    )


def clear_user_cache(cfg: Settings, realm: str = REALM) -> None:
    """Drop Keycloak's cached users, so that no entry cached before the seed (e.g. of an account that was
    deleted and re-seeded) hides the rows just written. Best effort: Keycloak may be down while seeding."""
    from scripts.keycloak_admin import admin_client

    try:
        admin = admin_client(cfg)
        admin.connection.raw_post(admin_paths.path(admin_paths.CLEAR_USER_CACHE, realm=realm), data="")
    except Exception as exc:
        print(
            f"seed: could not clear Keycloak's user cache ({exc}); restart Keycloak if needed",
            file=sys.stderr,
        )


# --- CLI --------------------------------------------------------------------------------------------


def _seed_cmd(args: argparse.Namespace) -> int:
    report = seed(
        settings_mod.load(),
        args.accounts,
        batch=args.batch,
        jobs=args.jobs,
        superuser=args.superuser,
        bulk=args.bulk,
    )
    print(
        f"seeded {report.accounts:,} accounts ({report.written:,} new, {report.skipped_batches} batches"
        f" already present) in {report.seconds:.1f} s = {report.rate:,.0f} accounts/s"
        + (f" (bulk mode: {report.index_seconds:.1f} s of it building indexes)" if report.bulk else "")
    )
    for table, expected in report.expected.items():
        have = report.counts[table]
        flag = "" if have >= expected else "  MISSING"
        print(f"  {table:18} {have:>12,} rows (expected {expected:,}){flag}")
    if not report.ok:
        print("bizid seed: counts do not match; run the same command again to fill the gaps", file=sys.stderr)
        return 1
    return 0


def add_seed_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "seed",
        help="fill the local platform with load-test accounts (direct COPY into Keycloak's tables)",
        description=(
            "Create accounts load-00000000 .. load-<N-1> in the bizid realm: 70%% Prime, 20%% Member,"
            " 10%% Entry, with Argon2 password hashes and enrolled TOTP, all derived from the index"
            " (loadtests/population.py). Resumable: run it again to add more or fill gaps."
        ),
    )
    p.add_argument("--accounts", type=arguments.positive_int, required=True, help="population size N")
    p.add_argument(
        "--batch", type=arguments.positive_int, default=DEFAULT_BATCH, help="accounts per transaction"
    )
    p.add_argument(
        "--jobs", type=arguments.int_range(1, 64), default=2, help="parallel connections, 1-64 (default: 2)"
    )
    p.add_argument(
        "--superuser",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="write as the cluster superuser over the local socket, skipping foreign-key triggers"
        " (default: when the socket is reachable)",
    )
    p.add_argument(
        "--bulk",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="drop the plain secondary indexes and build them once at the end"
        f" (default: when at least {BULK_MIN_ACCOUNTS:,} accounts are missing, and no fewer than exist)",
    )
    p.set_defaults(func=_seed_cmd)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m loadtests.seed")
    sub = parser.add_subparsers(dest="command", required=True)
    add_seed_parser(sub)
    args = parser.parse_args(["seed", *(argv if argv is not None else sys.argv[1:])])
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
