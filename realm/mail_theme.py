# ruff: noqa: E501  (the mail texts below are one string per paragraph set; wrapping them would only hide them)
"""The realm's languages and the e-mail theme of Keycloak's own mails, from the definitions.

Keycloak sends the verification mail of a self-registration, the password-reset mail and the
execute-actions mail (an operator's "update your account") from its e-mail theme. The `bizid` theme is
packaged in the extension jar (realm/extensions/src/main/resources/theme/bizid/email) and says each of
them in Japanese first, then in English, whatever the user's locale - like the platform's own
notifications (realm/notify.py) - so a user who never chose a language still reads it. The theme exists
only where the extension is deployed: without it the realm keeps Keycloak's default theme.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from realm.models import Localisation
from realm.platform import EXTENSION_DIR

THEME = "bizid"
"""The theme name in META-INF/keycloak-themes.json of the extension jar."""

THEME_DIR = EXTENSION_DIR / "src" / "main" / "resources" / "theme" / THEME / "email"
LOCALES = ("ja", "en")
"""Both locale files hold the same bilingual texts: the mail reads the same whatever the user chose."""

SEP = "\n\n----------------------------------------\n\n"


def _both(ja: str, en: str, html: bool = False) -> str:
    return ja + ("<hr>" if html else SEP) + en


# Keycloak's message keys of its e-mail theme (theme/base/email/messages); {0} the link, {1} the link's
# lifetime in minutes, {2} the realm's display name, {3} the required actions (execute actions only).
TEXTS: dict[str, str] = {}


def realm_settings(localisation: Localisation, extension: bool) -> dict[str, Any]:
    """The realm representation's internationalisation fields and, with the extension, `emailTheme`."""
    settings: dict[str, Any] = {
        "internationalizationEnabled": True,
        "supportedLocales": list(localisation.locales),
        "defaultLocale": localisation.default_locale,
    }
    if extension and localisation.email_theme is not None:
        settings["emailTheme"] = localisation.email_theme
    return settings


TEXTS["emailVerificationSubject"] = "メールアドレスの確認 / Verify your e-mail address"
TEXTS["emailVerificationBody"] = _both(
    "{2} のアカウントがこのメールアドレスで登録されました。ご本人による登録であれば、次のリンクを開いてメールアドレスを確認してください。\n\n{0}\n\nこのリンクの有効期限は {1} 分です。\n\nお心当たりがない場合は、このメールを無視してください。アカウントは有効になりません。",
    "Someone has registered a {2} account with this e-mail address. If this was you, open the link below to verify your e-mail address.\n\n{0}\n\nThis link expires within {1} minutes.\n\nIf you did not register, just ignore this message: the account stays inactive.",
)
TEXTS["emailVerificationBodyHtml"] = _both(
    '<p>{2} のアカウントがこのメールアドレスで登録されました。ご本人による登録であれば、次のリンクを開いてメールアドレスを確認してください。</p><p><a href="{0}">メールアドレスを確認する</a></p><p>このリンクの有効期限は {1} 分です。</p><p>お心当たりがない場合は、このメールを無視してください。アカウントは有効になりません。</p>',
    '<p>Someone has registered a {2} account with this e-mail address. If this was you, open the link below to verify your e-mail address.</p><p><a href="{0}">Verify the e-mail address</a></p><p>This link expires within {1} minutes.</p><p>If you did not register, just ignore this message: the account stays inactive.</p>',
    html=True,
)
TEXTS["emailVerificationBodyCode"] = _both(
    "次のコードを入力して、メールアドレスを確認してください。\n\n{0}",
    "Please verify your e-mail address by entering the following code.\n\n{0}",
)
TEXTS["emailVerificationBodyCodeHtml"] = _both(
    "<p>次のコードを入力して、メールアドレスを確認してください。</p><p><b>{0}</b></p>",
    "<p>Please verify your e-mail address by entering the following code.</p><p><b>{0}</b></p>",
    html=True,
)

TEXTS["passwordResetSubject"] = "パスワードの再設定 / Reset your password"
TEXTS["passwordResetBody"] = _both(
    "{2} のアカウントのパスワード再設定が依頼されました。ご本人による依頼であれば、次のリンクを開いて再設定してください。\n\n{0}\n\nこのリンクの有効期限は {1} 分です。\n\nお心当たりがない場合は、このメールを無視してください。パスワードは変更されません。",
    "Someone has asked to reset the password of your {2} account. If this was you, open the link below to reset it.\n\n{0}\n\nThis link expires within {1} minutes.\n\nIf you did not ask for this, just ignore this message: nothing will be changed.",
)
TEXTS["passwordResetBodyHtml"] = _both(
    '<p>{2} のアカウントのパスワード再設定が依頼されました。ご本人による依頼であれば、次のリンクを開いて再設定してください。</p><p><a href="{0}">パスワードを再設定する</a></p><p>このリンクの有効期限は {1} 分です。</p><p>お心当たりがない場合は、このメールを無視してください。パスワードは変更されません。</p>',
    '<p>Someone has asked to reset the password of your {2} account. If this was you, open the link below to reset it.</p><p><a href="{0}">Reset the password</a></p><p>This link expires within {1} minutes.</p><p>If you did not ask for this, just ignore this message: nothing will be changed.</p>',
    html=True,
)

TEXTS["executeActionsSubject"] = "アカウント情報の更新のお願い / Update your account"
TEXTS["executeActionsBody"] = _both(
    "運用センターから、{2} のアカウントについて次の操作をお願いしています: {3}\n\n次のリンクを開いて手続きを始めてください。\n\n{0}\n\nこのリンクの有効期限は {1} 分です。\n\nお心当たりがない場合は、このメールを無視し、ヘルプデスクにご連絡ください。",
    "The operations centre asks you to update your {2} account by performing the following action(s): {3}\n\nOpen the link below to start.\n\n{0}\n\nThis link expires within {1} minutes.\n\nIf you did not expect this, ignore this message and contact the help desk.",
)
TEXTS["executeActionsBodyHtml"] = _both(
    '<p>運用センターから、{2} のアカウントについて次の操作をお願いしています: {3}</p><p><a href="{0}">手続きを始める</a></p><p>このリンクの有効期限は {1} 分です。</p><p>お心当たりがない場合は、このメールを無視し、ヘルプデスクにご連絡ください。</p>',
    '<p>The operations centre asks you to update your {2} account by performing the following action(s): {3}</p><p><a href="{0}">Start</a></p><p>This link expires within {1} minutes.</p><p>If you did not expect this, ignore this message and contact the help desk.</p>',
    html=True,
)

TEXTS["emailTestSubject"] = "[KEYCLOAK] SMTP テストメッセージ / SMTP test message"
TEXTS["emailTestBody"] = _both("{0} からのテストメッセージです。", "This is a test message from {0}.")
TEXTS["emailTestBodyHtml"] = _both(
    "<p>{0} からのテストメッセージです。</p>", "<p>This is a test message from {0}.</p>", html=True
)


def _escape(value: str) -> str:
    """MessageFormat doubles a single quote; a properties file writes newlines as \\n and, so that no
    reader's charset matters, everything outside ASCII as \\uXXXX."""
    value = value.replace("'", "''").replace("\\", "\\\\").replace("\n", "\\n")
    return "".join(c if ord(c) < 128 else f"\\u{ord(c):04x}" for c in value)


def properties() -> str:
    """The content of messages_<locale>.properties of the theme."""
    header = (
        "# bizid e-mail theme: Keycloak's own mails in Japanese, then English, for every locale.\n"
        "# Generated from realm/mail_theme.py (TEXTS): edit there, then `python -m realm.mail_theme`.\n"
    )
    return header + "".join(f"{key}={_escape(value)}\n" for key, value in TEXTS.items())


def theme_files() -> dict[Path, str]:
    """Every generated file of the theme and its content."""
    files = {THEME_DIR / "messages" / f"messages_{locale}.properties": properties() for locale in LOCALES}
    files[THEME_DIR / "theme.properties"] = f"parent=base\nlocales={','.join(LOCALES)}\n"
    return files


if __name__ == "__main__":
    for path, content in theme_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content)
        print(path)
