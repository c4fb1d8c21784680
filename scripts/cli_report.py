"""`bizid report monthly`: the command line of `realm.monthly_report`.

On a deployed `--target` the operator-action counts come from its S3 trail, the sign-in, userinfo and
new-account counts from the archived Keycloak events in the same audit bucket (realm/archive_s3.py), and
tiers from its Keycloak (as the operator account). Everything is read before a file is written.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from realm import archive_s3, event_archive, monthly_report
from realm.event_archive import ArchivedEvent
from realm.monthly_report import ReportError
from scripts import operating
from scripts.operating import Context


def _month(text: str) -> str:
    try:
        monthly_report.parse_month(text)
    except ReportError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def _tier_lookup(admin: Any) -> Any:
    def tier_of(user_id: str) -> str:
        try:
            user = admin.get_user(user_id)
        except Exception:  # a deleted account is still counted, as "deleted"
            return "deleted"
        tier = (user.get("attributes") or {}).get("tier") or ["(no tier)"]
        return str(tier[0])

    return tier_of


def _out_dir(text: str) -> Path:
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise ReportError(f"--out {text}: exists and is not a folder")
    return out


def _monthly_cmd(args: argparse.Namespace, ctx: Context) -> int:
    month = args.month or dt.datetime.now(dt.UTC).strftime("%Y-%m")
    out = _out_dir(args.out)
    trail = ctx.trail()
    events: Iterable[ArchivedEvent]
    if ctx.local:
        events = event_archive.read(event_archive.log_files(ctx.cfg.paths.logs))
    else:
        store = ctx.archive()
        start, end = monthly_report.month_bounds(*monthly_report.parse_month(month))
        events = list(store.keycloak_events(start, end))
        print(
            f"bizid: note: target {ctx.name}: events from the audit archive {store.where}"
            f"{archive_s3.KEYCLOAK_EVENTS}/, operator actions from the trail {trail.where}",
            file=sys.stderr,
        )
    counts = monthly_report.count(month, events, trail.entries(), _tier_lookup(ctx.admin()))
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ReportError(f"--out {out}: cannot create the folder ({exc.strerror})") from None
    md, page = out / f"monthly-{month}.md", out / f"monthly-{month}.html"
    md.write_text(monthly_report.markdown(counts), encoding="utf-8")
    page.write_text(monthly_report.html_report(counts), encoding="utf-8")
    print(f"wrote {md} and {page}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = sub.add_parser("report", help="operations reports from the stored events and operator trail")
    report_sub = report.add_subparsers(dest="report_command", required=True)
    monthly = report_sub.add_parser("monthly", help="the month's counts as Markdown + HTML with plots")
    monthly.add_argument("--month", type=_month, help="YYYY-MM (UTC); default: the current month")
    monthly.add_argument("--out", default="docs/reports", help="output folder (default: docs/reports)")
    operating.register(monthly, _monthly_cmd)
