"""Issue 14 §4 against the real OPA: the decision log is bounded (rotated by size, a kept count) and holds
no personal data in clear, yet keeps what an investigator needs (decision id, RP, result, reasons) and
`bizid audit trace` still finds decisions in the rotated files.

The OPA here is the platform's command (`scripts.services.OPA_LOG_BOUND`'s wrapper around
`policies.opa_server.server_command` with the decision log on, the signed bundle) with a small bound, so a
few hundred decisions rotate it several times.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from policies import bundle as opa_bundle
from policies import matrix_inputs, opa_server
from realm import audit_trace
from realm.lifecycle import AccountView
from scripts import rotating_log, services, settings
from scripts.settings import REPO_ROOT

BOUND = rotating_log.Bound(max_bytes=32 * 1024, keep=2)
DECISIONS = 300
PERSONAL = {
    "email": "hanako.yamada@secret-trading.example",
    "firstName": "Hanako",
    "lastName": "Yamadaxyz",
    "phone_number": "+81355501234",
    "corporate_number": "7010001088960",
    "corporate_name": "Secret Trading K.K.",
    "representative_name": "Taro Representative",
    "address": "1-2-3 Kasumigaseki, Chiyoda-ku",
    "username": "hanako-secret-user",
}


@pytest.fixture(scope="module")
def opa_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path, str]]:
    tmp = tmp_path_factory.mktemp("opa-log")
    opa = opa_server.opa_binary(settings.load().paths.opa)
    key = opa_bundle.generate_signing_key(tmp / "signing.pem")
    verification = opa_bundle.write_verification_key(key, tmp / "verification.pem")
    built = opa_bundle.build(opa, tmp / opa_bundle.BUNDLE_FILE, key)
    port = opa_server._free_port()
    log = tmp / "opa.log"
    command = [
        *BOUND.arguments(log),
        *opa_server.server_command(
            opa, f"127.0.0.1:{port}", built.path, verification, ("--skip-version-check",), decision_log=True
        ),
    ]
    read_token = opa_server.new_token()
    env = {**os.environ, **opa_server.token_env(opa_server.new_token(), read_token)}
    process = subprocess.Popen(command, cwd=REPO_ROOT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, f"OPA exited: {log.read_text()[-2000:] if log.exists() else ''}"
            try:
                if requests.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, "OPA did not become healthy"
            time.sleep(0.1)
        yield url, log, read_token
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def _input(registry: dict[str, Any], index: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    account = matrix_inputs.synthetic_account(registry, "prime", now, ["jgrants"])
    account.update(PERSONAL)
    account["id"] = "acct-under-trace"
    policy_input: dict[str, Any] = dict(matrix_inputs.base_input(registry, "jgrants", account, 2, now))
    policy_input["scopes"] = ["openid", "profile", "email", "corporate"]
    policy_input["decision_id"] = f"case-{index:04d}-{uuid.uuid4()}"
    return policy_input


def test_decision_log_stays_bounded_masked_and_traceable(opa_url: tuple[str, Path, str]) -> None:
    url, log, token = opa_url
    registry = opa_bundle.registry_document()
    headers = opa_server.bearer(token)
    last = ""
    for i in range(DECISIONS):
        package = "access" if i % 2 else "release"
        body = _input(registry, i)
        last = str(body["decision_id"])
        answer = requests.post(
            f"{url}/v1/data/bizid/{package}/decision", json={"input": body}, headers=headers, timeout=10
        )
        assert answer.status_code == 200, answer.text[:300]
    files = rotating_log.rotated(log, BOUND.keep)
    # the log wrapped more than keep times over these decisions, yet holds only keep + 1 files
    assert len(files) == BOUND.keep + 1, files
    assert not log.with_name(f"{log.name}.{BOUND.keep + 1}").exists()
    sizes = {p.name: p.stat().st_size for p in files}
    assert all(size <= BOUND.max_bytes for size in sizes.values()), sizes
    assert sum(sizes.values()) <= BOUND.total_bytes
    deadline = time.monotonic() + 10  # OPA writes the decision after answering it
    while last not in log.read_text() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert last in log.read_text(), "the newest decision is not in the current file"
    events = []
    for path in files:
        text = path.read_text()
        for value in PERSONAL.values():
            assert value not in text, (value, path.name)
        events += [json.loads(line) for line in text.splitlines() if '"Decision Log"' in line]
    assert events
    for event in events:
        assert event["decision_id"]
        assert event["input"]["decision_id"].startswith("case-")
        assert event["input"]["rp"] == {"client_id": "jgrants"}
        assert event["input"]["account"]["id"] == "acct-under-trace"
        assert "result" in event
    assert any(isinstance(e["result"].get("reasons"), list) for e in events)
    account = AccountView(
        id="acct-under-trace", username="traced", email=None, tier="prime", status="active", enabled=True,
        valid_until=None, corporate_number=None, corporate_name=None, prime_username=None, branch=None,
        created=None,
    )  # fmt: skip
    rows = list(audit_trace.decisions(files, {account.id: account}))
    assert len(rows) == len(events)
    assert any(f"decision_id={last}" in row.detail for row in rows)


def test_the_platforms_opa_runs_under_the_bounded_log(tmp_path: Path) -> None:
    cfg = settings.load()
    command, _ = services.opa_launch_command(cfg, Path("/usr/bin/opa"))
    assert command[: len(services.OPA_LOG_BOUND.arguments(cfg.paths.logs / "opa.log"))] == (
        services.OPA_LOG_BOUND.arguments(cfg.paths.logs / "opa.log")
    )
    assert "--set=decision_logs.console=true" in command


def test_the_rotating_log_refuses_bad_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    bad = (["--max-bytes=10", "--keep=2"], ["--max-bytes=4096", "--keep=0"])
    for bounds in bad:
        argv = [*bounds, "--file=x", "--", "true"]
        with pytest.raises(SystemExit):
            rotating_log.main(argv)
        assert "must be" in capsys.readouterr().err
