"""Starting an OPA server: the real binary, on loopback, serving the bizid and system policies and a
registry document, always with authentication and authorization.

`server_command` is the one `opa run` command line: the local platform's long-running OPA
(scripts/services.py), `private_opa` (the policy matrix's what-if mode, the policy tests and the policy
benchmark) and, in the same terms, the ECS sidecar (infra/components/keycloak_service.py, tested).

- `--authentication=token --authorization=basic` with `policies/system/authz.rego`: only `GET /health` is
  open; the decision token (Keycloak) may ask `POST /v1/data/bizid/<package>/decision`, the read token
  (local tools and tests) also the registry and the policy list; nobody may write.
- `policies/system/log.rego` masks personal data in the decision log (`system.log.mask`).
- The tokens reach OPA as environment variables (`DECIDE_TOKEN_ENV`, `READ_TOKEN_ENV`), which the
  authorization policy reads with `opa.runtime()`; they are never in a policy or data file.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

from policies import opa_client
from policies.opa_client import OpaError
from realm import build as realm_build
from realm import opa_data
from realm.platform import DEFINITIONS_DIR, POLICY_DIR, SYSTEM_POLICY_DIR

DECIDE_TOKEN_ENV = "BIZID_OPA_TOKEN"
"""Keycloak's token (decisions only); read by the extension's OpaClient and by system.authz."""
READ_TOKEN_ENV = "BIZID_OPA_READ_TOKEN"
"""The tools' and tests' token (decisions, the registry and the policy list)."""
DECIDE_TOKEN_SECRET = "opa-token"
READ_TOKEN_SECRET = "opa-read-token"
"""File names of the two tokens among a platform's generated secrets."""

SECURITY_FLAGS = ("--authentication=token", "--authorization=basic")


def opa_binary(configured: Path | None = None) -> Path:
    """`configured` when it exists, else `opa` on PATH."""
    if configured is not None and configured.exists():
        return configured
    found = shutil.which("opa")
    if found is None:
        where = f"at {configured} nor " if configured is not None else ""
        raise OpaError(f"no OPA binary {where}on PATH (run `bizid up`)")
    return Path(found)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_command(
    binary: Path,
    address: str,
    data_dir: Path,
    extra_args: Sequence[str] = (),
    *,
    decision_log: bool = False,
) -> list[str]:
    """`opa run --server` on `address` with token authentication and the authorization policy, serving
    `policies/bizid` and `policies/system` (without `_test.rego`, as in production) and the data documents
    under `data_dir`: the one command every bizid OPA server is started with."""
    command = [
        str(binary),
        "run",
        "--server",
        "--addr",
        address,
        *SECURITY_FLAGS,
        "--ignore",
        "*_test.rego",
    ]
    if decision_log:
        command += ["--log-format", "json", "--set", "decision_logs.console=true"]
    return [*command, *extra_args, str(POLICY_DIR), str(SYSTEM_POLICY_DIR), str(data_dir)]


def token_env(decide_token: str, read_token: str) -> dict[str, str]:
    """The environment that gives an OPA server its two tokens."""
    return {DECIDE_TOKEN_ENV: decide_token, READ_TOKEN_ENV: read_token}


def new_token() -> str:
    """A fresh token (the authorization policy ignores tokens shorter than 16 characters)."""
    return secrets.token_urlsafe(32)


def bearer(token: str | None) -> dict[str, str]:
    """The Authorization header for `token` (none without one)."""
    return {"Authorization": f"Bearer {token}"} if token else {}


@contextmanager
def private_opa(
    definitions: Path = DEFINITIONS_DIR,
    registry: dict[str, Any] | None = None,
    extra_args: tuple[str, ...] = (),
    binary: Path | None = None,
) -> Iterator[str]:
    """A private OPA server (the real binary: `binary`, else `opa` on PATH) on a free loopback port, with
    the platform's authentication and authorization and fresh tokens; yields its URL.

    It serves the policies and the registry generated from `definitions` by `realm.opa_data` - or the
    given `registry` document as is. Its read token is known to `policies.opa_client` while it runs, so
    `Opa(url)` authenticates without the caller handling tokens (`opa_client.token_for(url)` for plain HTTP).
    """
    with tempfile.TemporaryDirectory(prefix="bizid-opa-") as tmp:
        data_dir = Path(tmp) / "data"
        if registry is None:
            defs, profile = realm_build.load(definitions)
            opa_data.write(defs, data_dir, profile=profile)
        else:
            target = data_dir.joinpath(*opa_data.DATA_PATH, "data.json")
            target.parent.mkdir(parents=True)
            target.write_text(json.dumps(registry), encoding="utf-8")
        port = _free_port()
        log_path = Path(tmp) / "opa.log"
        command = server_command(
            opa_binary(binary), f"127.0.0.1:{port}", data_dir, ("--skip-version-check", *extra_args)
        )
        read_token = new_token()
        env = {**os.environ, **token_env(new_token(), read_token)}
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        url = f"http://127.0.0.1:{port}"
        opa_client.remember_token(url, read_token)
        try:
            deadline = time.monotonic() + 30
            while True:
                if process.poll() is not None:
                    raise OpaError(f"OPA exited with {process.returncode}: {log_path.read_text()[-2000:]}")
                try:
                    if requests.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                if time.monotonic() > deadline:
                    raise OpaError(f"OPA did not become healthy: {log_path.read_text()[-2000:]}")
                time.sleep(0.05)
            yield url
        finally:
            opa_client.forget_token(url)
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
