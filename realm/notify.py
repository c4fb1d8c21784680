"""Notification mail at account events sent by the platform's own commands (delegation granted, revoked
or about to expire, suspension, reactivation, validity about to end, representative changed).

The texts are the Keycloak extension's (`bizid-notify/messages.properties`, one source for both): the
events Keycloak sees itself (registration, password, second factor) are mailed by its `bizid-notify`
event listener; this sends the others the same way, through the realm's SMTP server. A send never fails
the operation that caused it: it is logged (the address masked, nothing else personal) and reported.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from functools import cache
from pathlib import Path

from realm.models import SmtpServer, SmtpSettings
from realm.platform import EXTENSION_DIR
from realm.smtp import SmtpCredentials

MESSAGES = EXTENSION_DIR / "src" / "main" / "resources" / "bizid-notify" / "messages.properties"
KINDS = (
    "registration",
    "second-factor-added",
    "second-factor-removed",
    "password-changed",
    "account-suspended",
    "account-reactivated",
    "delegation-granted",
    "delegation-revoked",
    "delegation-expiring",
    "validity-expiring",
    "representative-changed",
    "enrolment-code",
)
JST = dt.timezone(dt.timedelta(hours=9), "JST")
LOG = logging.getLogger("bizid.notify")


class NotifyError(ValueError):
    """An unknown notification kind or a broken messages file."""


def _unescape(value: str) -> str:
    """java.util.Properties escapes: \\n, \\t, \\uXXXX, and a backslash before any other character."""
    return re.sub(
        r"\\(u[0-9a-fA-F]{4}|.)",
        lambda m: (
            chr(int(m.group(1)[1:], 16))
            if m.group(1).startswith("u") and len(m.group(1)) == 5
            else {"n": "\n", "t": "\t", "r": "\r"}.get(m.group(1), m.group(1))
        ),
        value,
    )


@cache
def messages(path: Path = MESSAGES) -> dict[str, str]:
    """The notification texts, read as Java reads them (UTF-8 .properties; no line continuations used)."""
    texts: dict[str, str] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#!":
            continue
        key, sep, value = stripped.partition("=")
        if not sep or (stripped.endswith("\\") and not stripped.endswith("\\\\")):
            raise NotifyError(f"{path}:{number}: not a key=value line")
        texts[key.strip()] = _unescape(value.strip())
    return texts


def _fill(template: str, values: dict[str, str]) -> str:
    """Each {name} replaced once; a value is never re-scanned (as Notices.fill in Java)."""
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str


def compose(kind: str, username: str, when: dt.datetime, detail: str = "") -> Mail:
    texts = messages()
    names = [f"{part}.{lang}" for part in ("subject", "body") for lang in ("ja", "en")]
    parts = {name: texts.get(f"{kind}.{name}") for name in names}
    if kind not in KINDS or None in parts.values():
        raise NotifyError(f"no notification text for {kind!r} in {MESSAGES}; kinds: {list(KINDS)}")
    time = when.astimezone(JST).strftime("%Y-%m-%d %H:%M JST")
    values = {"username": username, "time": time, "detail": detail}
    filled = {key.replace(".", "_"): _fill(str(text), values) for key, text in parts.items()}
    composed = {**filled, "username": username, "time": time}
    return Mail(_fill(texts["mail.subject"], composed), _fill(texts["mail.body"], composed))


def mask(address: str) -> str:
    """h***@example.jp: tells mails apart in a log without naming the person (as Notices.mask)."""
    local, at, domain = address.rpartition("@")
    return f"{local[0]}***@{domain}" if at and local else "***"


@dataclass(frozen=True)
class Recipient:
    username: str
    email: str | None


@dataclass(frozen=True)
class Notifier:
    """Sends through the realm's SMTP server (the local Mailpit, or SES with its login)."""

    settings: SmtpSettings
    server: SmtpServer
    credentials: SmtpCredentials | None = None
    timeout: float = 10.0

    def _message(self, mail: Mail, to: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = formataddr((self.settings.from_display_name, self.settings.from_address))
        message["To"] = to
        message["Subject"] = mail.subject
        message["Message-ID"] = make_msgid(domain=self.settings.from_address.rpartition("@")[2])
        if self.settings.reply_to:
            message["Reply-To"] = self.settings.reply_to
        message.set_content(mail.text, charset="utf-8")
        return message

    def _connect(self) -> smtplib.SMTP:
        if self.server.ssl:
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(self.server.host, self.server.port, timeout=self.timeout, context=context)
        return smtplib.SMTP(self.server.host, self.server.port, timeout=self.timeout)

    def _deliver(self, message: EmailMessage) -> None:
        with self._connect() as client:
            if self.server.starttls:
                client.starttls(context=ssl.create_default_context())
            if self.credentials is not None:
                client.login(self.credentials.username, self.credentials.password)
            client.send_message(message, from_addr=self.settings.envelope_from or self.settings.from_address)

    def send(self, kind: str, to: Recipient, detail: str = "", when: dt.datetime | None = None) -> bool:
        """Mail one notification; False (and a logged warning) when it could not be sent."""
        mail = compose(kind, to.username, when or dt.datetime.now(dt.UTC), detail)
        if not to.email:
            LOG.info("bizid-notify skipped kind=%s: the account has no address", kind)
            return False
        try:
            self._deliver(self._message(mail, to.email))
        except (OSError, smtplib.SMTPException) as exc:
            LOG.warning("bizid-notify failed kind=%s to=%s: %s", kind, mask(to.email), type(exc).__name__)
            return False
        LOG.info("bizid-notify sent kind=%s to=%s", kind, mask(to.email))
        return True

    def send_all(self, kind: str, recipients: Iterable[Recipient], detail: str = "") -> list[Recipient]:
        """Mail each recipient; returns those it could not reach."""
        return [r for r in recipients if not self.send(kind, r, detail)]
