"""Pins and names every layer may import: the repository's folders, the versions the platform runs, the
realm's name and the database's name and user.

This is the lowest layer (it imports nothing of bizid). Where the local platform lives on disk
(`.bizid/`) and which loopback ports it uses are not here: only `scripts.settings` knows them.
"""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFINITIONS_DIR = REPO_ROOT / "realm" / "definitions"
POLICY_DIR = REPO_ROOT / "policies" / "bizid"
"""The access, release and delegation policies OPA serves (without `_test.rego`)."""
SYSTEM_POLICY_DIR = REPO_ROOT / "policies" / "system"
"""The OPA server's own policies: authorization (system.authz) and decision-log masking (system.log)."""
INFRA_POLICY_DIR = REPO_ROOT / "policies" / "infra"
EXTENSION_DIR = REPO_ROOT / "realm" / "extensions"

KEYCLOAK_VERSION = "26.5.6"
"""Also in realm/extensions/pom.xml and infra/images/keycloak/Dockerfile (tests/test_layers.py keeps
them equal)."""
OPA_VERSION = "v1.22.2"
"""Also the sidecar image's `ARG OPA_VERSION` (infra/images/opa/Dockerfile, without the `v`; tested in
tests/test_runtime_options.py)."""
# Regal has no release reachable from the Go module proxy here (403); kept pinned so the lint step can
# try it and say exactly why it could not run.
REGAL_MODULE = "github.com/open-policy-agent/regal"
REGAL_VERSION = "v0.36.1"
POSTGRES_MAJOR = "15"
"""The local cluster's major (Debian 12's PostgreSQL) and the Aurora PostgreSQL major of every stack
(`bizid:database.engineVersion` in infra/Pulumi.<stack>.yaml; tests/test_runtime_options.py): Keycloak runs
on AWS against the major it is tested against here."""
MAILPIT_MODULE = "github.com/axllent/mailpit"
MAILPIT_VERSION = "v1.33.1"
"""The local mail server (SMTP + web UI + API): `go install`ed like OPA (scripts/install.py)."""
MINIO_MODULE = "github.com/minio/minio"
MINIO_VERSION = "v0.0.0-20260212201848-7aac2a2c5b7c"
"""A real S3 implementation for the tests of the S3 ledger and store (realm/s3_store.py): conditional writes
(If-None-Match), checksums, Object Lock. MinIO publishes no semver tags; this is the newest module version
on the Go module proxy (its `@latest`). `go install`ed like OPA; tests only, never part of a deployment."""

REALM = "bizid"
"""The realm's name; realm/definitions/realm.yaml declares it (tests/test_layers.py keeps them equal)."""
LOOPBACK = "127.0.0.1"
LOCAL_RP_PORT = 18900
"""The port of the RP definitions' loopback redirect URIs (rps/*.yaml): the local platform's RPs at port
offset 0. With BIZID_PORT_OFFSET=N the local target registers them at LOCAL_RP_PORT + N (realm.targets)."""

DB_NAME = "keycloak"
DB_USER = "keycloak"
"""Keycloak's PostgreSQL database and its owner (local cluster, seeder, and the ECS task)."""
