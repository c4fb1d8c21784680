"""How every OPA server of the project is started: the platform's (scripts/services.py), the private ones of
the tests and reports (policies/matrix.py) and, in the same terms, the ECS sidecar (infra).

- `--authentication=token --authorization=basic` with `policies/system/authz.rego`: only `GET /health` is
  open; the decision token (Keycloak) may ask `POST /v1/data/bizid/<package>/decision`, the read token
  (local tools and tests) also the registry and the policy list; nobody may write.
- `policies/system/log.rego` masks personal data in the decision log (`system.log.mask`, OPA's default
  mask path).
- The tokens reach OPA as environment variables (`DECIDE_TOKEN_ENV`, `READ_TOKEN_ENV`), which the
  authorization policy reads with `opa.runtime()`; they are never in a policy or data file.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from scripts.settings import REPO_ROOT

POLICY_DIR = REPO_ROOT / "policies" / "bizid"
SYSTEM_POLICY_DIR = REPO_ROOT / "policies" / "system"
DECIDE_TOKEN_ENV = "BIZID_OPA_TOKEN"
READ_TOKEN_ENV = "BIZID_OPA_READ_TOKEN"
DECIDE_TOKEN_SECRET = "opa-token"
READ_TOKEN_SECRET = "opa-read-token"

SECURITY_FLAGS = ("--authentication=token", "--authorization=basic")


def run_args(addr: str, data: Path, *, decision_log: bool, extra: tuple[str, ...] = ()) -> list[str]:
    """Arguments after the binary: `run --server ...` on the bizid and system policies plus `data`."""
    args = [
        "run",
        "--server",
        "--addr",
        addr,
        *SECURITY_FLAGS,
        "--ignore",
        "*_test.rego",
        "--skip-version-check",
    ]
    if decision_log:
        args += ["--log-format", "json", "--set", "decision_logs.console=true"]
    return [*args, *extra, str(POLICY_DIR), str(SYSTEM_POLICY_DIR), str(data)]


def token_env(decide_token: str, read_token: str) -> dict[str, str]:
    return {DECIDE_TOKEN_ENV: decide_token, READ_TOKEN_ENV: read_token}


def new_token() -> str:
    """A fresh token (the authorization policy ignores tokens shorter than 16 characters)."""
    return secrets.token_urlsafe(32)


def bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
