"""Performance settings of the local Keycloak and PostgreSQL, kept apart so each has a reason beside it.

docs/tuning.md records what was measured with each setting. The load-test work owns these values.
"""

from __future__ import annotations

# Extra Keycloak runtime options (environment variables of `kc.sh start`).
KEYCLOAK_ENV: dict[str, str] = {
    "JAVA_OPTS_KC_HEAP": "-Xms512m -Xmx2g",  # ample for a local platform; fixed so RSS is predictable
}

# Appended to postgresql.conf when the local cluster is created.
POSTGRES_CONF = """
max_connections = 200
shared_buffers = 1GB
effective_cache_size = 4GB
work_mem = 16MB
maintenance_work_mem = 512MB
wal_buffers = 16MB
checkpoint_timeout = 15min
max_wal_size = 4GB
"""
