"""`bizid report monthly`: the operations centre's monthly counts (DOMAIN.md), from the stored records.

Sources: the durable copy of Keycloak's events (`realm.event_archive`: sign-ins, userinfo calls, new
accounts) and the operator audit trail (`realm.operator_audit`: suspensions, reactivations, authenticator
resets, representative changes). Counted in UTC calendar months. Nothing personal is in the report: RPs
by client id, accounts only as counts per tier.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from realm.event_archive import ArchivedEvent
from realm.operator_audit import AuditEntry
from realm.report_svg import bar_chart

MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")

OPERATOR_COUNTS: dict[str, tuple[str, ...]] = {
    "suspensions": ("suspend",),
    "reactivations": ("reactivate",),
    "authenticator resets": ("reset-authenticator",),  # realm/enrolment.py
    "representative changes": ("representative-change",),  # realm/representative_change.py
}
"""Report line -> the operator-trail actions counted in it (the lifecycle commands' `action` names)."""

_USER_PATH = re.compile(r"^users/([0-9a-fA-F-]{36})$")


class ReportError(ValueError):
    """A bad month or output folder; the message names it."""


def parse_month(text: str) -> tuple[int, int]:
    match = MONTH.fullmatch(text or "")
    if not match:
        raise ReportError(f"--month {text!r}: expected YYYY-MM (e.g. 2026-04)")
    return int(match.group(1)), int(match.group(2))


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


@dataclass
class MonthlyCounts:
    month: str
    sign_ins: Counter[str] = field(default_factory=Counter)
    """Successful LOGIN events per RP (client id)."""
    userinfo: Counter[str] = field(default_factory=Counter)
    """Successful USER_INFO_REQUEST events per RP."""
    operator: Counter[str] = field(default_factory=Counter)
    """OPERATOR_COUNTS line -> count (every line present, zero included)."""
    other_operator: Counter[str] = field(default_factory=Counter)
    """Operator actions not in OPERATOR_COUNTS (renew, ...), by action."""
    new_accounts: Counter[str] = field(default_factory=Counter)
    """Accounts created (self-registration or by an operator) per tier."""


def count(
    month: str,
    events: Iterable[ArchivedEvent],
    trail: Iterable[AuditEntry],
    tier_of: Callable[[str], str],
) -> MonthlyCounts:
    """The month's counts; `tier_of(user_id)` names a new account's tier (e.g. "deleted" when it is gone)."""
    start, end = month_bounds(*parse_month(month))
    counts = MonthlyCounts(month, operator=Counter({name: 0 for name in OPERATOR_COUNTS}))
    created: set[str] = set()
    for event in events:
        if not start <= event.time < end or event.error:
            continue
        if event.kind == "login" and event.type == "LOGIN":
            counts.sign_ins[event.client or "(none)"] += 1
        elif event.kind == "login" and event.type == "USER_INFO_REQUEST":
            counts.userinfo[event.client or "(none)"] += 1
        elif event.kind == "login" and event.type == "REGISTER" and event.user:
            created.add(event.user)
        elif event.kind == "admin" and event.operation == "CREATE" and event.resource_type == "USER":
            match = _USER_PATH.fullmatch(event.resource_path)
            if match:
                created.add(match.group(1))
    for user_id in sorted(created):
        counts.new_accounts[tier_of(user_id)] += 1
    by_action = {a: name for name, actions in OPERATOR_COUNTS.items() for a in actions}
    for entry in trail:
        try:
            time = dt.datetime.fromisoformat(entry.time.replace("Z", "+00:00"))
        except ValueError:
            continue
        if not start <= time < end:
            continue
        if entry.action in by_action:
            counts.operator[by_action[entry.action]] += 1
        else:
            counts.other_operator[entry.action] += 1
    return counts


def _table(title: str, head: str, rows: Counter[str]) -> list[str]:
    lines = [f"## {title}", "", f"| {head} | count |", "|---|---:|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(rows.items())] or ["| (none) | 0 |"]
    lines += [f"| **total** | **{sum(rows.values())}** |", ""]
    return lines


def markdown(counts: MonthlyCounts) -> str:
    lines = [f"# bizid monthly report {counts.month}", "", "Counted in UTC; plots in the HTML report.", ""]
    lines += _table("Sign-ins per RP", "RP (client id)", counts.sign_ins)
    lines += _table("Userinfo calls per RP", "RP (client id)", counts.userinfo)
    lines += ["## Operator actions", "", "| action | count |", "|---|---:|"]
    lines += [f"| {name} | {counts.operator[name]} |" for name in OPERATOR_COUNTS]
    lines += [f"| other: {k} | {v} |" for k, v in sorted(counts.other_operator.items())] + [""]
    lines += _table("New accounts per tier", "tier", counts.new_accounts)
    return "\n".join(lines)


def _html_table(head: str, rows: dict[str, int]) -> str:
    body = (
        "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in rows.items())
        or "<tr><td>(none)</td><td>0</td></tr>"
    )
    return f"<table><tr><th>{html.escape(head)}</th><th>count</th></tr>{body}</table>"


def html_report(counts: MonthlyCounts) -> str:
    operator = {name: counts.operator[name] for name in OPERATOR_COUNTS}
    operator |= {f"other: {k}": v for k, v in sorted(counts.other_operator.items())}
    sections = [
        ("Sign-ins per RP", "RP (client id)", dict(sorted(counts.sign_ins.items()))),
        ("Userinfo calls per RP", "RP (client id)", dict(sorted(counts.userinfo.items()))),
        ("Operator actions", "action", operator),
        ("New accounts per tier", "tier", dict(sorted(counts.new_accounts.items()))),
    ]
    parts = [
        "<!doctype html>",
        f'<html lang="en"><head><meta charset="utf-8"><title>bizid monthly report {counts.month}</title>',
        "<style>body{font-family:sans-serif;max-width:60em;margin:1em auto}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px}</style></head><body>",
        f"<h1>bizid monthly report {counts.month}</h1><p>Counted in UTC.</p>",
    ]
    for title, head, rows in sections:
        parts += [f"<h2>{html.escape(title)}</h2>", bar_chart(title, rows), _html_table(head, rows)]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
