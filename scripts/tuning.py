"""Performance settings of the local PostgreSQL, kept apart so each has a reason beside it.

docs/tuning.md records what was measured with each setting; `bizid load bench` is how to re-measure them.
PostgreSQL gets POSTGRES_CONF at the next `bizid up` (which restarts it when the file changed). Keycloak's
tuning (worker threads, queue, database pool, heap) is in realm/keycloak_options.py, the one source the
local platform and the ECS task definition both read; Keycloak reads it at its next start.
"""

from __future__ import annotations

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
