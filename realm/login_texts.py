"""bizid's own texts on Keycloak's pages, Japanese first, then English (one source for both).

Like the platform's mails (realm/mail_theme.py, realm/notify.py), a page bizid itself writes says its
text in Japanese, then in English, whatever the user's locale, so a user who never chose a language still
reads it. The texts are generated into a resource of the extension jar
(realm/extensions/src/main/resources/org/bizid/keycloak/messages.properties, read by
org.bizid.keycloak.Texts); tests/test_login_texts.py fails when that file is stale.
Run `python -m realm.login_texts` after editing TEXTS.
"""

from __future__ import annotations

from realm.platform import EXTENSION_DIR

RESOURCE = EXTENSION_DIR / "src" / "main" / "resources" / "org" / "bizid" / "keycloak" / "messages.properties"

SEP = " / "
"""Between the Japanese and the English text of a page message (as in the mail subjects)."""


def both(ja: str, en: str) -> str:
    return ja + SEP + en


TEXTS: dict[str, tuple[str, str]] = {
    # WaitingBruteForceProtector: the 429 page of a sign-in that did not get its turn (docs/realm.md).
    "signInInProgress": (
        "このアカウントの別のサインインが処理中です。しばらく待ってから、もう一度サインインしてください。",
        "Another sign-in to this account is in progress. Please wait a moment and sign in again.",
    ),
}


def text(key: str) -> str:
    """The bilingual text of `key`, as the page shows it."""
    ja, en = TEXTS[key]
    return both(ja, en)


def _escape(value: str) -> str:
    """java.util.Properties escaping: backslash, line breaks, and everything outside ASCII as \\uXXXX
    (so the file reads the same whatever charset the reader assumes)."""
    value = value.replace("\\", "\\\\").replace("\n", "\\n")
    return "".join(c if ord(c) < 128 else f"\\u{ord(c):04x}" for c in value)


def properties() -> str:
    header = (
        "# bizid's own page texts, Japanese then English (read by org.bizid.keycloak.Texts).\n"
        "# Generated from realm/login_texts.py (TEXTS): edit there, then `python -m realm.login_texts`.\n"
    )
    return header + "".join(f"{key}={_escape(text(key))}\n" for key in TEXTS)


if __name__ == "__main__":
    RESOURCE.parent.mkdir(parents=True, exist_ok=True)
    RESOURCE.write_text(properties())
    print(RESOURCE)
