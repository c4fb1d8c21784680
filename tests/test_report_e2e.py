"""Issue 13 §1/§3 against the real Keycloak, OPA and Mailpit: the durable event copy carries the release
decision id (joined to OPA's decision log and shown by `bizid audit trace`), `bizid report monthly`
counts what happened, and `bizid notify reminders` mails expiry reminders exactly once."""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pyotp
import pytest

from realm import delegation, event_archive, monthly_report
from realm.accounts import CreatedAccount
from realm.delegation import GrantSpec
from realm.event_archive import ArchivedEvent
from realm.lifecycle import today_jst
from realm.models import Definitions, Tier
from scripts import cli_reminders
from scripts.mailbox import Mailbox
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client, set_attributes
from tests.conftest import run_cli as run

pytestmark = pytest.mark.platform

OPERATOR = "ops.report"
T = TypeVar("T")

PRINCIPAL = {"corporate_number": "7000012050002", "corporate_name": "Reminder K.K.", "address": "Tokyo"}


def _eventually(probe: Callable[[], T | None], what: str, timeout: float = 30.0) -> T:
    """Wait for the log line to be written (Keycloak logs the event as the request ends)."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found is not None:
            return found
        assert time.monotonic() < deadline, f"not found in time: {what}"
        time.sleep(0.5)


def _archive(platform: Settings) -> list[ArchivedEvent]:
    return list(event_archive.read(event_archive.log_files(platform.paths.logs)))


def _sign_in(platform: Settings, definitions: Definitions, rp: str, account: CreatedAccount) -> Any:
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None
    browser = new_browser(platform)
    result = browser.login(rp_client(platform, definitions, rp), account.username, account.password, otp=otp)
    assert result.ok, result
    return browser, result


def _mail(account: CreatedAccount) -> str:
    return f"{account.username}@example.test"  # as conftest's make_account sets it


def _opa_decision_ids(platform: Settings, account_id: str) -> set[str]:
    ids = set()
    for path in platform.paths.logs.glob("opa.log*"):
        for line in path.read_text(errors="replace").splitlines():
            if '"Decision Log"' in line and account_id in line:
                given = json.loads(line).get("input") or {}
                if given.get("decision_id"):
                    ids.add(str(given["decision_id"]))
    return ids


def test_token_and_userinfo_events_carry_the_release_decision_id(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    browser, result = _sign_in(platform, definitions, "jgrants", prime)
    browser.userinfo(result.tokens["access_token"])

    def events_of(kind: str) -> ArchivedEvent | None:
        mine = [e for e in _archive(platform) if e.user == prime.user_id and e.type == kind]
        return mine[-1] if mine else None

    token = _eventually(lambda: events_of("CODE_TO_TOKEN"), "CODE_TO_TOKEN archive line")
    userinfo = _eventually(lambda: events_of("USER_INFO_REQUEST"), "USER_INFO_REQUEST archive line")
    assert token.client == "jgrants" and token.release_decision_ids, token
    assert userinfo.release_decision_ids, userinfo
    # The ids are OPA's: the decision log holds the release decisions under the same ids.
    decided = _eventually(
        lambda: _opa_decision_ids(platform, prime.user_id) or None, "OPA decision log entries"
    )
    assert set(token.release_decision_ids) <= decided, (token, decided)
    assert set(userinfo.release_decision_ids) <= decided
    # No personal data in the archive line.
    lines = [
        line
        for path in event_archive.log_files(platform.paths.logs)
        for line in path.read_text(errors="replace").splitlines()
        if event_archive.MARKER in line and prime.user_id in line
    ]
    assert lines and not any(prime.username in line or "@example.test" in line for line in lines)

    code, out, err = run(capsys, "audit", "trace", "--account", prime.username, "--json")
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    token_rows = [r for r in rows if r["source"] == "keycloak-login" and r["what"] == "CODE_TO_TOKEN"]
    assert any(f"release_decision_id={token.release_decision_ids[0]}" in r["detail"] for r in token_rows)
    info_rows = [r for r in rows if r["what"] == "USER_INFO_REQUEST"]  # not in the store: from the copy
    assert any(f"release_decision_id={userinfo.release_decision_ids[0]}" in r["detail"] for r in info_rows)
    opa_rows = [r for r in rows if r["source"] == "opa"]
    assert any(f"decision_id={token.release_decision_ids[0]}" in r["detail"] for r in opa_rows), opa_rows


def _table(md: str, section: str) -> dict[str, int]:
    body = md.split(f"## {section}\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (.+?) \| \**(\d+)\** \|$", body, re.M)
    return {k.strip("*"): int(v) for k, v in rows}


def test_monthly_report_counts_sign_ins_userinfo_operator_actions_and_new_accounts(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    out = tmp_path / "reports"
    code, _, err = run(capsys, "report", "monthly", "--month", month, "--out", str(out))
    assert code == 0, err
    before = (out / f"monthly-{month}.md").read_text()

    a, b = make_account(Tier.PRIME), make_account(Tier.PRIME)
    browser, result = _sign_in(platform, definitions, "jgrants", a)
    browser.userinfo(result.tokens["access_token"])
    _sign_in(platform, definitions, "jgrants", b)
    why = ("--reason", "report test", "--operator", OPERATOR)
    assert run(capsys, "accounts", "suspend", "--username", b.username, *why)[0] == 0
    assert run(capsys, "accounts", "reactivate", "--username", b.username, *why)[0] == 0

    def userinfo_of_a() -> list[ArchivedEvent] | None:
        mine = [e for e in _archive(platform) if e.user == a.user_id and e.type == "USER_INFO_REQUEST"]
        return mine or None

    _eventually(userinfo_of_a, "userinfo archive line")

    code, _, err = run(capsys, "report", "monthly", "--month", month, "--out", str(out))
    assert code == 0, err
    after = (out / f"monthly-{month}.md").read_text()

    def delta(section: str, key: str) -> int:
        return _table(after, section).get(key, 0) - _table(before, section).get(key, 0)

    assert delta("Sign-ins per RP", "jgrants") == 2
    assert delta("Userinfo calls per RP", "jgrants") == 1
    assert delta("Operator actions", "suspensions") == 1
    assert delta("Operator actions", "reactivations") == 1
    assert delta("New accounts per tier", "prime") == 2
    page = (out / f"monthly-{month}.html").read_text()
    assert page.count("<svg") == 4 and "jgrants" in page
    assert a.username not in after + page and b.username not in after + page

    # A month with nothing in it reports zeros; a bad month is refused before anything is written.
    code, _, err = run(capsys, "report", "monthly", "--month", "2001-01", "--out", str(out))
    assert code == 0 and "| **total** | **0** |" in (out / "monthly-2001-01.md").read_text()
    for bad in ("2026-13", "26-01", "2026-1"):
        code, _, err = run(capsys, "report", "monthly", "--month", bad, "--out", str(tmp_path / "bad"))
        assert code != 0 and "YYYY-MM" in err
    assert not (tmp_path / "bad").exists()


def test_monthly_counts_come_from_the_month_only() -> None:
    t = dt.datetime(2026, 4, 30, 23, 59, tzinfo=dt.UTC)
    events = [
        ArchivedEvent("login", "1", t, "LOGIN", client="jgrants", user="u"),
        ArchivedEvent("login", "2", t + dt.timedelta(minutes=2), "LOGIN", client="jgrants", user="u"),
        ArchivedEvent("login", "3", t, "LOGIN", client="jgrants", user="u", error="invalid_user_credentials"),
    ]
    counts = monthly_report.count("2026-04", events, [], lambda _: "prime")
    assert counts.sign_ins == {"jgrants": 1}


def test_reminders_mail_once_per_deadline(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    mailbox = Mailbox(platform.mail_api_url)
    today = today_jst()
    expiring = make_account(Tier.PRIME)
    set_attributes(admin, expiring.user_id, valid_until=(today + dt.timedelta(days=5)).isoformat())
    later = make_account(Tier.PRIME)
    set_attributes(admin, later.user_id, valid_until=(today + dt.timedelta(days=60)).isoformat())
    principal = make_account(Tier.PRIME, "principal", **PRINCIPAL)
    delegate = make_account(Tier.PRIME)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    spec = GrantSpec(principal.username, delegate.username, "jgrants", ("subsidy-application",),
                     now + dt.timedelta(days=3), not_before=now)  # fmt: skip
    delegation.grant(spec, definitions, admin)

    code, out, err = run(capsys, "notify", "reminders", "--days", "10")
    assert code == 0, err
    mail = mailbox.wait_for(_mail(expiring), "about to expire")
    assert (today + dt.timedelta(days=5)).isoformat() in mail.text
    for party in (principal, delegate):
        got = mailbox.wait_for(_mail(party), "delegation")
        assert "jgrants" in got.text and delegate.username in got.text
    assert not [m for m in mailbox.messages_to(_mail(later)) if "expire" in m.subject]
    assert expiring.username not in out  # the output names accounts masked
    ledger = cli_reminders.ledger_path(platform).read_text()
    assert expiring.user_id in ledger and expiring.username not in ledger

    counts = {_mail(p): len(mailbox.messages_to(_mail(p))) for p in (expiring, principal, delegate)}
    code, out, err = run(capsys, "notify", "reminders", "--days", "10")
    assert code == 0, err
    time.sleep(2)  # give a wrongly sent second mail the time to arrive before counting
    assert {_mail(p): len(mailbox.messages_to(_mail(p))) for p in (expiring, principal, delegate)} == counts

    code, _, err = run(capsys, "notify", "reminders", "--days", "-1")
    assert code != 0 and "--days" in err
