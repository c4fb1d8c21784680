"""`bizid accounts show|list|suspend|reactivate|renew`: the command line of `realm.lifecycle`.

The operator is `--operator` (default: $BIZID_OPERATOR); the changing commands record it with their
`--reason` in the operator audit trail, `.bizid/audit/operator.jsonl` (`realm.operator_audit`); with
`--target NAME` (scripts/operating.py) a deployed target, as its operator account, its trail in S3.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
from pathlib import Path

from realm import lifecycle
from realm.lifecycle import AccountView, Actor, LifecycleEvent, ListFilter
from realm.models import Tier
from realm.operator_audit import OperatorAuditTrail
from scripts import operating, settings
from scripts.notifications import lifecycle_notifier
from scripts.operating import Context

OPERATOR_ENV = "BIZID_OPERATOR"


def trail_path(cfg: settings.Settings) -> Path:
    return cfg.paths.state / "audit" / "operator.jsonl"


def trail(cfg: settings.Settings) -> OperatorAuditTrail:
    return OperatorAuditTrail(trail_path(cfg))


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _actor(args: argparse.Namespace) -> Actor:
    operator = args.operator or os.environ.get(OPERATOR_ENV, "")
    if not operator:
        raise lifecycle.LifecycleError(f"--operator: name the operator (or set ${OPERATOR_ENV})")
    return Actor(operator=operator, reason=args.reason)


def _print_account(a: AccountView) -> None:
    today = lifecycle.today_jst()
    rows = [
        ("username", a.username),
        ("id", a.id),
        ("tier", a.tier),
        ("status", a.effective_status(today) + ("" if a.enabled else " (disabled in Keycloak)")),
        ("valid until", a.valid_until),
        ("e-mail", a.email),
        ("corporate number", a.corporate_number),
        ("company", a.corporate_name),
        ("issued by (Prime)", a.prime_username),
        ("branch", a.branch),
        ("created", a.created),
    ]
    for label, value in rows:
        if value is not None:
            print(f"{label + ':':19} {value}")


def _print_event(event: LifecycleEvent) -> None:
    changes = ", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in event.changes.items())
    print(f"{event.action}: {event.username} ({event.tier}): {changes}")
    if event.action == "suspend":
        print(f"  sessions ended: {event.sessions_ended}")
    if event.approved_by:
        print(f"  approved by: {event.approved_by}")
    print(f"  recorded in the operator audit trail by {event.operator} at {event.time}")


def _show_cmd(args: argparse.Namespace, ctx: Context) -> int:
    _print_account(lifecycle.show(ctx.admin(), args.username))
    return 0


def _list_cmd(args: argparse.Namespace, ctx: Context) -> int:
    filters = ListFilter(
        tier=args.tier,
        corporate_number=args.company,
        status=args.status,
        expiring_before=args.expiring_before,
    )
    filters.validate()
    today = lifecycle.today_jst()
    found = lifecycle.list_accounts(ctx.admin(), filters)
    for a in found:
        print(
            f"{a.username:40} {a.tier or '-':18} {a.effective_status(today):10} "
            f"{a.valid_until or '-':11} {a.corporate_number or '-'}"
        )
    print(f"{len(found)} account(s)")
    return 0


def _suspend_cmd(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    _print_event(
        lifecycle.suspend(
            ctx.admin(), args.username, actor, ctx.trail(), notify=lifecycle_notifier(ctx.notifier())
        )
    )
    return 0


def _reactivate_cmd(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    _print_event(
        lifecycle.reactivate(
            ctx.admin(), args.username, actor, ctx.trail(), notify=lifecycle_notifier(ctx.notifier())
        )
    )
    return 0


def _renew_cmd(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    event = lifecycle.renew(
        ctx.admin(), ctx.definitions(), args.username, actor, ctx.trail(), approved_by=args.approved_by
    )
    _print_event(event)
    return 0


def _changing(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--username", required=True)
    parser.add_argument(
        "--reason",
        required=True,
        help="why (recorded in the operator audit trail; a suspension's is mailed to the holder)",
    )
    parser.add_argument("--operator", help=f"who runs the command (default: ${OPERATOR_ENV})")


def register(acc_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the lifecycle commands under `bizid accounts`."""
    show_p = acc_sub.add_parser("show", help="show one account")
    show_p.add_argument("--username", required=True)
    operating.register(show_p, _show_cmd)

    list_p = acc_sub.add_parser("list", help="list accounts by tier, company, status, validity")
    list_p.add_argument("--tier", choices=[t.value for t in Tier])
    list_p.add_argument("--company", help="corporate number (13 digits)")
    list_p.add_argument("--status", choices=list(lifecycle.STATUSES))
    list_p.add_argument("--expiring-before", type=_date, help="valid_until before this day (YYYY-MM-DD)")
    operating.register(list_p, _list_cmd)

    suspend_p = acc_sub.add_parser("suspend", help="suspend an account and end its sessions")
    _changing(suspend_p)
    operating.register(suspend_p, _suspend_cmd)

    reactivate_p = acc_sub.add_parser("reactivate", help="lift a suspension (not for an expired account)")
    _changing(reactivate_p)
    operating.register(reactivate_p, _reactivate_cmd)

    renew_p = acc_sub.add_parser("renew", help="extend an account's validity by its tier's period")
    _changing(renew_p)
    renew_p.add_argument("--approved-by", help="a Member's renewal: the username of its approving Prime")
    operating.register(renew_p, _renew_cmd)
