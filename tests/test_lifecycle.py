"""`bizid accounts show|list|suspend|reactivate|renew` against the real Keycloak and OPA (issue 13 §2).

Each changing command ends in the access decision (a suspended account is refused at its next sign-in
and its sessions are gone; a reactivated or renewed one signs in again) and in one entry of the operator
audit trail; bad input is refused with the value named, and nothing is written (attributes and trail
compared before and after). Commands run as a user runs them: `scripts.cli.main(argv)`.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from pathlib import Path
from typing import Any

import pyotp
import pytest
import requests

from realm import lifecycle
from realm.accounts import CreatedAccount
from realm.lifecycle import ListFilter
from realm.models import Definitions, Tier, corporate_number_check_digit
from scripts import cli_lifecycle
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client, set_attributes
from tests.conftest import run_cli as run

pytestmark = pytest.mark.platform

OPERATOR = "ops.test"


def _company() -> dict[str, str]:
    """A company of its own for this module, so `list --company` sees only this run's accounts."""
    base = f"{secrets.randbelow(10**12):012d}"
    return {
        "corporate_number": f"{corporate_number_check_digit(base)}{base}",
        "corporate_name": "Lifecycle K.K.",
        "representative_name": "Lifecycle Representative",
        "address": "Tokyo",
    }


@pytest.fixture(scope="module")
def default_company() -> dict[str, str]:
    return _company()


def _trail(platform: Settings) -> Path:
    return cli_lifecycle.trail_path(platform)


def _trail_text(platform: Settings) -> str:
    path = _trail(platform)
    return path.read_text() if path.exists() else ""


def _sign_in(platform: Settings, definitions: Definitions, rp: str, account: CreatedAccount) -> Any:
    browser = new_browser(platform)
    otp = (lambda: pyotp.TOTP(account.totp_base32 or "").now()) if account.totp_secret else None
    return browser.login(rp_client(platform, definitions, rp), account.username, account.password, otp=otp)


def _attributes(admin: Any, user_id: str) -> dict[str, Any]:
    return dict(admin.get_user(user_id).get("attributes") or {})


def _today() -> dt.date:
    return lifecycle.today_jst()


# --- suspend and reactivate ----------------------------------------------------------------------------


def test_suspend_ends_sessions_refuses_sign_in_and_is_audited(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    signed_in = _sign_in(platform, definitions, "jgrants", prime)
    assert signed_in.ok, signed_in
    assert admin.get_sessions(prime.user_id), "the sign-in left a session"

    code, out, err = run(
        capsys,
        "accounts", "suspend", "--username", prime.username,
        "--reason", "seal certificate reported stolen, ticket 4711", "--operator", OPERATOR,
    )  # fmt: skip
    assert code == 0, err
    assert "sessions ended: 1" in out
    assert _attributes(admin, prime.user_id)["account_status"] == ["suspended"]
    assert admin.get_sessions(prime.user_id) == []

    # The RP's refresh token no longer works, and a new sign-in is refused by the policy.
    client = rp_client(platform, definitions, "jgrants")
    refreshed = requests.post(
        f"{platform.issuer}/protocol/openid-connect/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": signed_in.tokens["refresh_token"],
            "client_id": client.client_id,
        },
        auth=(client.client_id, client.secret) if client.secret else None,
        verify=str(platform.paths.ca_cert),
        timeout=30,
    )
    assert refreshed.status_code == 400 and refreshed.json()["error"] == "invalid_grant"
    refused = _sign_in(platform, definitions, "jgrants", prime)
    assert not refused.ok and "account_suspended" in (refused.error_description or "")

    entries = cli_lifecycle.trail(platform).entries(prime.user_id)
    assert [(e.action, e.operator, e.changes) for e in entries] == [
        ("suspend", OPERATOR, {"account_status": ["active", "suspended"]})
    ]
    assert prime.username not in _trail_text(platform)  # masked
    cli_lifecycle.trail(platform).verify()


def test_reactivate_lets_the_account_sign_in_again(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    entry = make_account(Tier.ENTRY, status="suspended")
    assert not _sign_in(platform, definitions, "seminar", entry).ok
    code, _out, err = run(
        capsys, "accounts", "reactivate", "--username", entry.username,
        "--reason", "identity confirmed by phone", "--operator", OPERATOR,
    )  # fmt: skip
    assert code == 0, err
    assert _attributes(admin, entry.user_id)["account_status"] == ["active"]
    assert _sign_in(platform, definitions, "seminar", entry).ok
    entries = cli_lifecycle.trail(platform).entries(entry.user_id)
    assert [e.action for e in entries] == ["reactivate"] and entries[
        0
    ].reason == "identity confirmed by phone"


def test_lifecycle_functions_return_the_event_for_notifications(
    platform: Settings, make_account: MakeAccount, admin: Any
) -> None:
    entry = make_account(Tier.ENTRY)
    events: list[lifecycle.LifecycleEvent] = []
    actor = lifecycle.Actor(OPERATOR, "spam reported")
    event = lifecycle.suspend(
        admin, entry.username, actor, cli_lifecycle.trail(platform), notify=events.append
    )
    assert events == [event]
    assert (event.action, event.username, event.email) == (
        "suspend",
        entry.username,
        f"{entry.username}@example.test",
    )


def _refused(
    platform: Settings, admin: Any, capsys: pytest.CaptureFixture[str], user_id: str | None, *argv: str
) -> str:
    """Run a command that must be refused: exit 2, nothing written to the account or the trail."""
    before_trail = _trail_text(platform)
    before = _attributes(admin, user_id) if user_id else None
    code, _out, err = run(capsys, *argv)
    assert code == 2, err
    assert _trail_text(platform) == before_trail
    if user_id:
        assert _attributes(admin, user_id) == before
    return err


def test_bad_suspend_and_reactivate_are_refused_and_write_nothing(
    platform: Settings, make_account: MakeAccount, admin: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    suspended = make_account(Tier.PRIME, status="suspended")
    active = make_account(Tier.ENTRY)
    expired = make_account(Tier.PRIME, status="suspended", valid_until=_today() - dt.timedelta(days=1))
    why = ("--reason", "test", "--operator", OPERATOR)

    err = _refused(platform, admin, capsys, None, "accounts", "suspend", "--username", "no-such-x", *why)
    assert "'no-such-x': no such account" in err
    err = _refused(
        platform,
        admin,
        capsys,
        suspended.user_id,
        "accounts",
        "suspend",
        "--username",
        suspended.username,
        *why,
    )
    assert suspended.username in err and "already suspended" in err
    err = _refused(
        platform, admin, capsys, active.user_id, "accounts", "reactivate", "--username", active.username, *why
    )
    assert active.username in err and "not suspended" in err
    err = _refused(
        platform,
        admin,
        capsys,
        expired.user_id,
        "accounts",
        "reactivate",
        "--username",
        expired.username,
        *why,
    )
    assert expired.username in err and "expired" in err and "renew" in err
    err = _refused(
        platform, admin, capsys, active.user_id,
        "accounts", "suspend", "--username", active.username, "--reason", "  ", "--operator", OPERATOR,
    )  # fmt: skip
    assert "--reason" in err
    err = _refused(
        platform, admin, capsys, active.user_id,
        "accounts", "suspend", "--username", active.username, "--reason", "x", "--operator", "a b",
    )  # fmt: skip
    assert "--operator 'a b'" in err


# --- show and list -------------------------------------------------------------------------------------


def test_show_and_list_by_tier_company_status_and_expiry(
    platform: Settings,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    soon = _today() + dt.timedelta(days=20)
    own = _company()  # not the module's: other tests add accounts to that one
    prime = make_account(Tier.PRIME, company=own, valid_until=soon)
    member = make_account(Tier.MEMBER, prime_username=prime.username)
    suspended = make_account(Tier.MEMBER, prime_username=prime.username, status="suspended")
    lapsed = make_account(Tier.PRIME, company=own, valid_until=_today() - dt.timedelta(days=3))
    company = own["corporate_number"]

    code, out, err = run(capsys, "accounts", "show", "--username", member.username)
    assert code == 0, err
    shown = dict(line.split(":", 1) for line in out.splitlines())
    assert shown["issued by (Prime)"].strip() == prime.username and shown["status"].strip() == "active"
    assert shown["valid until"].strip() == soon.isoformat()  # a Member's validity defaults to its Prime's

    def names(**filters: Any) -> set[str]:
        return {
            a.username
            for a in lifecycle.list_accounts(admin, ListFilter(corporate_number=company, **filters))
        }

    assert names() == {prime.username, member.username, suspended.username, lapsed.username}
    assert names(tier="member") == {member.username, suspended.username}
    assert names(status="suspended") == {suspended.username}
    assert names(status="expired") == {lapsed.username}
    assert names(status="active", tier="prime") == {prime.username}
    assert names(expiring_before=soon + dt.timedelta(days=1)) == {
        prime.username,
        member.username,
        suspended.username,
        lapsed.username,
    }
    assert names(expiring_before=soon) == {lapsed.username}

    code, out, err = run(capsys, "accounts", "list", "--company", company, "--status", "suspended")
    assert code == 0, err
    assert suspended.username in out and member.username not in out and "1 account(s)" in out

    code, _out, err = run(capsys, "accounts", "list", "--company", "1234567890123")
    assert code == 2 and "--company" in err and "1234567890123" in err


# --- renewal -------------------------------------------------------------------------------------------


def test_an_expired_prime_is_renewed_by_its_tier_period_and_signs_in_again(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME, valid_until=_today() - dt.timedelta(days=1))
    assert "account_expired" in (_sign_in(platform, definitions, "jgrants", prime).error_description or "")
    code, _out, err = run(
        capsys, "accounts", "renew", "--username", prime.username,
        "--reason", "re-verified seal certificate", "--operator", OPERATOR,
    )  # fmt: skip
    assert code == 0, err
    validity = definitions.tier(Tier.PRIME).validity
    assert validity is not None
    expected = validity.last_day(_today()).isoformat()
    assert _attributes(admin, prime.user_id)["valid_until"] == [expected]
    assert _sign_in(platform, definitions, "jgrants", prime).ok
    [entry] = cli_lifecycle.trail(platform).entries(prime.user_id)
    assert entry.action == "renew" and entry.changes["valid_until"][1] == expected


def test_renewal_before_expiry_follows_the_current_period(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, admin: Any
) -> None:
    current = _today() + dt.timedelta(days=30)
    prime = make_account(Tier.PRIME, valid_until=current)
    lifecycle.renew(
        admin,
        definitions,
        prime.username,
        lifecycle.Actor(OPERATOR, "renewal"),
        cli_lifecycle.trail(platform),
    )
    validity = definitions.tier(Tier.PRIME).validity
    assert validity is not None
    assert _attributes(admin, prime.user_id)["valid_until"] == [validity.last_day(current).isoformat()]


def test_a_members_renewal_needs_its_own_valid_prime(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    other_prime = make_account(Tier.PRIME)
    member = make_account(
        Tier.MEMBER, prime_username=prime.username, valid_until=_today() + dt.timedelta(days=5)
    )
    why = ("--reason", "annual renewal", "--operator", OPERATOR)
    renew = ("accounts", "renew", "--username", member.username, *why)

    err = _refused(platform, admin, capsys, member.user_id, *renew)
    assert "--approved-by" in err and prime.username in err
    err = _refused(platform, admin, capsys, member.user_id, *renew, "--approved-by", other_prime.username)
    assert other_prime.username in err and "not the Prime that issued" in err
    err = _refused(platform, admin, capsys, member.user_id, *renew, "--approved-by", "nobody-at-all")
    assert "'nobody-at-all': no such account" in err

    set_attributes(admin, prime.user_id, account_status="suspended")
    err = _refused(platform, admin, capsys, member.user_id, *renew, "--approved-by", prime.username)
    assert "suspended" in err
    set_attributes(
        admin,
        prime.user_id,
        account_status="active",
        valid_until=(_today() - dt.timedelta(days=1)).isoformat(),
    )
    err = _refused(platform, admin, capsys, member.user_id, *renew, "--approved-by", prime.username)
    assert "not valid" in err
    set_attributes(admin, prime.user_id, valid_until=(_today() + dt.timedelta(days=400)).isoformat())

    code, out, err = run(capsys, *renew, "--approved-by", prime.username)
    assert code == 0, err
    assert f"approved by: {prime.username}" in out
    [entry] = cli_lifecycle.trail(platform).entries(member.user_id)
    assert entry.approved_by is not None and prime.username not in entry.approved_by  # masked


def test_renewal_refused_for_the_wrong_tier_or_too_early(
    platform: Settings, make_account: MakeAccount, admin: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    entry = make_account(Tier.ENTRY)
    provisional = make_account(Tier.PROVISIONAL_PRIME, provisional_rps=("it-subsidy",))
    fresh = make_account(Tier.PRIME)
    prime = make_account(Tier.PRIME, valid_until=_today() + dt.timedelta(days=5))
    why = ("--reason", "renewal", "--operator", OPERATOR)

    err = _refused(
        platform, admin, capsys, entry.user_id, "accounts", "renew", "--username", entry.username, *why
    )
    assert entry.username in err and "no validity period" in err
    err = _refused(
        platform,
        admin,
        capsys,
        provisional.user_id,
        "accounts",
        "renew",
        "--username",
        provisional.username,
        *why,
    )
    assert "not renewable" in err
    err = _refused(
        platform, admin, capsys, fresh.user_id, "accounts", "renew", "--username", fresh.username, *why
    )
    assert "renewal opens on" in err
    err = _refused(
        platform, admin, capsys, prime.user_id,
        "accounts", "renew", "--username", prime.username, *why, "--approved-by", fresh.username,
    )  # fmt: skip
    assert "only a Member's renewal" in err


def test_new_accounts_get_their_tiers_validity(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, admin: Any
) -> None:
    prime = make_account(Tier.PRIME)
    validity = definitions.tier(Tier.PRIME).validity
    assert validity is not None
    assert _attributes(admin, prime.user_id)["valid_until"] == [validity.last_day(_today()).isoformat()]


# --- the audit trace -----------------------------------------------------------------------------------


def test_audit_trace_joins_keycloak_events_opa_decisions_and_operator_actions(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The 2020 question: which RPs did this Prime's Members sign in to, and who created them?"""
    start = dt.datetime.now(dt.UTC).replace(microsecond=0)
    prime = make_account(Tier.PRIME)
    member = make_account(Tier.MEMBER, prime_username=prime.username)
    assert _sign_in(platform, definitions, "jgrants", member).ok
    lifecycle.suspend(
        admin,
        member.username,
        lifecycle.Actor(OPERATOR, "misuse at another RP"),
        cli_lifecycle.trail(platform),
    )
    assert not _sign_in(platform, definitions, "jgrants", member).ok

    code, out, err = run(
        capsys,
        "audit",
        "trace",
        "--account",
        prime.username,
        "--members",
        "--json",
        "--since",
        start.isoformat(),
    )
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    mine = [r for r in rows if r["account"] == member.username]
    kinds = [(r["source"], r["what"]) for r in mine]
    assert ("keycloak-admin", "CREATE USER") in kinds  # who created it: the admin event
    logins = [r for r in mine if r["source"] == "keycloak-login" and r["what"] == "LOGIN"]
    assert logins and all("client=jgrants" in r["detail"] for r in logins)
    opa = [r for r in mine if r["source"] == "opa"]
    assert any(r["what"] == "bizid.access.decision allow" and "rp=jgrants" in r["detail"] for r in opa)
    assert any("account_suspended" in r["detail"] for r in opa)
    assert ("operator", "suspend") in kinds
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)
    # The suspension comes after the allowed sign-in and before the refusal.
    order = [k for k in kinds if k[0] in ("operator",) or k == ("opa", "bizid.access.decision allow")]
    assert order.index(("operator", "suspend")) > order.index(("opa", "bizid.access.decision allow"))

    code, _out, err = run(capsys, "audit", "trace", "--account", "no-such-account-x")
    assert code == 2 and "'no-such-account-x': no such account" in err
    code, _out, err = run(capsys, "audit", "trace", "--account", prime.username, "--since", "yesterday")
    assert code == 2 and "'yesterday'" in err


def test_an_expired_prime_issues_no_members_and_grants_no_delegations_until_renewed(
    platform: Settings,
    definitions: Definitions,
    make_account: MakeAccount,
    admin: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME, valid_until=_today() - dt.timedelta(days=1))
    firm = make_account(Tier.PRIME, company=_company())
    not_after = (dt.datetime.now(dt.UTC) + dt.timedelta(days=30)).replace(microsecond=0).isoformat()
    grant = (
        "delegation", "grant", "--principal", prime.username, "--delegate", firm.username,
        "--rp", "jgrants", "--procedure", "subsidy-application", "--not-after", not_after,
    )  # fmt: skip
    member = (
        "accounts", "create", "--tier", "member", "--username", f"m-{prime.username}",
        "--email", f"m-{prime.username}@example.test", "--first-name", "M", "--last-name", "Ember",
        "--prime", prime.username,
    )  # fmt: skip
    code, _out, err = run(capsys, *grant)
    assert code == 2 and "expired" in err
    code, _out, err = run(capsys, *member)
    assert code == 2 and "expired" in err

    lifecycle.renew(
        admin,
        definitions,
        prime.username,
        lifecycle.Actor(OPERATOR, "renewed"),
        cli_lifecycle.trail(platform),
    )
    code, _out, err = run(capsys, *grant)
    assert code == 0, err
    code, _out, err = run(capsys, *member)
    assert code == 0, err
