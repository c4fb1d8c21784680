"""The realm definitions load, and bad ones fail with the file, the field and the value named."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from realm import loader
from realm.loader import DefinitionError
from realm.models import Tier, corporate_number_check_digit, corporate_number_error
from tests.conftest import edit_yaml


@pytest.mark.parametrize("number", ["7000012050002", "5010401089998"])
def test_published_corporate_numbers_pass_the_check_digit(number: str) -> None:
    assert corporate_number_error(number) is None
    assert corporate_number_check_digit(number[1:]) == int(number[0])


@pytest.mark.parametrize(
    ("number", "fragment"),
    [
        ("1000012050002", "expected 7"),
        ("700001205000", "exactly 13 digits"),
        ("70000120500021", "exactly 13 digits"),
        ("70000120500a2", "exactly 13 digits"),
    ],
)
def test_bad_corporate_numbers_say_what_is_wrong(number: str, fragment: str) -> None:
    error = corporate_number_error(number)
    assert error is not None and fragment in error and number in error


def test_single_digit_typos_are_caught_except_the_mod_9_blind_spot() -> None:
    """A mod-9 check digit catches every single wrong digit except 0<->9, which changes the sum by 9."""
    number = "5010401089998"
    for pos in range(1, 13):
        for digit in "0123456789":
            if digit == number[pos]:
                continue
            typo = number[:pos] + digit + number[pos + 1 :]
            blind_spot = {digit, number[pos]} == {"0", "9"}
            assert (corporate_number_error(typo) is None) == blind_spot, typo


def test_the_shipped_definitions_load() -> None:
    defs = loader.load()
    assert {t.name for t in defs.tiers} == set(Tier)
    jgrants = defs.rp("jgrants")
    assert Tier.ENTRY not in jgrants.accepted_tiers and jgrants.min_acr == "aal2"
    assert Tier.ENTRY in defs.rp("seminar").accepted_tiers


def test_unknown_tier_names_file_field_and_value(definitions_copy: Path) -> None:
    rp_file = definitions_copy / "rps" / "seminar.yaml"
    edit_yaml(rp_file, {"accepted_tiers": ["entry", "platinum"]})
    with pytest.raises(DefinitionError) as err:
        loader.load(definitions_copy)
    message = str(err.value)
    assert str(rp_file) in message and "accepted_tiers.1" in message and "'platinum'" in message


def test_unknown_key_is_an_error_not_ignored(definitions_copy: Path) -> None:
    edit_yaml(definitions_copy / "realm.yaml", {"registration_alowed": True})
    with pytest.raises(DefinitionError, match="registration_alowed"):
        loader.load(definitions_copy)


def test_wildcard_redirect_uri_is_refused(definitions_copy: Path) -> None:
    edit_yaml(definitions_copy / "rps" / "jgrants.yaml", {"redirect_uris": ["https://rp.example/*"]})
    with pytest.raises(DefinitionError, match="wildcard"):
        loader.load(definitions_copy)


def test_rp_registering_an_unknown_scope_is_refused(definitions_copy: Path) -> None:
    edit_yaml(
        definitions_copy / "rps" / "seminar.yaml",
        {"scopes": ["profile", "bank_account"], "optional_scopes": []},
    )
    with pytest.raises(DefinitionError, match="unknown scope 'bank_account'"):
        loader.load(definitions_copy)


def test_invalid_yaml_names_the_file(definitions_copy: Path) -> None:
    (definitions_copy / "tiers.yaml").write_text("- name: [unclosed\n")
    with pytest.raises(DefinitionError, match=r"tiers\.yaml: not valid YAML"):
        loader.load(definitions_copy)


def test_client_id_must_match_file_name(definitions_copy: Path) -> None:
    shutil.copy(definitions_copy / "rps" / "seminar.yaml", definitions_copy / "rps" / "webinar.yaml")
    with pytest.raises(DefinitionError, match=r"webinar\.yaml: client_id: must match the file name"):
        loader.load(definitions_copy)


def test_members_need_a_tier_that_can_issue_them(definitions_copy: Path) -> None:
    path = definitions_copy / "tiers.yaml"
    tiers = yaml.safe_load(path.read_text())
    for tier in tiers:
        tier.pop("can_create_members", None)
    path.write_text(yaml.safe_dump(tiers))
    with pytest.raises(
        DefinitionError, match=r"tiers \['member'\] are issued by a Prime, but no tier can_create"
    ):
        loader.load(definitions_copy)


@pytest.mark.parametrize(
    ("uri", "fragment"),
    [
        ("http://rp.example/callback", "https is required except for loopback"),
        ("http://127.rp.example/callback", "https is required except for loopback"),
        ("javascript:alert(1)", "scheme 'javascript'"),
        ("data:text/html,hi", "scheme 'data'"),
        ("com.example.app:/callback", "scheme 'com.example.app'"),
        ("https://rp.example/callback#frag", "fragment"),
        ("https://rp.example/callback#", "fragment"),
        ("https://user:pw@rp.example/callback", "credentials"),
    ],
)
def test_unsafe_redirect_uri_is_refused(definitions_copy: Path, uri: str, fragment: str) -> None:
    rp_file = definitions_copy / "rps" / "jgrants.yaml"
    edit_yaml(rp_file, {"redirect_uris": ["https://rp.example/ok", uri]})
    with pytest.raises(DefinitionError) as err:
        loader.load(definitions_copy)
    message = str(err.value)
    assert str(rp_file) in message and "redirect_uris" in message and fragment in message


@pytest.mark.parametrize(
    "uri",
    ["https://rp.example/cb?x=1", "http://127.0.0.1:18900/cb", "http://localhost/cb", "http://[::1]:8/cb"],
)
def test_https_and_loopback_redirect_uris_are_accepted(definitions_copy: Path, uri: str) -> None:
    edit_yaml(definitions_copy / "rps" / "jgrants.yaml", {"redirect_uris": [uri]})
    assert str(loader.load(definitions_copy).rp("jgrants").redirect_uris[0]).startswith(uri.split("?")[0])


def test_rp_file_with_another_extension_is_an_error(definitions_copy: Path) -> None:
    (definitions_copy / "rps" / "jgrants.yaml").rename(definitions_copy / "rps" / "jgrants.yml")
    with pytest.raises(DefinitionError, match=r"rps/jgrants\.yml: not an RP definition"):
        loader.load(definitions_copy)


def test_hidden_files_in_rps_are_ignored(definitions_copy: Path) -> None:
    (definitions_copy / "rps" / ".gitkeep").write_text("")
    assert loader.load(definitions_copy).rp("jgrants")


@pytest.mark.parametrize("name", ["rps/seminar.yaml", "realm.yaml", "user-profile.yaml"])
def test_non_utf8_file_names_the_file(definitions_copy: Path, name: str) -> None:
    from realm import build

    path = definitions_copy / name
    path.write_bytes(path.read_bytes().replace(b"name:", "name: \u00e9".encode("latin-1") + b"\n_x:", 1))
    with pytest.raises(DefinitionError, match=rf"{path}: not UTF-8"):
        build.load(definitions_copy)
