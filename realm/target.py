"""The platform a library call acts on, as explicit typed values.

`realm`, `policies` and `infra` never look up where a platform runs: the caller (the `bizid` CLI in
`scripts/`, which knows the local platform, or anyone targeting a deployed one) builds a `Target`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from realm.models import SmtpServer
from realm.platform import REALM


@dataclass(frozen=True)
class Target:
    """One platform: its Keycloak (Admin API login) and its OPA."""

    keycloak_url: str
    admin_username: str
    admin_password: str
    ca_cert: Path | None
    """CA bundle that verifies Keycloak's TLS certificate; None: the system's trust store."""
    opa_url: str
    realm: str = REALM
    admin_realm: str = "master"
    admin_client_id: str = "admin-cli"
    smtp_server: SmtpServer | None = None
    """The mail server this platform's realm sends through; None: the one realm.yaml `smtp.server` names
    (a target overlay may set that). The local platform sets its Mailpit here (scripts/settings.py)."""
