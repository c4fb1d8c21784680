"""`bizid audit trace --account USER`: one chronological view of an account across the platform's records.

Joined on the account's Keycloak id (the pseudonym every source keeps):
- Keycloak's login events (`GET /admin/realms/{realm}/events?user=ID`: LOGIN, LOGIN_ERROR, CODE_TO_TOKEN,
  REFRESH_TOKEN, LOGOUT, ... with the client id and error), kept for `events.expiration_seconds`
  (realm.yaml);
- Keycloak's admin events on the account (`GET .../admin-events?resourcePath=users/ID*`: who changed or
  ended the sessions of the account through the Admin API; representations are not shown);
- OPA's decision log (access and release decisions on the account, already masked by
  `policies/system/log.rego`: decision id, RP, allow and reason codes);
- the operator audit trail (`realm.operator_audit`: suspend, reactivate, renew with operator and reason).

With `members=True` the accounts a Prime issued (`prime_username`) are traced with it: "which RPs did this
provisional Prime's Members sign in to, and who created them?" (DOMAIN.md, 2020).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realm.event_archive import ArchivedEvent
from realm.lifecycle import AccountView, LifecycleError, view
from realm.operator_audit import OperatorAuditTrail

EVENTS_MAX = 1000
"""Events read per source and account (newest first from Keycloak); the view says when it was cut."""


@dataclass(frozen=True)
class TraceRow:
    """One line of the trace."""

    time: dt.datetime
    source: str
    """keycloak-login, keycloak-admin, opa, operator"""
    account: str
    """The account's username (the operator asked for it; the sources themselves keep only the id)."""
    what: str
    detail: str = ""

    def render(self) -> str:
        stamp = self.time.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return f"{stamp}  {self.source:14} {self.account:28} {self.what:28} {self.detail}".rstrip()


def _ms(value: Any) -> dt.datetime:
    return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)


def _parse_time(text: str) -> dt.datetime | None:
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _release(ids: Iterable[str]) -> str:
    return "".join(f" release_decision_id={i}" for i in ids)


def login_events(
    admin: Any,
    account: AccountView,
    since: dt.datetime | None,
    archived: dict[str, ArchivedEvent] | None = None,
    seen: set[str] | None = None,
) -> Iterator[TraceRow]:
    """The event store's events; with `archived` (by event id) each names its release decisions; the ids
    read are added to `seen`."""
    archived = archived or {}
    seen = set() if seen is None else seen
    query: dict[str, Any] = {"user": account.id, "max": EVENTS_MAX}
    if since is not None:
        query["dateFrom"] = since.astimezone(dt.UTC).date().isoformat()
    for event in admin.get_events(query):
        details = event.get("details") or {}
        parts = [f"client={event.get('clientId')}"] if event.get("clientId") else []
        if event.get("error"):
            parts.append(f"error={event['error']}")
        if details.get("reason"):
            parts.append(f"reason={str(details['reason'])[:200]}")
        seen.add(str(event.get("id")))
        copy = archived.get(str(event.get("id")))
        release = _release(copy.release_decision_ids) if copy else ""
        yield TraceRow(
            _ms(event["time"]),
            "keycloak-login",
            account.username,
            str(event.get("type")),
            " ".join(parts) + release,
        )


def archived_only(
    archive: Iterable[ArchivedEvent], accounts: dict[str, AccountView], stored: set[str]
) -> Iterator[TraceRow]:
    """Login events of the durable copy the store lacks (REFRESH_TOKEN, USER_INFO_REQUEST, expired ones)."""
    for event in archive:
        if event.kind != "login" or event.user not in accounts or event.id in stored:
            continue
        parts = [f"client={event.client}"] if event.client else []
        if event.error:
            parts.append(f"error={event.error}")
        detail = " ".join(parts) + _release(event.release_decision_ids)
        yield TraceRow(event.time, "keycloak-login", accounts[event.user].username, event.type, detail)


def admin_events(admin: Any, account: AccountView, since: dt.datetime | None) -> Iterator[TraceRow]:
    query: dict[str, Any] = {"resourcePath": f"users/{account.id}*", "max": EVENTS_MAX}
    if since is not None:
        query["dateFrom"] = since.astimezone(dt.UTC).date().isoformat()
    for event in admin.get_admin_events(query):
        auth = event.get("authDetails") or {}
        path = str(event.get("resourcePath", ""))
        sub = path.split("/", 2)[2] if path.count("/") >= 2 else ""
        what = f"{event.get('operationType')} {event.get('resourceType')}".strip()
        detail = f"by admin user {auth.get('userId')} via {auth.get('clientId')}" + (
            f" ({sub})" if sub else ""
        )
        yield TraceRow(_ms(event["time"]), "keycloak-admin", account.username, what, detail)


def _decision_lines(paths: Iterable[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        if not path.exists():
            continue
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if '"Decision Log"' not in line:
                    continue
                try:
                    yield json.loads(line)
                except ValueError:
                    continue


def decisions(paths: Iterable[Path], accounts: dict[str, AccountView]) -> Iterator[TraceRow]:
    """Decision-log events of the log files whose (masked) input names one of the accounts by id."""
    return decision_rows(_decision_lines(paths), accounts)


def decision_rows(events: Iterable[dict[str, Any]], accounts: dict[str, AccountView]) -> Iterator[TraceRow]:
    """Decision-log events (a log file's lines, or the S3 archive's: `realm.archive_s3`) whose (masked)
    input names one of the accounts by id."""
    for event in events:
        given = event.get("input") or {}
        account_id = (given.get("account") or {}).get("id")
        if account_id not in accounts:
            continue
        time = _parse_time(str(given.get("now") or event.get("timestamp") or ""))
        if time is None:
            continue
        result = event.get("result") or {}
        path = str(event.get("path", "")).replace("/", ".")
        rp = (given.get("rp") or {}).get("client_id")
        if "allow" in result:
            verdict = "allow" if result.get("allow") is True else "deny"
        else:
            verdict = "released" if result.get("claims") is not None else "decided"
        codes = sorted({str(r.get("code")) for r in result.get("reasons") or [] if isinstance(r, dict)})
        detail = f"rp={rp} decision_id={given.get('decision_id')}" + (
            f" reasons={','.join(codes)}" if codes else ""
        )
        phase = (given.get("authn") or {}).get("phase")
        if phase:
            detail += f" phase={phase}"
        yield TraceRow(time, "opa", accounts[account_id].username, f"{path} {verdict}", detail)


def operator_entries(trail: OperatorAuditTrail, accounts: dict[str, AccountView]) -> Iterator[TraceRow]:
    for entry in trail.entries():
        if entry.account_id not in accounts:
            continue
        time = _parse_time(entry.time)
        if time is None:
            continue
        changes = ", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in entry.changes.items())
        approved = f" approved by {entry.approved_by}" if entry.approved_by else ""
        detail = f"by {entry.operator}: {changes}{approved}; reason: {entry.reason}"
        yield TraceRow(time, "operator", accounts[entry.account_id].username, entry.action, detail)


def _members(admin: Any, prime: AccountView) -> list[AccountView]:
    users = admin.get_users(
        {"q": f"prime_username:{prime.username}", "max": EVENTS_MAX, "briefRepresentation": False}
    )
    return [view(u) for u in users if (u.get("attributes") or {}).get("prime_username") == [prime.username]]


def find_account(admin: Any, username: str) -> AccountView:
    if not username or any(c.isspace() for c in username):
        raise LifecycleError(f"--account {username!r}: not a username")
    users: list[dict[str, Any]] = admin.get_users({"username": username, "exact": True})
    match = [u for u in users if str(u.get("username")) == username.lower()]
    if not match:
        raise LifecycleError(f"--account {username!r}: no such account")
    return view(admin.get_user(match[0]["id"]))


def trace(
    admin: Any,
    username: str,
    decision_logs: Iterable[Path],
    trail: OperatorAuditTrail,
    since: dt.datetime | None = None,
    members: bool = False,
    archive: Iterable[ArchivedEvent] = (),
    decision_events: Iterable[dict[str, Any]] = (),
) -> list[TraceRow]:
    """The account's (and with `members`, its Members') records from every source, oldest first;
    `decision_events` are decision-log events read elsewhere than `decision_logs` (the S3 archive)."""
    account = find_account(admin, username)
    accounts = {account.id: account}
    if members:
        accounts.update({m.id: m for m in _members(admin, account)})
    copies = {e.id: e for e in archive if e.kind == "login"}
    rows: list[TraceRow] = []
    stored_ids: set[str] = set()
    for one in accounts.values():
        rows.extend(login_events(admin, one, since, copies, stored_ids))
        rows.extend(admin_events(admin, one, since))
    rows.extend(archived_only(copies.values(), accounts, stored_ids))
    rows.extend(decisions(list(decision_logs), accounts))
    rows.extend(decision_rows(decision_events, accounts))
    rows.extend(operator_entries(trail, accounts))
    if since is not None:
        rows = [r for r in rows if r.time >= since]
    return sorted(rows, key=lambda r: (r.time, r.source))
