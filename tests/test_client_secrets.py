"""The local store of confidential clients' secrets (`realm.client_secrets`): the layout the platform's
callers read (`<secrets>/clients/<client id>`), owner-only permissions, and nothing invented when a
secret is not kept. (Applying the realm with this store is tested against Keycloak in
test_realm_reconcile.py.)"""

from __future__ import annotations

import stat
from pathlib import Path

from realm.client_secrets import ClientSecrets, FileClientSecrets, local_store


def test_the_file_store_keeps_one_owner_only_file_per_client(tmp_path: Path) -> None:
    store: ClientSecrets = FileClientSecrets(tmp_path)
    assert store.get("jgrants") is None
    store.put("jgrants", "s3cret")
    path = tmp_path / "clients" / "jgrants"
    assert path.read_text() == "s3cret\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert store.get("jgrants") == "s3cret"
    assert store.get("shaho") is None


def test_a_secret_written_by_hand_is_read_without_its_newline(tmp_path: Path) -> None:
    (tmp_path / "clients").mkdir()
    (tmp_path / "clients" / "shaho").write_text("  from-keycloak \n")
    assert FileClientSecrets(tmp_path).get("shaho") == "from-keycloak"


def test_no_directory_means_no_store(tmp_path: Path) -> None:
    assert local_store(None) is None
    assert local_store(tmp_path) == FileClientSecrets(tmp_path)
