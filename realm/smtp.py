"""The realm's SMTP configuration (Keycloak's `smtpServer`) from the definitions, and its login.

The definitions say who mail comes from and, by default, which server carries it (the local Mailpit).
The platform a realm is applied to may put its own server in place: the local platform its Mailpit port
(`Target.smtp_server`, which follows BIZID_PORT_OFFSET), a target overlay for AWS the SES endpoint with
`auth` naming the Secrets Manager secret that holds the SES SMTP login. The login itself is never in the
definitions or in git: it is read when the realm is applied (`read_credentials`).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realm.models import SmtpAuth, SmtpServer, SmtpSettings

MASKED = "**********"
"""What Keycloak's Admin API shows instead of a stored SMTP password."""


class SmtpConfigError(ValueError):
    """The SMTP login could not be read; the message names the secret and why."""


@dataclass(frozen=True)
class SmtpCredentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print the password
        return f"SmtpCredentials(username={self.username!r}, password=***)"


CredentialReader = Callable[[SmtpAuth], SmtpCredentials]


def _parse(raw: str, where: str) -> SmtpCredentials:
    try:
        data = json.loads(raw)
    except ValueError:
        raise SmtpConfigError(f'{where}: not JSON (want {{"username": ..., "password": ...}})') from None
    fields = ("username", "password")
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) and data[k] for k in fields):
        raise SmtpConfigError(f"{where}: needs non-empty string fields 'username' and 'password'")
    return SmtpCredentials(data["username"], data["password"])


def file_reader(secrets_dir: Path) -> CredentialReader:
    """Logins kept as JSON files under the platform's secrets folder (source: file)."""

    def read(auth: SmtpAuth) -> SmtpCredentials:
        if auth.source != "file":
            raise SmtpConfigError(f"realm.smtp.server.auth: source {auth.source!r} is not a file")
        path = secrets_dir / auth.secret
        if ".." in Path(auth.secret).parts or not path.is_file():
            raise SmtpConfigError(f"realm.smtp.server.auth.secret: no file {path}")
        return _parse(path.read_text(), str(path))

    return read


def aws_reader(client: Any = None) -> CredentialReader:
    """SES SMTP logins from AWS Secrets Manager (source: aws-secretsmanager), read the way every deployed
    target's secret is (`realm.secret_sources`: the usual AWS credential chain, errors named)."""
    from realm import secret_sources
    from realm.targets import AwsSecret

    def read(auth: SmtpAuth) -> SmtpCredentials:
        if auth.source != "aws-secretsmanager":
            return file_reader(Path("/nonexistent"))(auth)
        assert auth.region is not None  # SmtpAuth requires it for this source
        value = secret_sources.read(AwsSecret(aws_secret=auth.secret, region=auth.region), client=client)
        if value is None:
            raise SmtpConfigError(
                f"smtp.auth.secret: {auth.secret} in {auth.region} has no value "
                "(the stack's SesSmtpLogin writes it)"
            )
        return _parse(value, f"secret {auth.secret}")

    return read


def effective_server(settings: SmtpSettings, override: SmtpServer | None) -> SmtpServer:
    return override or settings.server


def smtp_server(
    settings: SmtpSettings | None, override: SmtpServer | None, credentials: SmtpCredentials | None
) -> dict[str, str]:
    """Keycloak's realm `smtpServer` (every value a string, as Keycloak stores them); {} without mail."""
    if settings is None:
        return {}
    server = effective_server(settings, override)
    rep = {
        "host": server.host,
        "port": str(server.port),
        "from": settings.from_address,
        "fromDisplayName": settings.from_display_name,
        "starttls": str(server.starttls).lower(),
        "ssl": str(server.ssl).lower(),
        "auth": str(server.auth is not None).lower(),
    }
    if settings.reply_to:
        rep["replyTo"] = settings.reply_to
    if settings.envelope_from:
        rep["envelopeFrom"] = settings.envelope_from
    if server.auth is not None:
        if credentials is None:
            raise SmtpConfigError(
                f"realm.smtp.server.auth: the login in {server.auth.source} {server.auth.secret!r} is unread"
            )
        rep["user"] = credentials.username
        rep["password"] = credentials.password
    return rep


def comparable(realm_rep: dict[str, Any]) -> dict[str, Any]:
    """A realm representation whose SMTP password is left out of the comparison: Keycloak only ever shows
        it masked, so a stored password is taken as current. (An SES SMTP login is derived from an IAM access
    key: a rotation changes the username too, which the comparison sees.)"""
    smtp = realm_rep.get("smtpServer")
    if not isinstance(smtp, dict) or "password" not in smtp:
        return realm_rep
    return {**realm_rep, "smtpServer": {k: v for k, v in smtp.items() if k != "password"}}
