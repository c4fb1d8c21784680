"""The local platform runs for real, on loopback only, with TLS a plain client can verify."""

from __future__ import annotations

import re
import subprocess

import pytest
import requests

from scripts import services
from scripts.cli import main as bizid
from scripts.settings import Settings

pytestmark = pytest.mark.platform


def _descendants(pid: int) -> set[int]:
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return {pid}.union(*(_descendants(int(child)) for child in children))


def _platform_pids(cfg: Settings) -> set[int]:
    roots = [services.read_pid(cfg, "keycloak"), services.read_pid(cfg, "opa")]
    postmaster = cfg.paths.pgdata / "postmaster.pid"
    if postmaster.exists():
        roots.append(int(postmaster.read_text().splitlines()[0]))
    return set().union(*(_descendants(pid) for pid in roots if pid))


def _listening_sockets(pids: set[int]) -> dict[str, set[int]]:
    """Every TCP listening address of the given processes -> the pids listening there."""
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    found: dict[str, set[int]] = {}
    for line in out.splitlines():
        owners = {int(p) for p in re.findall(r"pid=(\d+)", line)} & pids
        if owners:
            found.setdefault(line.split()[3], set()).update(owners)
    return found


def test_every_socket_of_the_platform_is_on_loopback(platform: Settings) -> None:
    """Not only the four service ports: nothing the platform starts may listen beyond this machine."""
    sockets = _listening_sockets(_platform_pids(platform))
    ports = platform.ports
    expected = {ports.postgres, ports.keycloak_https, ports.keycloak_management, ports.opa}
    assert expected <= {int(address.rsplit(":", 1)[1]) for address in sockets}, sockets
    exposed = {a for a in sockets if a.rsplit(":", 1)[0] not in ("127.0.0.1", "[::ffff:127.0.0.1]", "[::1]")}
    assert not exposed, f"listening beyond loopback: {exposed}"


def test_status_reports_all_healthy(platform: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    assert bizid(["status"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in ("postgres", "keycloak", "opa"))
    assert all(s.healthy for s in services.status(platform))


def test_keycloak_serves_tls_that_verifies_against_the_local_ca(platform: Settings) -> None:
    discovery = requests.get(
        f"{platform.issuer}/.well-known/openid-configuration", verify=str(platform.paths.ca_cert), timeout=10
    ).json()
    assert discovery["issuer"] == platform.issuer
    assert "S256" in discovery["code_challenge_methods_supported"]
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(platform.issuer, verify=True, timeout=10)  # not trusted by the system store


def test_plain_http_is_not_served(platform: Settings) -> None:
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(f"http://127.0.0.1:{platform.ports.keycloak_https}/", timeout=5)


def test_starting_again_changes_nothing(platform: Settings) -> None:
    pids = {name: services.read_pid(platform, name) for name in ("keycloak", "opa")}
    services.start_all(platform)
    assert {name: services.read_pid(platform, name) for name in ("keycloak", "opa")} == pids


def test_changed_postgres_settings_restart_it_without_hanging_the_caller(platform: Settings) -> None:
    """`bizid up` restarts PostgreSQL when scripts/tuning.py changed. The restart once ran without a log
    file, so the server inherited the caller's output pipe and `bizid up` waited for it forever. Checked on
    a cluster of its own (the platform's Keycloak keeps its connections)."""
    import os
    import shutil
    import sys
    import tempfile
    from pathlib import Path

    from scripts.settings import REPO_ROOT

    state = Path(tempfile.mkdtemp(prefix="bizid-pg-restart-", dir="/tmp"))
    state.chmod(0o755)  # the postgres user must reach its data folder inside
    offset = int(os.environ.get("BIZID_PORT_OFFSET", "0")) + 700
    env = {**os.environ, "BIZID_STATE_DIR": str(state), "BIZID_PORT_OFFSET": str(offset)}

    def run(call: str) -> subprocess.CompletedProcess[str]:
        code = f"from scripts import services, settings; services.{call}(settings.load())"
        return subprocess.run(
            [sys.executable, "-c", code], cwd=REPO_ROOT, env=env, capture_output=True, text=True,
            timeout=180, check=False,
        )  # fmt: skip

    try:
        assert run("start_postgres").returncode == 0
        conf = state / "postgres" / "data" / services.PG_CONF_FILE
        conf.write_text(conf.read_text() + "\n# an older version of the settings\n")
        restarted = run("start_postgres")
        assert restarted.returncode == 0, restarted.stderr
        assert "restarting" in restarted.stdout
        assert "older version" not in conf.read_text()
    finally:
        run("stop_postgres")
        shutil.rmtree(state, ignore_errors=True)
