"""Starting an OPA server: the real binary, on loopback, serving `policies/bizid` and a registry document.

`server_command` is the one `opa run` command line: the local platform's long-running OPA
(scripts/services.py) and `private_opa` - what the policy matrix's what-if mode, the policy tests and the
policy benchmark use - both start OPA with it.
"""

from __future__ import annotations

import json
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

from policies.opa_client import OpaError
from realm import build as realm_build
from realm import opa_data
from realm.platform import DEFINITIONS_DIR, POLICY_DIR


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


def server_command(binary: Path, address: str, data_dir: Path, extra_args: Sequence[str] = ()) -> list[str]:
    """`opa run --server` on `address`, serving `policies/bizid` (without `_test.rego`, as in production)
    and the data documents under `data_dir`: the one command every bizid OPA server is started with."""
    return [
        str(binary),
        "run",
        "--server",
        "--addr",
        address,
        "--ignore",
        "*_test.rego",
        *extra_args,
        str(POLICY_DIR),
        str(data_dir),
    ]


@contextmanager
def private_opa(
    definitions: Path = DEFINITIONS_DIR,
    registry: dict[str, Any] | None = None,
    extra_args: tuple[str, ...] = (),
    binary: Path | None = None,
) -> Iterator[str]:
    """A private OPA server (the real binary: `binary`, else `opa` on PATH) on a free loopback port;
    yields its URL.

    It serves `policies/bizid` (without `_test.rego`, as in production) and the registry generated from
    `definitions` by `realm.opa_data` - or the given `registry` document as is.
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
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
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
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
