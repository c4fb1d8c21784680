"""Plan, apply and detect drift between the definitions and the live Keycloak realm: the public entry.

The desired state comes from `realm.build` (pure). The live realm is read through the Admin REST API
(`realm.live`), compared by natural key, field by field, only on the fields the definitions declare
(`realm.plan`), and the plan is applied through `AdminApi`, which counts every POST/PUT/DELETE
(`realm.apply`); confidential clients' secrets are kept in a `realm.client_secrets` store. This module
wires them to a `Target` and to the local platform's secret files.

Ownership: the definitions own the realm settings, the events configuration, the whole user profile,
every client scope named in scopes.yaml, every client in rps/, the flows bound to the realm (`bizid-browser`,
`bizid-registration`, `bizid-reset-credentials`, `bizid-direct-grant`, `bizid-first-broker-login`), and of
Keycloak's built-in clients (platform-clients.yaml) the fields that decide whether they can issue a token.
The realm's client profiles and policies are wholly owned too. Anything else (Keycloak's built-in scopes,
built-in flows, a client created by hand) is left alone. Objects this code created carry the attribute
`bizid.managed=true`; only those are deleted when they disappear from the definitions.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

from realm import admin_paths as paths
from realm import apply as applying
from realm import build, preflight, smtp, targets
from realm.admin import admin_client
from realm.admin_api import AdminApi, ReconcileError
from realm.apply import FLOW_BINDINGS, HOLD_FLOW, Applier
from realm.build import DesiredRealm, Options
from realm.changes import Change, FieldDiff, Plan, diff_fields
from realm.client_secrets import ClientSecrets, FileClientSecrets, local_store
from realm.live import LiveRealm, fetch_live, live_flow_shape
from realm.loader import DEFINITIONS_DIR
from realm.models import Definitions
from realm.plan import (
    KEYCLOAK_BUILTIN_SCOPES,
    _with_generated,
    make_plan,
    plan,
    plan_builtin_clients,
    plan_client_policies,
)
from realm.target import Target

__all__ = [  # moved to their own modules; re-exported for reconcile's callers
    "FLOW_BINDINGS",
    "HOLD_FLOW",
    "KEYCLOAK_BUILTIN_SCOPES",
    "AdminApi",
    "Applier",
    "Change",
    "ClientSecrets",
    "FieldDiff",
    "FileClientSecrets",
    "LiveRealm",
    "Plan",
    "ReconcileError",
    "_with_generated",
    "diff_fields",
    "fetch_live",
    "live_flow_shape",
    "make_plan",
    "plan",
    "plan_builtin_clients",
    "plan_client_policies",
]

WITHOUT_EXTENSION_ENV = "BIZID_REALM_WITHOUT_EXTENSION"


class ExtensionMissingError(ValueError):
    """Keycloak lacks the bizid extension providers the definitions need."""


def apply(api: AdminApi, desired: DesiredRealm, secrets: Path | ClientSecrets | None) -> tuple[Plan, int]:
    """Make exactly the changes of the plan (`realm.apply.apply`), keeping confidential clients' secrets
    in `secrets`: a store, or files under a folder (None: keep none); return the plan and the number of
    Admin API writes."""
    store = local_store(secrets) if secrets is None or isinstance(secrets, Path) else secrets
    return applying.apply(api, desired, store)


# --- wiring with the local platform -----------------------------------------------------------------


def missing_extension_providers(api: AdminApi) -> list[str]:
    """bizid extension provider ids Keycloak does not know (empty: the extension is installed)."""
    info = api.get(paths.path(paths.SERVER_INFO))
    providers = info.get("providers", {})
    missing = []
    for spi, ids in build.EXTENSION_PROVIDERS.items():
        known = set((providers.get(spi) or {}).get("providers", {}))
        missing += [f"{spi}:{pid}" for pid in sorted(ids - known)]
    return missing


def resolve_options(api: AdminApi, opa_url: str, without_extension: bool | None = None) -> Options:
    """Options for this server. Without the extension we refuse unless explicitly told (fail closed)."""
    if without_extension is None:
        without_extension = os.environ.get(WITHOUT_EXTENSION_ENV, "") not in ("", "0", "false")
    if without_extension:
        return Options(opa_url=opa_url, extension=False)
    missing = missing_extension_providers(api)
    if missing:
        raise ExtensionMissingError(
            f"Keycloak does not have the bizid extension providers {missing}: build and install "
            f"realm/extensions (bizid up does), or set {WITHOUT_EXTENSION_ENV}=1 / pass --without-extension "
            "to apply the realm without them (development only: sign-ins then skip the OPA access decision)"
        )
    return Options(opa_url=opa_url, extension=True)


def with_smtp(
    options: Options, defs: Definitions, target: Target, reader: smtp.CredentialReader | None
) -> Options:
    """Options with the target's mail server and, when it needs a login, the login read now (before any
    write: a secret that cannot be read stops the apply with a message naming it)."""
    if defs.realm.smtp is None:
        return options
    server = smtp.effective_server(defs.realm.smtp, target.smtp_server)
    credentials = None
    if server.auth is not None:
        credentials = (reader or smtp.aws_reader())(server.auth)
    return dataclasses.replace(options, smtp_server=target.smtp_server, smtp_credentials=credentials)


def connect(target: Target) -> AdminApi:
    return AdminApi(admin_client(target, realm=target.admin_realm).connection)


def prepare(
    target: Target,
    directory: Path = DEFINITIONS_DIR,
    without_extension: bool | None = None,
    api: AdminApi | None = None,
    smtp_reader: smtp.CredentialReader | None = None,
) -> tuple[AdminApi, DesiredRealm]:
    """Validate the definitions first (no request before that), then connect and build the desired state."""
    defs, profile = build.load(directory)
    defs = targets.overlay(defs, target.redirect_uris, target.rp_port)
    api = api or connect(target)
    options = resolve_options(api, target.opa_url, without_extension)
    options = with_smtp(options, defs, target, smtp_reader)
    desired = build.desired(defs, profile, options)
    preflight.check(desired, api.get(paths.path(paths.SERVER_INFO)), directory)
    return api, desired


def plan_definitions(
    target: Target, directory: Path = DEFINITIONS_DIR, without_extension: bool | None = None
) -> Plan:
    api, desired = prepare(target, directory, without_extension)
    return plan(api, desired)


def apply_definitions(
    target: Target,
    secrets_dir: Path,
    directory: Path = DEFINITIONS_DIR,
    without_extension: bool | None = None,
) -> int:
    """Apply the definitions to the target; confidential clients' secrets go to `secrets_dir`.
    Returns the number of Admin API writes."""
    api, desired = prepare(target, directory, without_extension)
    _, writes = apply(api, desired, secrets_dir)
    return writes
