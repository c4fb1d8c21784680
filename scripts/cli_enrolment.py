"""`bizid accounts reset-authenticator`: the command line of `realm.enrolment` (lost authenticator).

The one-time enrolment code is delivered here, after the reset is written and audited: by mail to the
registered address through the realm's SMTP server (`realm.notify`, template `enrolment-code`), or printed
for a letter (`--deliver letter`). The code is never logged nor written to the audit trail.
"""

from __future__ import annotations

import argparse
import sys

from realm import enrolment, lifecycle
from realm.enrolment import ResetResult
from realm.notify import Recipient
from scripts import operating
from scripts.cli_lifecycle import _actor
from scripts.operating import Context


def _valid_until(result: ResetResult) -> str:
    return result.expires.astimezone(lifecycle.JST).strftime("%Y-%m-%d %H:%M JST")


def _reset_cmd(args: argparse.Namespace, ctx: Context) -> int:
    actor = _actor(args)
    actor.validate()
    enrolment.validate_options(args.deliver, args.valid_days)
    notifier = ctx.notifier() if args.deliver == "mail" else None
    if args.deliver == "mail" and notifier is None:
        raise lifecycle.LifecycleError("--deliver mail: realm.yaml has no smtp; use --deliver letter")
    result = enrolment.reset_authenticator(
        ctx.admin(), args.username, actor, ctx.trail(), args.deliver, args.valid_days
    )
    event = result.event
    print(f"reset-authenticator: {event.username} ({event.tier})")
    print(
        f"  second factors removed: {', '.join(result.removed) or 'none'}; "
        f"sessions ended: {event.sessions_ended}"
    )
    print(f"  enrolment code valid until {_valid_until(result)}, {enrolment.MAX_ATTEMPTS} attempts")
    print(f"  recorded in the operator audit trail by {event.operator} at {event.time}")
    if args.deliver == "letter":
        print("\n---- letter (print and post to the registered address) ----")
        print(f"Account / アカウント: {event.username}")
        print(f"Enrolment code / 登録コード: {result.code}")
        print(f"Valid until / 有効期限: {_valid_until(result)}")
        return 0
    assert notifier is not None
    detail = f"{result.code}（{_valid_until(result)} まで / valid until {_valid_until(result)}）"
    if not notifier.send("enrolment-code", Recipient(event.username, event.email), detail):
        print(
            "bizid: error: the enrolment code mail was not sent (see the log); the account needs a new code: "
            "run the reset again (with --deliver letter if mail is down)",
            file=sys.stderr,
        )
        return 1
    print(f"  enrolment code mailed to the registered address of {event.username}")
    return 0


def register(acc_sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    reset_p = acc_sub.add_parser(
        "reset-authenticator",
        help="lost authenticator: remove the second factors, issue a one-time enrolment code (mail/letter)",
    )
    reset_p.add_argument("--username", required=True)
    reset_p.add_argument("--reason", required=True, help="why (recorded in the operator audit trail)")
    reset_p.add_argument("--operator", help="who runs the command (default: $BIZID_OPERATOR)")
    reset_p.add_argument("--deliver", choices=list(enrolment.DELIVERIES), default="mail")
    reset_p.add_argument(
        "--valid-days",
        type=int,
        default=enrolment.DEFAULT_VALID_DAYS,
        help=f"days the code is valid (1-{enrolment.MAX_VALID_DAYS})",
    )
    operating.register(reset_p, _reset_cmd)
