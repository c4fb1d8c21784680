"""Notification mail from the CLI's own operations (realm/notify.py sends): through the local Mailpit, or a
deployed target's SES (`scripts.operating.Context.notifier`)."""

from __future__ import annotations

import sys
from typing import Any

from realm import loader
from realm.delegation_records import DelegationRecord
from realm.lifecycle import LifecycleEvent, Notify
from realm.notify import Notifier, Recipient
from scripts.settings import Settings


def local_notifier(cfg: Settings) -> Notifier | None:
    """The realm's mail settings with the local platform's Mailpit; None when realm.yaml has no smtp."""
    smtp = loader.load().realm.smtp
    if smtp is None:
        return None
    return Notifier(smtp, cfg.target().smtp_server or smtp.server)


def recipient(admin: Any, username: str) -> Recipient:
    users = admin.get_users({"username": username, "exact": True})
    return Recipient(username, users[0].get("email") if users else None)


def delegation_detail(record: DelegationRecord) -> str:
    """What the delegation is, without personal data beyond the two account names."""
    procedures = ", ".join(record.procedures)
    return (
        f"{record.granted_by} -> {record.delegate_username}, RP {record.rp} ({procedures}), "
        f"{record.not_before:%Y-%m-%d} - {record.not_after:%Y-%m-%d}"
    )


def notify_delegation(notifier: Notifier | None, admin: Any, kind: str, record: DelegationRecord) -> None:
    """Mail the granting Prime and the delegate; a mail that cannot be sent is a warning, never a failure
    (the delegation itself is already written)."""
    if notifier is None:
        return
    people = [recipient(admin, record.granted_by), recipient(admin, record.delegate_username)]
    for missed in notifier.send_all(kind, people, delegation_detail(record)):
        print(
            f"bizid: warning: {kind} notification to {missed.username} not sent (see the log)",
            file=sys.stderr,
        )


LIFECYCLE_KINDS = {"suspend": "account-suspended", "reactivate": "account-reactivated"}
"""Which lifecycle actions the holder is told of by mail (a renewal shows in the account itself)."""


def lifecycle_notifier(notifier: Notifier | None) -> Notify:
    """The `notify` hook of `realm.lifecycle`: mail the holder after the change is written and audited. A mail
    that cannot be sent is a warning, never a failure (the change is already made)."""

    def notify(event: LifecycleEvent) -> None:
        kind = LIFECYCLE_KINDS.get(event.action)
        if notifier is None or kind is None:
            return
        detail = event.reason if kind == "account-suspended" else ""
        if not notifier.send(kind, Recipient(event.username, event.email), detail):
            print(
                f"bizid: warning: {kind} notification to {event.username} not sent (see the log)",
                file=sys.stderr,
            )

    return notify
