"""The local platform runs for real, on loopback only, with TLS a plain client can verify."""

from __future__ import annotations

import subprocess

import pytest
import requests

from scripts import services
from scripts.cli import main as bizid
from scripts.settings import Settings

pytestmark = pytest.mark.platform


def _listening_addresses(port: int) -> set[str]:
    out = subprocess.run(
        ["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True
    ).stdout
    return {line.split()[3].rsplit(":", 1)[0] for line in out.splitlines() if line.strip()}


def test_every_service_listens_on_loopback_only(platform: Settings) -> None:
    ports = platform.ports
    for port in (ports.postgres, ports.keycloak_https, ports.keycloak_management, ports.opa):
        addresses = _listening_addresses(port)
        assert addresses, f"nothing listens on {port}"
        assert addresses <= {"127.0.0.1", "[::ffff:127.0.0.1]"}, f"port {port} listens on {addresses}"


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
    pids = {name: services._read_pid(platform, name) for name in ("keycloak", "opa")}
    services.start_all(platform)
    assert {name: services._read_pid(platform, name) for name in ("keycloak", "opa")} == pids
