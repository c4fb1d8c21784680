"""`bizid delegation grant|revoke|list` and `bizid licence record|revoke|list`: the command line of
`realm.delegation`, on the local platform or a deployed `--target` (scripts/operating.py)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
from collections.abc import Callable, Sequence

from realm.delegation import (
    JST,
    DelegationError,
    GrantSpec,
    end_of_day,
    grant,
    list_delegations,
    list_licences,
    now_utc,
    record_licence,
    revoke,
    revoke_licence,
    rfc3339,
    start_of_day,
)
from scripts import notifications, operating
from scripts.operating import Context


def _moment(at_end: bool) -> Callable[[str], dt.datetime]:
    """argparse type: a date (JST day; start or end of it) or an ISO date-time (no offset: JST)."""

    def parse_moment(value: str) -> dt.datetime:
        try:
            if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
                day = dt.date.fromisoformat(value)
                return end_of_day(day) if at_end else start_of_day(day)
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{value!r} is not a date (YYYY-MM-DD) or date-time (YYYY-MM-DDTHH:MM[:SS][+09:00])"
            ) from None
        return moment if moment.tzinfo is not None else moment.replace(tzinfo=JST)

    return parse_moment


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _print_warnings(warnings: Sequence[str]) -> None:
    for warning in warnings:
        print(f"bizid: warning: {warning}", file=sys.stderr)


def _grant_cmd(args: argparse.Namespace, ctx: Context) -> int:
    spec = GrantSpec(
        principal=args.principal,
        delegate=args.delegate,
        rp=args.rp,
        procedures=tuple(args.procedure),
        not_before=args.not_before,
        not_after=args.not_after,
    )
    admin = ctx.admin()
    granted = grant(spec, ctx.definitions(), admin)
    _print_warnings(granted.warnings)
    notifications.notify_delegation(ctx.notifier(), admin, "delegation-granted", granted.record)
    print(granted.record.id)
    return 0


def _revoke_cmd(args: argparse.Namespace, ctx: Context) -> int:
    admin = ctx.admin()
    record = revoke(admin, args.id, args.delegate)
    notifications.notify_delegation(ctx.notifier(), admin, "delegation-revoked", record)
    print(
        f"revoked delegation {record.id} ({record.granted_by} -> {record.delegate_username} at {record.rp})"
    )
    return 0


def _list_cmd(args: argparse.Namespace, ctx: Context) -> int:
    if args.search and not args.principal:
        raise DelegationError("--search: only with --principal")
    listing = list_delegations(
        ctx.admin(), principal=args.principal, delegate=args.delegate, search=args.search
    )
    _print_warnings([c.describe() for c in listing.corrupt])
    if args.json:
        print(json.dumps([r.model_dump(mode="json") for r in listing.records], ensure_ascii=False, indent=2))
        return 0
    now = now_utc()
    rows = [
        ["id", "principal", "granted by", "delegate", "rp", "procedures", "not before", "not after", "state"]
    ]
    rows += [
        [
            r.id,
            r.principal_corporate_number,
            r.granted_by,
            r.delegate_username,
            r.rp,
            ",".join(r.procedures),
            rfc3339(r.not_before),
            rfc3339(r.not_after),
            r.state(now),
        ]
        for r in sorted(listing.records, key=lambda r: (r.not_before, r.id))
    ]
    print(_table(rows) if listing.records else "no delegations")
    return 0


def _licence_record_cmd(args: argparse.Namespace, ctx: Context) -> int:
    record = record_licence(
        ctx.definitions(), ctx.admin(), args.holder, args.kind, args.number, args.not_after
    )
    until = rfc3339(record.not_after) if record.not_after else "no expiry on record"
    print(f"recorded {record.kind} licence {record.number} for {record.holder_username} ({until})")
    return 0


def _licence_revoke_cmd(args: argparse.Namespace, ctx: Context) -> int:
    record = revoke_licence(ctx.definitions(), ctx.admin(), args.holder, args.kind, args.number)
    print(f"revoked {record.kind} licence {record.number} of {record.holder_username}")
    return 0


def _licence_list_cmd(args: argparse.Namespace, ctx: Context) -> int:
    parsed = list_licences(ctx.admin(), args.holder)
    _print_warnings([c.describe() for c in parsed.corrupt])
    now = now_utc()
    rows = [["kind", "number", "holder", "not after", "state"]]
    rows += [
        [
            r.kind,
            r.number,
            r.holder_username,
            rfc3339(r.not_after) if r.not_after else "-",
            "revoked" if r.revoked else ("valid" if r.usable(now) else "expired"),
        ]
        for r, _ in parsed.records
    ]
    print(_table(rows) if parsed.records else "no licences")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    delegation = sub.add_parser("delegation", help="delegations (委任) from a Prime to a delegate")
    d_sub = delegation.add_subparsers(dest="delegation_command", required=True)

    grant_p = d_sub.add_parser("grant", help="grant a delegation; prints its id")
    grant_p.add_argument("--principal", required=True, help="username of the granting Prime")
    grant_p.add_argument("--delegate", required=True, help="username of the delegate")
    grant_p.add_argument("--rp", required=True, help="client id of the RP")
    grant_p.add_argument(
        "--procedure", required=True, action="append", help="a procedure id at that RP (repeat)"
    )
    grant_p.add_argument(
        "--not-before", type=_moment(at_end=False), help="date (00:00 JST) or date-time; default now"
    )
    grant_p.add_argument(
        "--not-after", required=True, type=_moment(at_end=True), help="date (23:59:59 JST) or date-time"
    )
    operating.register(grant_p, _grant_cmd)

    revoke_p = d_sub.add_parser("revoke", help="revoke a delegation (the record is kept, marked revoked)")
    revoke_p.add_argument("--id", required=True, help="the delegation id printed by grant")
    revoke_p.add_argument(
        "--delegate", required=True, help="the delegate's username (the account the record is stored on)"
    )
    operating.register(revoke_p, _revoke_cmd)

    list_p = d_sub.add_parser("list", help="list delegations of a principal or a delegate")
    who = list_p.add_mutually_exclusive_group(required=True)
    who.add_argument("--principal", help="username of the granting Prime")
    who.add_argument("--delegate", help="username of the delegate")
    list_p.add_argument(
        "--search",
        help="with --principal: search only accounts whose username, e-mail or name contains this "
        "(default: every account, slow on a large realm)",
    )
    list_p.add_argument("--json", action="store_true", help="print the records as JSON")
    operating.register(list_p, _list_cmd)

    licence = sub.add_parser("licence", help="licences (士業) of delegates")
    l_sub = licence.add_subparsers(dest="licence_command", required=True)
    record_p = l_sub.add_parser("record", help="record a licence on its holder's account")
    record_p.add_argument("--holder", required=True, help="username of the licence holder")
    record_p.add_argument("--kind", required=True, help="licence kind (realm/definitions/licences.yaml)")
    record_p.add_argument("--number", required=True, help="registration number")
    record_p.add_argument(
        "--not-after",
        type=_moment(at_end=True),
        help="last valid day (JST); default: no expiry on record",
    )
    operating.register(record_p, _licence_record_cmd)
    lrevoke_p = l_sub.add_parser("revoke", help="revoke a licence (the record is kept, marked revoked)")
    lrevoke_p.add_argument("--holder", required=True)
    lrevoke_p.add_argument("--kind", required=True)
    lrevoke_p.add_argument("--number", required=True)
    operating.register(lrevoke_p, _licence_revoke_cmd)
    llist_p = l_sub.add_parser("list", help="list the licences on an account")
    llist_p.add_argument("--holder", required=True)
    operating.register(llist_p, _licence_list_cmd)
