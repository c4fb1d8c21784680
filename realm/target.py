"""The platform a library call acts on, as explicit typed values.

`realm`, `policies` and `infra` never look up where a platform runs: the caller (the `bizid` CLI in
`scripts/`, which knows the local platform and reads `realm/definitions/targets/<name>.yaml`) builds a
`Target`.

How the Admin API is reached is one of two logins: the bootstrap administrator's password, which exists
only on the local platform, or a confidential service-account client of the master realm that holds only
the realm-management roles the reconciler needs (`realm.service_account`), for every deployed target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from realm.models import SmtpServer
from realm.platform import REALM


@dataclass(frozen=True)
class PasswordLogin:
    """The bootstrap administrator (master realm, `admin-cli`): the local platform, and the one-time
    bootstrap of a deployed one (`bizid realm bootstrap`)."""

    username: str
    password: str = field(repr=False)
    client_id: str = "admin-cli"


@dataclass(frozen=True)
class ServiceAccountLogin:
    """A confidential client of the master realm, signing in with client credentials."""

    client_id: str
    secret: str = field(repr=False)


Login = PasswordLogin | ServiceAccountLogin


@dataclass(frozen=True)
class Target:
    """One platform: its Keycloak (Admin API login) and the OPA its flows call."""

    keycloak_url: str
    login: Login
    ca_cert: Path | None
    """CA bundle that verifies Keycloak's TLS certificate; None: the system's trust store."""
    opa_url: str
    """The OPA URL written into the flows and the refresh executor: where Keycloak asks, not where this
    process could reach (on ECS it is the task's loopback sidecar)."""
    realm: str = REALM
    admin_realm: str = "master"
    redirect_uris: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Per-target redirect URIs by RP client id (`realm.targets`); an RP not named keeps its definition's."""
    rp_port: int | None = None
    """The local platform: loopback redirect URIs on `LOCAL_RP_PORT` move to this port (its port offset)."""
    smtp_server: SmtpServer | None = None
    """The mail server this platform's realm sends through; None: the one realm.yaml `smtp.server` names
    (a target overlay may set that). The local platform sets its Mailpit here (scripts/settings.py)."""
