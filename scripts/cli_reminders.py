"""`bizid notify reminders`: the command line of `realm.reminders`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from realm import reminders
from realm.operator_audit import mask_username
from realm.reminders import FileLedger, Ledger, ReminderError
from scripts import operating, reminder_timer, settings
from scripts.operating import Context


def ledger_path(cfg: settings.Settings) -> Path:
    return cfg.paths.state / "audit" / "reminders.jsonl"


def _ledger(text: str) -> str:
    """`--ledger`: s3://bucket/prefix (a deployed target's job) or a file path; checked before any run."""
    from realm.reminders import parse_ledger

    try:
        parse_ledger(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _days(text: str) -> int:
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days") from None
    error = reminders.days_error(days)
    if error:
        raise argparse.ArgumentTypeError(error)
    return days


def _reminders_cmd(args: argparse.Namespace, ctx: Context) -> int:
    notifier = ctx.notifier()
    if notifier is None:
        raise ReminderError("realm.yaml has no smtp section: reminders cannot be mailed")
    ledger: Ledger = (
        FileLedger(ctx.state() / "audit" / "reminders.jsonl")
        if args.ledger is None
        else reminders.open_ledger(args.ledger)
    )
    result = reminders.run(ctx.admin(), notifier, ledger, args.days)
    for r in result.sent:
        print(f"sent {r.kind} to {mask_username(r.username)}")
    for r in result.failed:
        name = mask_username(r.username)
        print(f"bizid: warning: {r.kind} to {name} not sent (see the log)", file=sys.stderr)
    print(f"{len(result.sent)} sent, {len(result.skipped)} already sent, {len(result.failed)} failed")
    return 1 if result.failed else 0


def _timer_cmd(args: argparse.Namespace) -> int:
    cfg = settings.load()
    offset = int(os.environ.get("BIZID_PORT_OFFSET", "0"))
    generated = reminder_timer.units(cfg.paths.state.parent.resolve(), offset, args.days)
    if args.write is None:
        for name, text in generated.files().items():
            print(f"# {name}\n{text}")
        return 0
    args.write.mkdir(parents=True, exist_ok=True)
    for name, text in generated.files().items():
        (args.write / name).write_text(text)
        print(args.write / name)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    notify = sub.add_parser("notify", help="notification mail sent on a schedule")
    notify_sub = notify.add_subparsers(dest="notify_command", required=True)
    rem = notify_sub.add_parser("reminders", help="validity and delegation expiry reminders (idempotent)")
    rem.add_argument("--days", type=_days, default=30, help="deadlines within this many days (default 30)")
    rem.add_argument(
        "--ledger",
        type=_ledger,
        help="where the reminders sent are recorded: s3://bucket/prefix (a deployed target's scheduled job) "
        "or a file (default: this platform's .bizid/audit/reminders.jsonl)",
    )
    operating.register(rem, _reminders_cmd)
    timer = notify_sub.add_parser("timer", help="the systemd units that run the reminders daily (this clone)")
    timer.add_argument("--days", type=_days, default=30, help="passed to each run (default 30)")
    timer.add_argument("--write", type=Path, help="write the units into this directory instead of printing")
    timer.set_defaults(func=_timer_cmd)
