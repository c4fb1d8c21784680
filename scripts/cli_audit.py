"""`bizid audit trace|verify`: the command line of `realm.audit_trace` and `realm.operator_audit`.

On a deployed `--target` (scripts/operating.py) the trace joins the target's Keycloak events (read as its
operator account) with its operator audit trail read back from S3, whose chain is verified first, and with
the stack's audit archive in the same bucket (realm/archive_s3.py): the archived Keycloak events (the
durable copy, with the release decision ids) and OPA's decision log, as the local trace joins
`.bizid/logs/keycloak.log*` and `opa.log*`. The archive is read in full before anything is printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from typing import Any

from realm import archive_s3, audit_trace, event_archive
from scripts import operating
from scripts.operating import Context


def _since(text: str) -> dt.datetime:
    """A date (YYYY-MM-DD, from its start in UTC) or an RFC 3339 time."""
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD) or an RFC 3339 time") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _trace_cmd(args: argparse.Namespace, ctx: Context) -> int:
    trail = ctx.trail()
    decisions: list[dict[str, Any]] = []
    if ctx.local:
        logs = sorted(ctx.cfg.paths.logs.glob("opa.log*"))
        archive = list(event_archive.read(event_archive.log_files(ctx.cfg.paths.logs)))
    else:
        trail.verify()  # an investigator reads a trail whose chain is intact, or is told it is not
        store = ctx.archive()
        logs = []
        archive = list(store.keycloak_events(args.since))
        decisions = list(store.decisions(args.since))
        print(
            f"bizid: note: target {ctx.name}: Keycloak's events, the operator trail {trail.where} and the "
            f"audit archive {store.where} ({archive_s3.KEYCLOAK_EVENTS}/, {archive_s3.OPA_DECISIONS}/)",
            file=sys.stderr,
        )
    rows = audit_trace.trace(
        ctx.admin(),
        args.account,
        logs,
        trail,
        since=args.since,
        members=args.members,
        archive=archive,
        decision_events=decisions,
    )
    for row in rows:
        if args.json:
            print(json.dumps({**dataclasses.asdict(row), "time": row.time.isoformat()}, ensure_ascii=False))
        else:
            print(row.render())
    if not args.json:
        print(f"{len(rows)} record(s)")
    return 0


def _verify_cmd(args: argparse.Namespace, ctx: Context) -> int:
    trail = ctx.trail()
    trail.verify()
    print(f"{trail.where}: {len(trail.entries())} entries, chain intact")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="follow an account across Keycloak, OPA and operator records")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    trace_p = audit_sub.add_parser("trace", help="one chronological view of an account")
    trace_p.add_argument("--account", required=True, help="username")
    trace_p.add_argument("--since", type=_since, help="YYYY-MM-DD or RFC 3339 time")
    trace_p.add_argument("--members", action="store_true", help="a Prime: also the Members it issued")
    trace_p.add_argument("--json", action="store_true", help="one JSON object per line")
    operating.register(trace_p, _trace_cmd)
    verify_p = audit_sub.add_parser("verify", help="check the operator audit trail's chain")
    operating.register(verify_p, _verify_cmd)
