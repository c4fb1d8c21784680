"""Issue 10 §6: bad input to any `bizid` command gets a clear error naming the option, file or field, exit 2,
no traceback, and nothing written. Commands run as a user runs them: `scripts.cli.main(argv)`.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from realm import loader, reconcile
from scripts import cli
from scripts.settings import Settings
from tests.conftest import edit_yaml


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Exit code and stderr of `bizid <argv>`; argparse's own refusals exit through SystemExit."""
    try:
        code = cli.main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return code, err


# --- numbers and paths refused by the argument parser, before anything starts ------------------------


def _nothing_may_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A guard, not a stand-in: should a refusal regress, Locust or a benchmark must not start (and hang)."""
    import subprocess

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a process was started for bad input: {args}")

    monkeypatch.setattr(subprocess, "run", refuse)
    monkeypatch.setattr(subprocess, "Popen", refuse)


@pytest.mark.parametrize(
    ("argv", "option"),
    [
        (("seed", "--accounts", "10", "--jobs", "0"), "--jobs"),
        (("seed", "--accounts", "0"), "--accounts"),
        (("seed", "--accounts", "ten"), "--accounts"),
        (("seed", "--accounts", "10", "--batch", "-1"), "--batch"),
        (("load", "run", "steady", "--population", "-5"), "--population"),
        (("load", "run", "steady", "--population", "0"), "--population"),
        (("load", "run", "steady", "--", "--population=-1"), "--population"),
        (("load", "run", "--population", "-5", "steady"), "--population"),
        (("load", "bench", "--steps", "-1"), "--steps"),
        (("load", "bench", "--step-seconds", "0"), "--step-seconds"),
        (("load", "bench", "--ramp-from", "1.5"), "--ramp-from"),
        (("load", "bench", "--small", "-10"), "--small"),
        (("load", "bench", "--burst-seconds", "nan"), "--burst-seconds"),
        (("policy", "matrix", "--opa-url", "ftp://x"), "--opa-url"),
        (("realm", "plan", "--definitions", "/no/such/folder"), "--definitions"),
        (("policy", "matrix", "--definitions", "/no/such/folder"), "--definitions"),
    ],
)
def test_bad_numbers_and_paths_name_the_option(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, argv: tuple[str, ...], option: str
) -> None:
    _nothing_may_start(monkeypatch)
    code, err = run(capsys, *argv)
    assert code == 2 and f"argument {option}" in err, err


def test_matrix_out_to_an_unwritable_place_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n")
    for out in (blocker, blocker / "reports"):
        code, err = run(
            capsys, "policy", "matrix", "--out", str(out), "--definitions", str(loader.DEFINITIONS_DIR)
        )
        assert code == 2 and "argument --out" in err and str(blocker) in err, err
    assert blocker.read_text() == "not a folder\n"


def test_bench_out_and_data_paths_are_checked(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _nothing_may_start(monkeypatch)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    code, err = run(capsys, "load", "bench", "--out", str(tmp_path))
    assert code == 2 and "argument --out" in err and "is a folder" in err
    code, err = run(capsys, "load", "bench", "--data", str(blocker / "data"))
    assert code == 2 and "argument --data" in err


@pytest.mark.parametrize("when", ["2020-01-01", "yesterday", "2026-02-30"])
def test_accounts_create_refuses_a_past_or_bad_valid_until(
    capsys: pytest.CaptureFixture[str], when: str
) -> None:
    if when == "yesterday":
        when = (dt.date.today() - dt.timedelta(days=1)).isoformat()
    code, err = run(
        capsys,
        "accounts", "create", "--tier", "prime", "--username", "x-past", "--email", "x@example.test",
        "--first-name", "A", "--last-name", "B", "--valid-until", when,
    )  # fmt: skip
    assert code == 2 and "argument --valid-until" in err, err


# --- definitions refused before any request ----------------------------------------------------------


@pytest.mark.parametrize("uri", ["http://rp.example/cb", "javascript:alert(1)", "https://rp.example/cb#x"])
def test_realm_plan_refuses_unsafe_redirect_uris_before_any_request(
    capsys: pytest.CaptureFixture[str], definitions_copy: Path, uri: str
) -> None:
    rp_file = definitions_copy / "rps" / "jgrants.yaml"
    edit_yaml(rp_file, {"redirect_uris": [uri]})
    code, err = run(capsys, "realm", "plan", "--definitions", str(definitions_copy))
    assert code == 2 and str(rp_file) in err and "redirect_uris" in err, err


def test_realm_plan_refuses_a_stray_file_in_rps(
    capsys: pytest.CaptureFixture[str], definitions_copy: Path
) -> None:
    (definitions_copy / "rps" / "jgrants.yaml").rename(definitions_copy / "rps" / "jgrants.yml")
    code, err = run(capsys, "realm", "plan", "--definitions", str(definitions_copy))
    assert code == 2 and "jgrants.yml: not an RP definition" in err, err


@pytest.mark.parametrize(
    ("validations", "message"),
    [
        ({"length": {"min": "abc", "max": 255}}, "validations.length: min: 'abc' is not a whole number"),
        ({"length": {"min": 300, "max": 255}}, "validations.length: min 300 is greater than max 255"),
        ({"pattern": {"pattern": "(unclosed"}}, "validations.pattern: pattern: '(unclosed' is not a regular"),
    ],
)
def test_bad_validator_configs_are_refused_by_the_loader(
    capsys: pytest.CaptureFixture[str], definitions_copy: Path, validations: dict[str, Any], message: str
) -> None:
    path = definitions_copy / "user-profile.yaml"
    profile = yaml.safe_load(path.read_text())
    profile["attributes"][0]["validations"] = validations
    path.write_text(yaml.safe_dump(profile, allow_unicode=True))
    code, err = run(capsys, "realm", "plan", "--definitions", str(definitions_copy))
    assert code == 2 and str(path) in err and message in err, err


# --- against the real Keycloak -----------------------------------------------------------------------


@pytest.fixture
def scratch_definitions(platform: Settings, definitions_copy: Path) -> Iterator[tuple[Path, str]]:
    """The shipped definitions under another realm name, applied once; the realm is deleted afterwards."""
    name = f"abuse-{uuid.uuid4().hex[:6]}"
    edit_yaml(definitions_copy / "realm.yaml", {"name": name})
    reconcile.apply_definitions(platform.target(), platform.paths.secrets, definitions_copy)
    try:
        yield definitions_copy, name
    finally:
        api = reconcile.connect(platform.target())
        api.delete(f"/admin/realms/{name}")


def _profile_with(definitions: Path, validator: str, config: dict[str, Any]) -> None:
    path = definitions / "user-profile.yaml"
    profile = yaml.safe_load(path.read_text())
    phone = next(a for a in profile["attributes"] if a["name"] == "phone_number")
    phone["validations"] = {validator: config}
    path.write_text(yaml.safe_dump(profile, allow_unicode=True))


@pytest.mark.platform
def test_apply_with_a_validator_keycloak_lacks_writes_nothing(
    platform: Settings,
    capsys: pytest.CaptureFixture[str],
    scratch_definitions: tuple[Path, str],
    tmp_path: Path,
) -> None:
    good, _ = scratch_definitions
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    edit_yaml(bad / "realm.yaml", {"display_name": "changed before the profile"})
    _profile_with(bad, "no-such-validator", {})
    code, err = run(capsys, "realm", "apply", "--definitions", str(bad))
    assert code == 2, err
    assert f"{bad / 'user-profile.yaml'}: attributes.phone_number.validations.no-such-validator" in err
    assert "nothing was written" in err
    code, out = run(capsys, "realm", "drift", "--definitions", str(good))
    assert code == 0, out


@pytest.mark.platform
def test_apply_that_keycloak_refuses_stops_clearly_and_the_next_apply_converges(
    platform: Settings,
    capsys: pytest.CaptureFixture[str],
    scratch_definitions: tuple[Path, str],
    tmp_path: Path,
) -> None:
    """`(?P<n>...)` is a regular expression to Python, not to Java: only Keycloak can refuse it. The profile
    is written first, so the refusal leaves the other changes (here the display name) unwritten."""
    good, name = scratch_definitions
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    edit_yaml(bad / "realm.yaml", {"display_name": "changed before the profile"})
    _profile_with(bad, "pattern", {"pattern": "^(?P<digits>[0-9]+)$"})
    code, err = run(capsys, "realm", "apply", "--definitions", str(bad))
    assert code == 2, err
    assert "Keycloak refused to update user-profile config (from user-profile.yaml" in err
    assert "attributes.phone_number.validations" in err and "already written before it: nothing" in err
    api = reconcile.connect(platform.target())
    assert api.get(f"/admin/realms/{name}")["displayName"] != "changed before the profile"
    fixed = bad / "user-profile.yaml"
    shutil.copy(good / "user-profile.yaml", fixed)
    code, _ = run(capsys, "realm", "apply", "--definitions", str(bad))
    assert code == 0
    assert api.get(f"/admin/realms/{name}")["displayName"] == "changed before the profile"
    assert reconcile.plan_definitions(platform.target(), bad).empty


@pytest.mark.platform
@pytest.mark.parametrize(
    ("change", "option"),
    [
        ({"--email": "not-an-address"}, "--email"),
        ({"--email": "dup"}, "--email"),
        ({"--password": "short"}, "--password"),
        ({"--password": "password1234"}, "--password"),
        ({"--password": "email"}, "--password"),
        ({"--first-name": " "}, "--first-name"),
        ({"--tier": "member", "--prime": "no-such-prime-account"}, "--prime"),
        ({"--tier": "provisional-prime", "--rp": "no-such-rp"}, "--rp"),
        ({"--corporate-number": "1234567890123"}, "--corporate-number"),
    ],
)
def test_accounts_create_bad_input_is_named_and_nothing_is_created(
    platform: Settings, capsys: pytest.CaptureFixture[str], admin: Any, change: dict[str, str], option: str
) -> None:
    existing = f"exists-{uuid.uuid4().hex[:8]}"
    assert run(
        capsys,
        "accounts", "create", "--tier", "entry", "--username", existing,
        "--email", f"{existing}@example.test", "--first-name", "A", "--last-name", "B",
    )[0] == 0  # fmt: skip
    username = f"bad-{uuid.uuid4().hex[:8]}"
    options = {
        "--tier": "prime",
        "--username": username,
        "--email": f"{username}@example.test",
        "--first-name": "Taro",
        "--last-name": "Yamada",
        "--corporate-number": "5010401089998",
        "--corporate-name": "Bad Input K.K.",
        **change,
    }
    if options["--email"] == "dup":
        options["--email"] = f"{existing}@example.test"
    if options.get("--password") == "email":
        options["--password"] = options["--email"]
    if options["--tier"] != "prime":
        options.pop("--corporate-number")
        options.pop("--corporate-name")
    argv = [item for pair in options.items() for item in pair]
    code, err = run(capsys, "accounts", "create", *argv)
    assert code == 2 and err.startswith("bizid: error: ") and option in err, err
    assert admin.get_users({"username": username, "exact": True}) == []


def test_a_platform_that_is_down_is_named_not_a_traceback(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No platform on these ports, nothing installed in this state folder: a clear error, exit 2."""
    monkeypatch.setenv("BIZID_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("BIZID_PORT_OFFSET", "3900")
    code, err = run(
        capsys, "accounts", "create", "--tier", "entry", "--username", "x-down", "--email", "x@example.test",
        "--first-name", "A", "--last-name", "B",
    )  # fmt: skip
    assert code == 2 and "is missing: the local platform is not installed here yet" in err, err
