"""`bizid accounts change-representative --old PRIME --new PRIME`: hand a company over to its new Prime
(`realm.representative_change`), audited and notified (`representative-changed` mail)."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from realm import representative_change
from realm.lifecycle import LifecycleEvent
from realm.notify import Notifier
from scripts import operating
from scripts.cli_lifecycle import OPERATOR_ENV, _actor
from scripts.notifications import recipient
from scripts.operating import Context

KIND = "representative-changed"


def notify(notifier: Notifier | None, admin: Any, event: LifecycleEvent) -> None:
    """Mail both Primes and the Members; a mail not sent is a warning (the change is already made)."""
    if notifier is None:
        return
    people = [recipient(admin, name) for name in representative_change.affected(admin, event)]
    for missed in notifier.send_all(KIND, people, representative_change.detail(event)):
        print(
            f"bizid: warning: {KIND} notification to {missed.username} not sent (see the log)",
            file=sys.stderr,
        )


def _change(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    admin = ctx.admin()
    notifier = ctx.notifier()
    event = representative_change.change_representative(
        admin, args.old, args.new, actor, ctx.trail(), notify=lambda e: notify(notifier, admin, e)
    )
    members = event.changes["members_handed_over"][1]
    delegations = event.changes["delegations_handed_over"][1]
    print(f"representative changed: {event.username} -> {event.approved_by}")
    print(f"  Members handed over: {members}; delegates whose delegations were handed over: {delegations}")
    print(f"  {event.username} retired (suspended; sessions ended: {event.sessions_ended})")
    print(f"  recorded in the operator audit trail by {event.operator} at {event.time}")
    return 0


def register(acc_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = acc_sub.add_parser(
        "change-representative",
        help="hand a company's Members and delegations to its new Prime and retire the old one",
    )
    p.add_argument("--old", required=True, help="the retiring Prime")
    p.add_argument("--new", required=True, help="the new representative's Prime (same company, active)")
    p.add_argument("--reason", required=True, help="recorded in the operator audit trail")
    p.add_argument("--operator", help=f"who runs the command (default: ${OPERATOR_ENV})")
    operating.register(p, _change)
