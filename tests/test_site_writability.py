"""The site writability signal on the real Keycloak and PostgreSQL: the Route 53 failover check's contract.

`/realms/bizid/bizid-site/writable` must say 200 while Keycloak's database takes writes and 503 once it is
read-only, the state Tokyo's database is in after a failover made it the secondary. The read-only state is
reproduced the way a standby presents itself to a new session: `default_transaction_read_only=on` on the
database, and Keycloak's connections dropped so its pool reconnects into it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import requests

from realm import site
from realm.platform import DB_NAME, REALM
from scripts import services
from scripts.settings import Settings

ATTEMPTS = 120  # of the signal while Keycloak's pool reconnects; each waits 0.5 s


def ask(cfg: Settings) -> requests.Response:
    return requests.get(
        cfg.keycloak_url + site.writable_path(REALM), verify=str(cfg.paths.ca_cert), timeout=10
    )


def drop_keycloak_connections(cfg: Settings) -> None:
    services.superuser_sql(
        cfg,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        f"WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()",
    )


def wait_for(cfg: Settings, status: int, reason: str | None = None) -> requests.Response:
    """Ask until the signal answers `status` (and `reason`): the pool first hands out the connections that
    were dropped, which the signal reports as 503 `unreachable` until Keycloak has reconnected."""
    last = None
    for _ in range(ATTEMPTS):
        last = ask(cfg)
        if last.status_code == status and (reason is None or last.json().get("reason") == reason):
            return last
        time.sleep(0.5)
    assert last is not None
    pytest.fail(
        f"the signal never answered {status} {reason or ''}; last {last.status_code} {last.text[:200]}"
    )


def set_read_only(cfg: Settings, on: bool) -> None:
    value = "SET default_transaction_read_only = on" if on else "RESET default_transaction_read_only"
    services.superuser_sql(cfg, f"ALTER DATABASE {DB_NAME} {value}")
    drop_keycloak_connections(cfg)


@pytest.fixture
def restored(platform: Settings) -> Iterator[Settings]:
    """Whatever happens in the test, the database is writable again afterwards (other tests share it)."""
    try:
        yield platform
    finally:
        set_read_only(platform, False)
        wait_for(platform, 200)


def test_writable_database_answers_200_with_the_marker(platform: Settings) -> None:
    answer = wait_for(platform, 200)
    assert answer.json() == {"writable": True}
    assert site.WRITABLE_MARKER in answer.text  # what the Route 53 HTTPS_STR_MATCH check looks for
    assert "no-store" in answer.headers.get("Cache-Control", "")


def test_dropped_connections_alone_recover_to_200(platform: Settings) -> None:
    # Control for the next test: reconnecting by itself does not turn the signal off; while Keycloak has no
    # working connection the signal fails closed (503) rather than guessing.
    drop_keycloak_connections(platform)
    first = ask(platform)
    assert first.status_code in (200, 503)
    if first.status_code == 503:
        assert first.json() == {"writable": False, "reason": site.UNREACHABLE}
    assert wait_for(platform, 200).json() == {"writable": True}


def test_read_only_database_answers_503_and_recovers(restored: Settings) -> None:
    cfg = restored
    wait_for(cfg, 200)
    set_read_only(cfg, True)
    # `read-only`, not `unreachable`: once the dropped connections are gone, Keycloak's driver (it connects
    # with targetServerType=primary) finds the server read-only and refuses it, as an Aurora secondary.
    answer = wait_for(cfg, 503, site.READ_ONLY)
    assert answer.json() == {"writable": False, "reason": site.READ_ONLY}
    assert site.WRITABLE_MARKER not in answer.text
    for _ in range(5):
        again = ask(cfg)
        assert (again.status_code, again.json()) == (503, {"writable": False, "reason": site.READ_ONLY})
    # A page check would still pass (issue 11 §1.3): the realm's public page is served from Keycloak's realm
    # cache, so Route 53 would have sent users to this read-only site. (The discovery document, the former
    # check, now reads the live clients to tell which grants are on, so it fails here too; a page that
    # happens to touch the database is no writability signal either.)
    page = requests.get(cfg.issuer, verify=str(cfg.paths.ca_cert), timeout=10)
    assert page.status_code == 200
    set_read_only(cfg, False)
    assert wait_for(cfg, 200).json() == {"writable": True}
