"""Performance settings of the local Keycloak and PostgreSQL, kept apart so each has a reason beside it.

docs/tuning.md records what was measured with each setting; `bizid load bench` is how to re-measure them.
Keycloak reads KEYCLOAK_ENV at its next start; PostgreSQL gets POSTGRES_CONF at the next `bizid up`
(which restarts it when the file changed).
"""

from __future__ import annotations

# Extra Keycloak runtime options (environment variables of `kc.sh start`).
KEYCLOAK_ENV: dict[str, str] = {
    # Fixed heap: RSS stays predictable on a shared 24 GiB box. 2 GiB holds the realm, the user cache
    # (10,000 entries by default) and thousands of sessions; every Argon2 hash allocates 7 MiB of
    # short-lived blocks, which G1's young generation collects cheaply inside this heap.
    "JAVA_OPTS_KC_HEAP": "-Xms1g -Xmx2g",
    # Worker threads. Keycloak's default is max(50, 4 x cores). Password hashing is CPU bound and
    # Keycloak already lets only `cores` hashes run at once (Argon2 provider semaphore); the other steps of a
    # sign-in are a few ms of CPU each. 8 threads keep both cores busy; more only park requests inside the
    # server where no one can see them.
    "KC_HTTP_POOL_MAX_THREADS": "8",
    # Load shedding: beyond 16 queued requests Keycloak answers 503 at once instead of letting the queue
    # (and every client's wait) grow until timeouts. Little's law: a sign-in is five requests in a row,
    # each behind at most 8 + 16 others (about 0.2 s on two cores), so an admitted sign-in takes about a
    # second. 24 + 48 let admitted sign-ins wait 3 s at p99 (docs/tuning.md).
    "KC_HTTP_MAX_QUEUED_REQUESTS": "16",
    # Database pool. Default max is 100: far more than 2 cores can use, and idle connections each cost
    # PostgreSQL a backend. 20 covers the worker threads that touch the database at once; starting with
    # 10 open avoids connection set-up during the first burst.
    "KC_DB_POOL_INITIAL_SIZE": "10",
    "KC_DB_POOL_MIN_SIZE": "10",
    "KC_DB_POOL_MAX_SIZE": "20",
}

# Appended to postgresql.conf (bizid.conf) of the local cluster.
POSTGRES_CONF = """
# 200 is ample for Keycloak's pool (20), the seeder (2-3) and tests; each idle backend costs memory.
max_connections = 200
# 1 GB: all of Keycloak's hot tables and the user indexes of a million accounts stay in memory.
shared_buffers = 1GB
# Planner hint: the OS page cache adds several GB on this 24 GiB box.
effective_cache_size = 4GB
work_mem = 16MB
# Index builds and VACUUM of the user tables after a seed of millions.
maintenance_work_mem = 512MB
wal_buffers = 16MB
checkpoint_timeout = 15min
# Seeding a million accounts writes several GB of WAL; a larger max_wal_size keeps checkpoints (and
# their full-page writes) from firing every few seconds during a seed.
max_wal_size = 8GB
# SSD storage: random reads cost about the same as sequential ones, so lookups by username or id on
# tables of millions of rows stay on index scans.
random_page_cost = 1.1
"""
