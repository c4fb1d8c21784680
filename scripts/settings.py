"""Where the local platform lives: the one source for its paths and ports (pins: realm/platform.py).

Everything the local platform writes sits under one ignored folder (`.bizid/`); downloads are cached
outside the repo (`~/.cache/bizid`) so a fresh clone re-uses them but never depends on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from policies import bundle as opa_bundle
from policies import opa_client, opa_server
from realm.client_secrets import FileClientSecrets
from realm.models import Definitions, SmtpServer
from realm.platform import (  # re-exported: the pins live in the lower layer, realm/platform.py
    KEYCLOAK_VERSION,
    LOCAL_RP_PORT,
    LOOPBACK,
    MAILPIT_MODULE,
    MAILPIT_VERSION,
    MINIO_MODULE,
    MINIO_VERSION,
    OPA_VERSION,
    POSTGRES_MAJOR,
    REALM,
    REGAL_MODULE,
    REGAL_VERSION,
    REPO_ROOT,
)
from realm.target import PasswordLogin, Target

__all__ = [
    "KEYCLOAK_VERSION",
    "LOCAL_RP_PORT",
    "LOOPBACK",
    "MAILPIT_MODULE",
    "MAILPIT_VERSION",
    "MINIO_MODULE",
    "MINIO_VERSION",
    "OPA_VERSION",
    "POSTGRES_MAJOR",
    "REALM",
    "REGAL_MODULE",
    "REGAL_VERSION",
    "REPO_ROOT",
    "Paths",
    "Ports",
    "Settings",
    "load",
]


@dataclass(frozen=True)
class Ports:
    """Loopback ports, chosen away from the usual defaults so a developer's own services keep theirs."""

    postgres: int = 55432
    keycloak_https: int = 18443
    keycloak_management: int = 19000
    opa: int = 18181
    rp: int = LOCAL_RP_PORT
    """Where the local RPs' loopback redirect URIs point (the sample RP, the tests' user agent)."""
    mail_smtp: int = 11025
    mail_http: int = 18025
    """Mailpit: SMTP (Keycloak and the notifier send here) and its web UI + API (tests read mail there)."""
    s3: int = 16900
    """MinIO, the tests' S3 server (tests/s3_server.py): started by the tests that need it, not `bizid up`."""


@dataclass(frozen=True)
class Paths:
    """The state folder and what lives in it."""

    state: Path
    cache: Path

    @property
    def logs(self) -> Path:
        return self.state / "logs"

    @property
    def pgdata(self) -> Path:
        return self.state / "postgres" / "data"

    @property
    def pgsocket(self) -> Path:
        return self.state / "postgres" / "socket"

    @property
    def keycloak_home(self) -> Path:
        return self.state / f"keycloak-{KEYCLOAK_VERSION}"

    @property
    def bin(self) -> Path:
        return self.state / "bin"

    @property
    def opa(self) -> Path:
        return self.bin / "opa"

    @property
    def opa_bundle(self) -> Path:
        """The signed OPA bundle the local OPA serves (`bizid bundle build` / `bizid up` write it)."""
        return self.state / "opa" / opa_bundle.BUNDLE_FILE

    @property
    def opa_verification_key(self) -> Path:
        """Public half of the bundle signing key; the local OPA verifies the bundle with it."""
        return self.state / "opa" / opa_bundle.VERIFICATION_KEY_FILE

    @property
    def opa_signing_key(self) -> Path:
        """The local bundle signing key (generated, mode 0600, never in git; on AWS: Secrets Manager)."""
        return self.secrets / "opa-bundle-signing-key.pem"

    @property
    def mailpit(self) -> Path:
        return self.bin / "mailpit"

    @property
    def minio(self) -> Path:
        return self.bin / "minio"

    @property
    def mail_db(self) -> Path:
        """Mailpit's message store (SQLite): the local platform's outbox, kept across restarts."""
        return self.state / "mail" / "mailpit.db"

    @property
    def tls(self) -> Path:
        return self.state / "tls"

    @property
    def ca_cert(self) -> Path:
        return self.tls / "ca.pem"

    @property
    def secrets(self) -> Path:
        """Generated local-only secrets (admin password, DB password, client secrets); never in git."""
        return self.state / "secrets"

    @property
    def load(self) -> Path:
        """Load-test output: CSV, HTML and raw samples of each run."""
        return self.state / "load"

    @property
    def pids(self) -> Path:
        return self.state / "run"


@dataclass(frozen=True)
class Settings:
    ports: Ports
    paths: Paths

    @property
    def keycloak_url(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.keycloak_https}"

    @property
    def keycloak_management_url(self) -> str:
        return f"https://{LOOPBACK}:{self.ports.keycloak_management}"

    @property
    def issuer(self) -> str:
        return f"{self.keycloak_url}/realms/{REALM}"

    @property
    def opa_url(self) -> str:
        return f"http://{LOOPBACK}:{self.ports.opa}"

    @property
    def mail_api_url(self) -> str:
        """Mailpit's web UI and REST API (messages sent by the platform)."""
        return f"http://{LOOPBACK}:{self.ports.mail_http}"

    @property
    def admin_username(self) -> str:
        return "admin"

    def opa_read_token(self) -> str:
        """The local tools' and tests' token at the platform's OPA (decisions, registry, policy list; never
        writes): a generated secret (docs/architecture.md, policies/system/authz.rego)."""
        return self.secret(opa_server.READ_TOKEN_SECRET)

    def opa_read_headers(self) -> dict[str, str]:
        """Authorization header with the read token, for plain HTTP calls to the platform's OPA."""
        return opa_server.bearer(self.opa_read_token())

    def remember_opa_read_token(self) -> None:
        """Let every `policies.opa_client.Opa` of this process authenticate at the platform's OPA."""
        opa_client.remember_token(self.opa_url, self.opa_read_token())

    def client_secrets(self) -> FileClientSecrets:
        """The confidential clients' secrets as `bizid realm apply` keeps them for this platform."""
        return FileClientSecrets(self.paths.secrets)

    def client_secret(self, client_id: str) -> str:
        """A confidential client's kept secret; `bizid up` / `realm apply` creates it."""
        value = self.client_secrets().get(client_id)
        if value is None:
            raise ValueError(f"no secret kept for client {client_id!r} (run `bizid realm apply`)")
        return value

    def secret(self, name: str) -> str:
        """Read a generated local secret; `bizid up` creates them."""
        return (self.paths.secrets / name).read_text().strip()

    def target(self) -> Target:
        """The local platform as the libraries take it (reads the generated admin password): the `local`
        target, the only one that signs in as the bootstrap admin."""
        return Target(
            keycloak_url=self.keycloak_url,
            login=PasswordLogin(self.admin_username, self.secret("admin-password")),
            ca_cert=self.paths.ca_cert,
            opa_url=self.opa_url,
            realm=REALM,
            rp_port=self.ports.rp,
            smtp_server=SmtpServer(host=LOOPBACK, port=self.ports.mail_smtp),
        )

    def definitions(self, directory: Path | None = None) -> Definitions:
        """The definitions as this local platform runs them: the RPs' loopback redirect URIs on this
        platform's RP port (`realm.targets.overlay`)."""
        from realm import loader, targets

        return targets.overlay(loader.load(directory or loader.DEFINITIONS_DIR), {}, self.ports.rp)


def load() -> Settings:
    """Settings for this checkout.

    BIZID_STATE_DIR / BIZID_CACHE_DIR override the folders; BIZID_PORT_OFFSET shifts every port, so a
    second platform (a benchmark's fresh install, a clean-clone check) can run beside the usual one.
    """
    state = Path(os.environ.get("BIZID_STATE_DIR", REPO_ROOT / ".bizid"))
    cache = Path(os.environ.get("BIZID_CACHE_DIR", Path.home() / ".cache" / "bizid"))
    offset = int(os.environ.get("BIZID_PORT_OFFSET", "0"))
    return for_platform(state, offset, cache)


def for_platform(state: Path, offset: int, cache: Path | None = None) -> Settings:
    """Settings of a local platform in `state` with every port shifted by `offset` (`load` reads both from
    the environment; tests start a second platform with their own)."""
    defaults = Ports()
    ports = Ports(
        postgres=defaults.postgres + offset,
        keycloak_https=defaults.keycloak_https + offset,
        keycloak_management=defaults.keycloak_management + offset,
        opa=defaults.opa + offset,
        rp=defaults.rp + offset,
        mail_smtp=defaults.mail_smtp + offset,
        mail_http=defaults.mail_http + offset,
        s3=defaults.s3 + offset,
    )
    cache = cache or Path(os.environ.get("BIZID_CACHE_DIR", Path.home() / ".cache" / "bizid"))
    return Settings(ports=ports, paths=Paths(state=state.resolve(), cache=cache))
