"""Read the local platform's mail through Mailpit's REST API (tests, load tests, a developer's checks).

Mailpit is the real mail server of the local platform (scripts/services.py): Keycloak and the notifier
hand it mail over SMTP; this reads what arrived, as a user's mail client would.
"""

from __future__ import annotations

import html
import re
import time
from dataclasses import dataclass
from typing import Any

import requests

from realm.mail_theme import TEXTS

VERIFICATION_SUBJECT = TEXTS["emailVerificationSubject"]
"""Keycloak's verification mail in the bizid e-mail theme (the registration notice from bizid-notify
arrives beside it)."""

LINK = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True)
class Message:
    id: str
    subject: str
    to: tuple[str, ...]
    sender: str
    text: str
    html: str
    headers: dict[str, list[str]]

    def links(self) -> list[str]:
        """Every link in the plain-text and HTML bodies, HTML entities decoded, in order, once each."""
        found = [html.unescape(u) for u in LINK.findall(self.text + "\n" + self.html)]
        return list(dict.fromkeys(found))


class MailboxError(RuntimeError):
    """The expected mail did not arrive, or Mailpit could not be read."""


class Mailbox:
    def __init__(self, api_url: str, session: requests.Session | None = None) -> None:
        self.api_url = api_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.trust_env = False

    def _get(self, path: str, **params: Any) -> Any:
        response = self.session.get(f"{self.api_url}/api/v1/{path}", params=params, timeout=10)
        response.raise_for_status()
        return response.json()

    def search(self, query: str) -> list[dict[str, Any]]:
        """Message summaries matching a Mailpit search (e.g. `to:"a@b.test"`), newest first."""
        return list(self._get("search", query=query, limit=50).get("messages") or [])

    def message(self, message_id: str) -> Message:
        data = self._get(f"message/{message_id}")
        headers = self._get(f"message/{message_id}/headers")
        return Message(
            id=data["ID"],
            subject=data.get("Subject", ""),
            to=tuple(a["Address"] for a in data.get("To") or []),
            sender=(data.get("From") or {}).get("Address", ""),
            text=data.get("Text", ""),
            html=data.get("HTML", ""),
            headers=headers,
        )

    def messages_to(self, address: str) -> list[Message]:
        return [self.message(m["ID"]) for m in self.search(f'to:"{address}"')]

    def wait_for(self, address: str, subject_contains: str = "", timeout: float = 30.0) -> Message:
        """The newest message to `address` whose subject contains the text; waits while mail is on its way.
        The wait is a bound on delivery, not a measurement: it returns as soon as the mail is there."""
        deadline = time.monotonic() + timeout
        while True:
            for summary in self.search(f'to:"{address}"'):
                if subject_contains in summary.get("Subject", ""):
                    return self.message(summary["ID"])
            if time.monotonic() > deadline:
                raise MailboxError(f"no mail to {address!r} with {subject_contains!r} in the subject")
            time.sleep(0.3)
