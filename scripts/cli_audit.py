"""`bizid audit trace|verify`: the command line of `realm.audit_trace` and `realm.operator_audit`."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json

from realm import audit_trace, event_archive
from scripts import cli_lifecycle, settings
from scripts.keycloak_admin import admin_client


def _since(text: str) -> dt.datetime:
    """A date (YYYY-MM-DD, from its start in UTC) or an RFC 3339 time."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or an RFC 3339 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _trace_cmd(args: argparse.Namespace) -> int:
    cfg = settings.load()
    logs = sorted(cfg.paths.logs.glob("opa.log*"))
    rows = audit_trace.trace(
        admin_client(cfg),
        args.account,
        logs,
        cli_lifecycle.trail(cfg),
        since=args.since,
        members=args.members,
        archive=list(event_archive.read(event_archive.log_files(cfg.paths.logs))),
    )
    for row in rows:
        if args.json:
            print(json.dumps({**dataclasses.asdict(row), "time": row.time.isoformat()}, ensure_ascii=False))
        else:
            print(row.render())
    if not args.json:
        print(f"{len(rows)} record(s)")
    return 0


def _verify_cmd(args: argparse.Namespace) -> int:
    trail = cli_lifecycle.trail(settings.load())
    trail.verify()
    print(f"{trail.path}: {len(trail.entries())} entries, chain intact")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="follow an account across Keycloak, OPA and operator records")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    trace_p = audit_sub.add_parser("trace", help="one chronological view of an account")
    trace_p.add_argument("--account", required=True, help="username")
    trace_p.add_argument("--since", type=_since, help="YYYY-MM-DD or RFC 3339 time")
    trace_p.add_argument("--members", action="store_true", help="a Prime: also the Members it issued")
    trace_p.add_argument("--json", action="store_true", help="one JSON object per line")
    trace_p.set_defaults(func=_trace_cmd)
    verify_p = audit_sub.add_parser("verify", help="check the operator audit trail's chain")
    verify_p.set_defaults(func=_verify_cmd)
