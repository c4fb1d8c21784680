"""The bizid e-mail theme (realm/mail_theme.py): generated files in sync, realm settings from the definitions.

The theme says Keycloak's own mails in Japanese first, then English; the mail itself is checked through
the real Mailpit in tests/test_registration_mail_e2e.py.
"""

from __future__ import annotations

import json
import re

import pytest
from pydantic import ValidationError

from realm import build, mail_theme
from realm.models import Localisation
from realm.platform import EXTENSION_DIR


def test_theme_files_are_generated_from_the_texts() -> None:
    for path, content in mail_theme.theme_files().items():
        assert path.read_text() == content, f"{path} is stale: run python -m realm.mail_theme"


def test_the_theme_is_declared_in_the_extension_jar() -> None:
    declared = json.loads((EXTENSION_DIR / "src/main/resources/META-INF/keycloak-themes.json").read_text())
    assert {"name": mail_theme.THEME, "types": ["email"]} in declared["themes"]


@pytest.mark.parametrize(
    "key", ["emailVerificationBody", "passwordResetBody", "executeActionsBody", "emailVerificationBodyHtml"]
)
def test_every_mail_is_japanese_first_then_english(key: str) -> None:
    text = mail_theme.TEXTS[key]
    first_japanese = re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", text)
    first_english = re.search(r"\b(Someone|The operations centre)\b", text)
    assert first_japanese and first_english and first_japanese.start() < first_english.start(), text
    # Both halves carry the link and its lifetime.
    assert text.count("{0}") == 2 and text.count("{1}") == 2, text


def test_properties_escape_quotes_and_non_ascii() -> None:
    line = next(ln for ln in mail_theme.properties().splitlines() if ln.startswith("emailVerificationBody="))
    assert line.isascii() and "\\u30e1" in line and "\\n" in line
    assert mail_theme._escape("didn't") == "didn''t"


def test_the_realm_uses_the_theme_and_both_languages() -> None:
    defs, profile = build.load()
    realm = build.desired(defs, profile, build.Options(opa_url="http://127.0.0.1:18181")).realm
    assert realm["emailTheme"] == "bizid"
    assert realm["internationalizationEnabled"] is True
    assert realm["supportedLocales"] == ["ja", "en"]
    # Without the extension jar there is no bizid theme: Keycloak keeps its own.
    assert (
        "emailTheme"
        not in build.desired(
            defs, profile, build.Options(opa_url="http://127.0.0.1:18181", extension=False)
        ).realm
    )


def test_the_default_locale_must_be_supported() -> None:
    with pytest.raises(ValidationError, match="default_locale 'fr' is not in locales"):
        Localisation(locales=("ja", "en"), default_locale="fr")
    with pytest.raises(ValidationError, match="named twice"):
        Localisation(locales=("ja", "ja"), default_locale="ja")
