"""Where the local platform lives and which versions it runs: the one source for every path, port and pin.

Everything the local platform writes sits under one ignored folder (`.bizid/`); downloads are cached
outside the repo (`~/.cache/bizid`) so a fresh clone re-uses them but never depends on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

KEYCLOAK_VERSION = "26.5.6"
OPA_VERSION = "v1.22.2"
# Regal has no release reachable from the Go module proxy here (403); kept pinned so the lint step can
# try it and say exactly why it could not run.
REGAL_MODULE = "github.com/open-policy-agent/regal"
REGAL_VERSION = "v0.36.1"
POSTGRES_MAJOR = "15"

REALM = "bizid"
LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    """Loopback ports, chosen away from the usual defaults so a developer's own services keep theirs."""

    postgres: int = 55432
    keycloak_https: int = 18443
    keycloak_management: int = 19000
    opa: int = 18181


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
    def opa_data(self) -> Path:
        """Data generated from the realm definitions and served to OPA (RP registry and friends)."""
        return self.state / "opa" / "data"

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
    def admin_username(self) -> str:
        return "admin"

    def opa_read_headers(self) -> dict[str, str]:
        """Authorization for the local tools and tests at the platform's OPA (decisions, registry, policy
        list; never writes): the generated read token (docs/architecture.md, policies/system/authz.rego)."""
        return {"Authorization": f"Bearer {self.secret('opa-read-token')}"}

    def secret(self, name: str) -> str:
        """Read a generated local secret; `bizid up` creates them."""
        return (self.paths.secrets / name).read_text().strip()


def load() -> Settings:
    """Settings for this checkout.

    BIZID_STATE_DIR / BIZID_CACHE_DIR override the folders; BIZID_PORT_OFFSET shifts every port, so a
    second platform (a benchmark's fresh install, a clean-clone check) can run beside the usual one.
    """
    state = Path(os.environ.get("BIZID_STATE_DIR", REPO_ROOT / ".bizid"))
    cache = Path(os.environ.get("BIZID_CACHE_DIR", Path.home() / ".cache" / "bizid"))
    offset = int(os.environ.get("BIZID_PORT_OFFSET", "0"))
    defaults = Ports()
    ports = Ports(
        postgres=defaults.postgres + offset,
        keycloak_https=defaults.keycloak_https + offset,
        keycloak_management=defaults.keycloak_management + offset,
        opa=defaults.opa + offset,
    )
    return Settings(ports=ports, paths=Paths(state=state.resolve(), cache=cache))
