"""bizid's own page texts: one source (realm/login_texts.py), Japanese first, then English.

The jar resource the Java reads (org.bizid.keycloak.Texts) is generated from the texts and must be current;
the Java names only keys that exist. The page itself is checked through the real Keycloak in
tests/test_concurrent_signin.py (the 429 "another sign-in in progress" page).
"""

from __future__ import annotations

import re

import pytest

from realm import login_texts
from realm.platform import EXTENSION_DIR

JAVA = EXTENSION_DIR / "src" / "main" / "java"


def test_the_jar_resource_is_generated_from_the_texts() -> None:
    assert login_texts.RESOURCE.read_text() == login_texts.properties(), (
        f"{login_texts.RESOURCE} is stale: run python -m realm.login_texts"
    )


@pytest.mark.parametrize("key", sorted(login_texts.TEXTS))
def test_every_text_is_japanese_first_then_english(key: str) -> None:
    ja, en = login_texts.TEXTS[key]
    assert re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", ja), f"{key}: no Japanese"
    assert en.isascii() and en.strip(), f"{key}: the English part is not plain English"
    assert login_texts.text(key) == f"{ja} / {en}"


def test_the_java_names_only_keys_that_exist() -> None:
    used = {
        key
        for path in JAVA.rglob("*.java")
        for key in re.findall(r'Texts\.text\("([^"]+)"\)', path.read_text())
    }
    assert "signInInProgress" in used
    assert used <= set(login_texts.TEXTS), used - set(login_texts.TEXTS)


def test_properties_escape_non_ascii_and_line_breaks() -> None:
    assert login_texts._escape("委任\nx\\y") == "\\u59d4\\u4efb\\nx\\\\y"
