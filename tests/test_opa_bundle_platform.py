"""The local platform's OPA serves the signed bundle: it reports the bundle's revision (also in
`bizid status`), verifies the signature at every start (a tampered bundle keeps it down: nobody is let in),
and a changed registry reaches it as a new bundle and a restart, not as a watched file."""

from __future__ import annotations

import io
import shutil
import tarfile
from pathlib import Path

import pytest
import requests

from policies import bundle as opa_bundle
from realm.platform import DEFINITIONS_DIR
from scripts import install, services
from scripts.cli import main as bizid
from scripts.settings import Settings
from tests.conftest import edit_yaml


def _served(cfg: Settings) -> list[str]:
    return services.opa_revisions(cfg)


def _cmdline(cfg: Settings) -> list[str]:
    pid = services.read_pid(cfg, "opa")
    assert pid is not None
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]


def test_the_local_opa_serves_the_signed_bundle_and_reports_its_revision(
    platform: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    revision = opa_bundle.revision_of(platform.paths.opa_bundle)
    assert revision is not None
    assert revision == opa_bundle.expected_revision(platform.paths.opa, opa_bundle.registry_document())
    assert _served(platform) == [revision]
    command = _cmdline(platform)
    assert "--watch" not in command
    assert f"--verification-key={platform.paths.opa_verification_key}" in command
    assert command[-2:] == ["--bundle", str(platform.paths.opa_bundle)]
    assert platform.paths.opa_signing_key.stat().st_mode & 0o777 == 0o600
    bizid(["status"])
    assert f"bundle {revision}" in capsys.readouterr().out


def test_a_changed_registry_is_a_new_bundle_and_a_restarted_opa(platform: Settings, tmp_path: Path) -> None:
    before = _served(platform)
    edited = tmp_path / "definitions"
    shutil.copytree(DEFINITIONS_DIR, edited)
    edit_yaml(edited / "rps" / "seminar.yaml", {"name": "Seminar sign-up (edited)"})
    try:
        built = services.publish_opa_bundle(platform, edited)
        assert built.revision not in before
        assert _served(platform) == [built.revision]
        registry = requests.get(
            f"{platform.opa_url}/v1/data/bizid/registry/rps/seminar",
            headers=platform.opa_read_headers(),
            timeout=10,
        ).json()["result"]
        assert registry["name"] == "Seminar sign-up (edited)"
    finally:
        services.publish_opa_bundle(platform)
    assert _served(platform) == before


def test_a_tampered_local_bundle_keeps_opa_down(platform: Settings) -> None:
    """Same revision in the manifest, a changed authorization policy: OPA refuses to start on it."""
    bundle_file = platform.paths.opa_bundle
    original = bundle_file.read_bytes()
    revision = opa_bundle.revision_of(bundle_file)
    with tarfile.open(fileobj=io.BytesIO(original), mode="r:gz") as archive:
        members = {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]
    authz = next(name for name in members if name.endswith("system/authz.rego"))
    members[authz] = members[authz].replace(b"default allow := false", b"default allow := true")
    tampered = io.BytesIO()
    with tarfile.open(fileobj=tampered, mode="w:gz") as archive:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    try:
        services.stop_opa(platform)
        bundle_file.write_bytes(tampered.getvalue())
        assert opa_bundle.revision_of(bundle_file) == revision  # so `start_opa` keeps the file
        with pytest.raises(install.InstallError, match="digest mismatch"):
            services.start_opa(platform)
        with pytest.raises(requests.ConnectionError):
            requests.get(f"{platform.opa_url}/health", timeout=2)
    finally:
        services.stop_opa(platform)
        bundle_file.unlink(missing_ok=True)
        services.start_opa(platform)  # rebuilt and signed again
    assert _served(platform) == [opa_bundle.revision_of(bundle_file)]
