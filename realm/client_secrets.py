"""Where the secrets of confidential clients are kept, so a re-created client gets the same secret and
the platform's own callers (tests, load tests, benchmarks) can read it.

`realm.apply` needs only `get` and `put`; the local platform keeps them as files
(`<secrets_dir>/clients/<client id>`, mode 0600 in a 0700 directory). A deployed platform can put
another store (e.g. a secrets manager) behind the same two methods.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


class ClientSecrets(Protocol):
    """A store of client secrets by client id."""

    def get(self, client_id: str) -> str | None:
        """The kept secret, or None when none is kept."""
        ...

    def put(self, client_id: str, value: str) -> None:
        """Keep `value` as the client's secret."""
        ...


@dataclass(frozen=True)
class FileClientSecrets:
    """One file per client under `<directory>/clients/`, readable by the owner only."""

    directory: Path

    def path(self, client_id: str) -> Path:
        return self.directory / "clients" / client_id

    def get(self, client_id: str) -> str | None:
        path = self.path(client_id)
        return path.read_text().strip() if path.exists() else None

    def put(self, client_id: str, value: str) -> None:
        path = self.path(client_id)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(value + "\n")


def local_store(secrets_dir: Path | None) -> ClientSecrets | None:
    """The file store of the local platform (None: keep no secrets)."""
    return None if secrets_dir is None else FileClientSecrets(secrets_dir)
