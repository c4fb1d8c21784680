"""Starting an OPA server: the real binary, on loopback, serving the one signed bundle
(`policies.bundle`: the bizid and system policies and the registry document), always with authentication,
authorization and bundle signature verification.

`server_command` is the one `opa run` command line: the local platform's long-running OPA
(scripts/services.py), `private_opa` (the policy matrix's what-if mode, the policy tests and the policy
benchmark) and, in the same terms, the ECS sidecar (infra/components/keycloak_service.py, tested).

- `--bundle` with `--verification-key`: OPA refuses to start on an unsigned bundle or one whose files do
  not match their signed digests. Never `--watch`: OPA 1.22 reloads a watched bundle file WITHOUT verifying
  its signature (tests/test_opa_bundle.py shows it), so a changed bundle means a restart.

- `--authentication=token --authorization=basic` with `policies/system/authz.rego`: only `GET /health` is
  open; the decision token (Keycloak) may ask `POST /v1/data/bizid/<package>/decision`, the read token
  (local tools and tests) also the registry and the policy list; nobody may write.
- `policies/system/log.rego` masks personal data in the decision log (`system.log.mask`).
- The tokens reach OPA as environment variables (`DECIDE_TOKEN_ENV`, `READ_TOKEN_ENV`), which the
  authorization policy reads with `opa.runtime()`; they are never in a policy or data file.
"""

from __future__ import annotations

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

from policies import bundle as opa_bundle
from policies import opa_client
from policies.opa_client import OpaError
from realm.platform import DEFINITIONS_DIR

DECIDE_TOKEN_ENV = "BIZID_OPA_TOKEN"
"""Keycloak's token (decisions only); read by the extension's OpaClient and by system.authz."""
READ_TOKEN_ENV = "BIZID_OPA_READ_TOKEN"
"""The tools' and tests' token (decisions, the registry and the policy list)."""
DECIDE_TOKEN_SECRET = "opa-token"
READ_TOKEN_SECRET = "opa-read-token"
"""File names of the two tokens among a platform's generated secrets."""

SECURITY_FLAGS = ("--authentication=token", "--authorization=basic")
VERIFICATION_ALG_FLAG = f"--signing-alg={opa_bundle.SIGNING_ALG}"
"""With `--verification-key=<public key>`: how every bizid OPA verifies its bundle (as in the ECS sidecar)."""


def verification_flags(verification_key: Path | str) -> list[str]:
    """`--verification-key` (a PEM file, or the PEM text itself, which OPA also accepts) and the algorithm."""
    return [f"--verification-key={verification_key}", VERIFICATION_ALG_FLAG]


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


RUNTIME_ENV = {"GOGC": "800", "GOMEMLIMIT": "256MiB"}
"""The Go runtime settings every bizid OPA server runs with (issue 14 §2; docs/tuning.md "Policy decisions:
levers"). They change no decision, only how often the garbage collector runs: with Go's default
(GOGC=100) a ~10 MB live heap was collected 43 times per 1,000 release decisions, so about one decision
in 25 overlapped a collection (the p99); GOGC=800 lets the heap grow to ~9x live before collecting (4 per
1,000, RSS 48 → 93 MB), and GOMEMLIMIT keeps a soft ceiling, so a larger registry collects sooner rather
than growing without bound."""


def server_command(
    binary: Path,
    address: str,
    bundle: Path,
    verification_key: Path,
    extra_args: Sequence[str] = (),
    *,
    decision_log: bool = False,
) -> list[str]:
    """`opa run --server` on `address` with token authentication and the authorization policy, serving the
    signed bundle `bundle` (policies/bizid and policies/system without tests, and the registry), verified
    with `verification_key`: the one command every bizid OPA server is started with."""
    command = [
        str(binary),
        "run",
        "--server",
        f"--addr={address}",
        *SECURITY_FLAGS,
        *verification_flags(verification_key),
    ]
    if decision_log:
        command += ["--log-format=json", "--set=decision_logs.console=true"]
    return [*command, *extra_args, "--bundle", str(bundle)]


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

    It serves a bundle built by `policies.bundle.build` (optimized and signed with a fresh key, as the
    platform's) from the policies and the registry generated from `definitions` by `realm.opa_data` - or
    the given `registry` document as is: so what the tests ask is the built artefact, not the sources.
    Its read token is known to `policies.opa_client` while it runs, so
    `Opa(url)` authenticates without the caller handling tokens (`opa_client.token_for(url)` for plain HTTP).
    """
    with tempfile.TemporaryDirectory(prefix="bizid-opa-") as tmp:
        opa = opa_binary(binary)
        signing_key = opa_bundle.generate_signing_key(Path(tmp) / "signing.pem")
        verification_key = opa_bundle.write_verification_key(signing_key, Path(tmp) / "verification.pem")
        built = opa_bundle.build(
            opa, Path(tmp) / opa_bundle.BUNDLE_FILE, signing_key, definitions=definitions, registry=registry
        )
        port = _free_port()
        log_path = Path(tmp) / "opa.log"
        command = server_command(
            opa,
            f"127.0.0.1:{port}",
            built.path,
            verification_key,
            ("--skip-version-check", *extra_args),
        )
        read_token = new_token()
        env = {**os.environ, **RUNTIME_ENV, **token_env(new_token(), read_token)}
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
