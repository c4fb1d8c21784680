"""Every bizid OPA server runs with the Go runtime settings of `opa_server.RUNTIME_ENV` (GOGC, GOMEMLIMIT).

They cut how often OPA's garbage collector runs, the main cause of the decision-time p99 (docs/tuning.md,
"Policy decisions: levers"); they change no decision. Checked on the processes themselves: the platform's
OPA (its environment, as the Go runtime reads it at start) and a private OPA of the tests and benchmarks
(the runtime's own gauges, `go_gc_gogc_percent` / `go_gc_gomemlimit_bytes`, read from a server started
the same way without the authorization policy in front of /metrics).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import time
from pathlib import Path

import pytest
import requests

from policies import opa_server
from scripts import services, settings
from scripts.settings import Settings


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().partition("=")[::2] for item in raw if b"=" in item)


@pytest.mark.platform
def test_the_platforms_opa_runs_with_the_runtime_settings(platform: Settings) -> None:
    pid = services.read_pid(platform, "opa")
    assert pid is not None
    # The pid file names the process group leader: OPA itself, or the log rotator that execs/starts it.
    pids = [pid, *(int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split())]
    opa = [p for p in pids if Path(f"/proc/{p}/exe").resolve().name == "opa"]
    assert opa, pids
    env = _environ(opa[0])
    assert {k: env.get(k) for k in opa_server.RUNTIME_ENV} == opa_server.RUNTIME_ENV


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_go_runtime_takes_the_settings(tmp_path: Path) -> None:
    """The values are ones the Go runtime accepts (a typo such as GOMEMLIMIT=256MB is ignored silently)."""
    opa = opa_server.opa_binary(settings.load().paths.opa)
    (tmp_path / "p.rego").write_text("package p\n\nx := 1\n", encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [str(opa), "run", "--server", f"--addr=127.0.0.1:{port}", "--skip-version-check", str(tmp_path)],
        env={**os.environ, **opa_server.RUNTIME_ENV},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                metrics = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=1).text
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, "OPA did not start"
                time.sleep(0.1)
    finally:
        process.terminate()
        process.wait(timeout=10)
    gauges = dict(re.findall(r"^(go_gc_gogc_percent|go_gc_gomemlimit_bytes) (\S+)$", metrics, re.MULTILINE))
    assert float(gauges["go_gc_gogc_percent"]) == float(opa_server.RUNTIME_ENV["GOGC"])
    assert float(gauges["go_gc_gomemlimit_bytes"]) == 256 * 1024 * 1024
