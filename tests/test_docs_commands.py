"""README's and docs/rp-guide.md's command blocks run as written (issue 11 §5).

Every fenced block marked ```` ```bash ```` is executed, in document order, as one `bash -euo pipefail`
script from the repository root against the local platform (blocks marked `sh` are shown, not run:
`make up`, long-running servers). Accounts the blocks create are deleted first, so the documents can
run again; the demo accounts `bizid up` prints are ensured.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from realm import accounts, loader
from realm.platform import REPO_ROOT
from scripts.settings import Settings

DOCUMENTS = [REPO_ROOT / "README.md", REPO_ROOT / "docs" / "rp-guide.md"]
FENCE = re.compile(r"^```(\S*)[^\n]*\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)


def blocks(path: Path, language: str) -> list[str]:
    return [body for info, body in FENCE.findall(path.read_text(encoding="utf-8")) if info == language]


def test_the_fence_reader_keeps_only_bash_blocks(tmp_path: Path) -> None:
    doc = tmp_path / "d.md"
    doc.write_text("x\n```bash\necho one\n```\n```sh\nmake up\n```\n```bash\necho two\n```\n")
    assert blocks(doc, "bash") == ["echo one\n", "echo two\n"]


@pytest.mark.parametrize("document", DOCUMENTS, ids=[p.name for p in DOCUMENTS])
def test_the_documents_command_blocks_run_as_written(platform: Settings, admin: Any, document: Path) -> None:
    commands = blocks(document, "bash")
    assert commands, f"{document} has no ```bash block"
    accounts.ensure_demo_accounts(admin, platform.paths.secrets / accounts.DEMO_ACCOUNTS_FILE)
    for username in sorted(set(re.findall(r"--username (\S+)", "".join(commands)))):
        for user in admin.get_users({"username": username, "exact": True}):
            admin.delete_user(user["id"])
    script = "set -euo pipefail\n" + "\n".join(commands)
    run = subprocess.run(
        ["bash", "-c", script],
        cwd=REPO_ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert run.returncode == 0, (
        f"{document.name}: exit {run.returncode}\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    )


def test_the_guides_example_rp_is_a_valid_definition(definitions_copy: Path) -> None:
    """The YAML the guide shows for a new RP loads with every cross-check (scopes, licences, tiers)."""
    [example] = [b for b in blocks(DOCUMENTS[1], "yaml") if b.startswith("# realm/definitions/rps/")]
    client_id = yaml.safe_load(example)["client_id"]
    (definitions_copy / "rps" / f"{client_id}.yaml").write_text(example, encoding="utf-8")
    assert loader.load(definitions_copy).rp(client_id).procedures
