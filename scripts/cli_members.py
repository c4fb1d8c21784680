"""`bizid members permit|revoke|show`: a Member's permissions, set on its Prime's request
(`realm.member_permissions`); recorded in the operator audit trail like the lifecycle commands."""

from __future__ import annotations

import argparse

from realm import member_permissions
from realm.lifecycle import LifecycleEvent
from realm.member_permissions import PermissionRequest
from scripts import operating
from scripts.cli_lifecycle import OPERATOR_ENV, _actor
from scripts.operating import Context

DEFAULT_REASON = "requested by the Member's Prime"


def _request(args: argparse.Namespace) -> PermissionRequest:
    return PermissionRequest(
        prime=args.prime, member=args.member, rp=args.rp, procedures=tuple(args.procedure or ())
    )


def _print_event(event: LifecycleEvent) -> None:
    before, after = event.changes[member_permissions.ATTRIBUTE]
    print(f"{event.action}: {event.username}: {before} -> {after}")
    print(f"  requested by the Prime: {event.approved_by}")
    print(f"  recorded in the operator audit trail by {event.operator} at {event.time}")


def _change(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    request = _request(args)
    defs = ctx.definitions()
    request.wanted(defs)
    change = member_permissions.permit if args.action == "permit" else member_permissions.revoke
    _print_event(change(ctx.admin(), defs, request, actor, ctx.trail()))
    return 0


def _show(args: argparse.Namespace, ctx: Context) -> int:
    found = member_permissions.show(ctx.admin(), args.prime, args.member)
    for entry in found:
        rp, _, procedure = entry.partition("/")
        print(f"{rp:20} {procedure or '(every procedure)'}")
    print(f"{len(found)} permission(s)" + ("" if found else ": the Member may use no RP"))
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    members = sub.add_parser("members", help="a Member's permissions (RPs and procedures), set by its Prime")
    members_sub = members.add_subparsers(dest="members_command", required=True)
    for action, text in (
        ("permit", "let the Member use an RP (or some of its procedures) for the company"),
        ("revoke", "withdraw an RP (or some of its procedures) from the Member"),
    ):
        p = members_sub.add_parser(action, help=text)
        p.add_argument("--prime", required=True, help="the Member's own Prime, who asks for the change")
        p.add_argument("--member", required=True)
        p.add_argument("--rp", required=True, help="RP client id")
        p.add_argument("--procedure", action="append", help="one procedure at the RP (repeatable)")
        p.add_argument("--reason", default=DEFAULT_REASON, help="recorded in the operator audit trail")
        p.add_argument("--operator", help=f"who runs the command (default: ${OPERATOR_ENV})")
        operating.register(p, _change, action=action)
    show_p = members_sub.add_parser("show", help="the Member's permissions")
    show_p.add_argument("--prime", required=True)
    show_p.add_argument("--member", required=True)
    operating.register(show_p, _show)
