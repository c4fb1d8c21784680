"""`bizid accounts change-representative` against the real Keycloak, OPA and mail server (issue 13 §2).

The old Prime is retired (suspended): without the hand-over its Members would be refused (prime_suspended)
and its delegations void (grantor inactive). After the change the Member signs in under the new Prime, the
delegate acts on a delegation now granted by the new Prime, the old Prime is refused, the people concerned
are mailed; a failure half-way puts every account back, and bad input writes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from realm import delegation, representative_change
from realm.accounts import CreatedAccount
from realm.delegation import GrantSpec
from realm.lifecycle import Actor, LifecycleError
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import LoginResult
from scripts import cli, cli_lifecycle
from scripts.mailbox import Mailbox
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client, set_attributes
from tests.test_lifecycle import _company
from tests.test_member_permissions_e2e import fresh_code

pytestmark = pytest.mark.platform

OPERATOR = "ops.test"
FIRM = {"corporate_number": "7000012050002", "corporate_name": "Yamada Tax Office", "address": "Osaka"}
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    delegation_id: str | None = None,
) -> LoginResult:
    return new_browser(platform).login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=lambda: fresh_code(account),
        # A delegated sign-in names the delegated procedure (docs/rp-guide.md §6).
        extra={"delegation": delegation_id, "procedure": "subsidy-application"} if delegation_id else None,
    )


def _company_of_two(make_account: MakeAccount) -> tuple[CreatedAccount, CreatedAccount, CreatedAccount]:
    company = _company()
    old = make_account(Tier.PRIME, "old-rep", company=company)
    new = make_account(Tier.PRIME, "new-rep", company=company)
    member = make_account(Tier.MEMBER, prime_username=old.username)
    return old, new, member


def _attrs(admin: Any, *accounts: CreatedAccount) -> list[dict[str, Any]]:
    return [admin.get_user(a.user_id).get("attributes") or {} for a in accounts]


def _trail_text(platform: Settings) -> str:
    path = cli_lifecycle.trail_path(platform)
    return path.read_text() if path.exists() else ""


def test_the_new_prime_takes_over_members_and_delegations(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount
) -> None:
    old, new, member = _company_of_two(make_account)
    delegate = make_account(Tier.PRIME, "zeirishi", **FIRM)
    spec = GrantSpec(old.username, delegate.username, "jgrants", ("subsidy-application",),
                     NOW + dt.timedelta(days=30), not_before=NOW)  # fmt: skip
    delegation_id = delegation.grant(spec, definitions, admin).record.id
    assert sign_in(platform, definitions, "jgrants", member).tokens is not None

    argv = ["accounts", "change-representative", "--old", old.username, "--new", new.username,
            "--reason", "registry extract checked", "--operator", OPERATOR]  # fmt: skip
    assert cli.main(argv) == 0

    member_attrs, delegate_attrs, old_attrs = _attrs(admin, member, delegate, old)
    assert member_attrs["prime_username"] == [new.username]
    records = [json.loads(v) for v in delegate_attrs["delegations"]]
    assert [r["granted_by"] for r in records if r["id"] == delegation_id] == [new.username]
    assert old_attrs["account_status"] == ["suspended"]

    # Real sign-ins: the Member under its new Prime, the delegate on the handed-over delegation.
    assert sign_in(platform, definitions, "jgrants", member).tokens is not None, "Member locked out"
    acting = sign_in(platform, definitions, "jgrants", delegate, delegation_id)
    assert acting.tokens is not None, acting
    refused = sign_in(platform, definitions, "jgrants", old)
    assert refused.tokens is None and "account_suspended" in (refused.error_description or "")

    mailbox = Mailbox(platform.mail_api_url)
    for account in (old, new, member):
        mail = mailbox.wait_for(f"{account.username}@example.test", "The representative was changed")
        assert new.username in mail.text
    entries = [json.loads(line) for line in _trail_text(platform).splitlines()]
    mine = [e for e in entries if e["account_id"] == old.user_id and e["action"] == "representative-change"]
    assert len(mine) == 1 and mine[0]["changes"]["members_handed_over"] == [0, 1]
    assert old.username not in json.dumps(mine[0]), "a username in clear in the audit trail"


def test_a_failure_half_way_puts_every_account_back(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    old, new, member = _company_of_two(make_account)
    second = make_account(Tier.MEMBER, prime_username=old.username)
    before, trail_before = _attrs(admin, old, new, member, second), _trail_text(platform)
    real_put = representative_change._put
    calls = {"n": 0}

    def failing_put(admin_: Any, user_id: str, attribute: str, values: list[str] | None) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the first Member is handed over, the second write fails
            raise RuntimeError("Keycloak went away")
        real_put(admin_, user_id, attribute, values)

    monkeypatch.setattr(representative_change, "_put", failing_put)
    with pytest.raises(LifecycleError, match="put back as it was"):
        representative_change.change_representative(
            admin, old.username, new.username, Actor(OPERATOR, "test"), cli_lifecycle.trail(platform)
        )
    assert calls["n"] > 2, "nothing was written before the failure: the test shows no compensation"
    assert _attrs(admin, old, new, member, second) == before
    assert _trail_text(platform) == trail_before


def test_bad_changes_are_refused_and_write_nothing(
    platform: Settings, admin: Any, make_account: MakeAccount, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new, member = _company_of_two(make_account)
    other = make_account(Tier.PRIME, "other-co", company=_company())
    suspended = make_account(Tier.PRIME, "suspended-rep", company=_company())
    entry = make_account(Tier.ENTRY)
    set_attributes(admin, suspended.user_id, account_status="suspended")
    cases = [
        (old.username, old.username, "is the old Prime itself"),
        (old.username, other.username, "is not of the old Prime's company"),
        (old.username, member.username, "not a Prime"),
        (entry.username, new.username, "not a Prime"),
        (old.username, "no-such-prime-x", "'no-such-prime-x': no such account"),
        (old.username, suspended.username, "the new Prime is suspended"),
    ]
    before, trail_before = _attrs(admin, old, new, member), _trail_text(platform)
    for old_name, new_name, message in cases:
        code = cli.main(["accounts", "change-representative", "--old", old_name, "--new", new_name,
                         "--reason", "x", "--operator", OPERATOR])  # fmt: skip
        err = capsys.readouterr().err
        assert code == 2 and message in err, (old_name, new_name, err)
    assert _attrs(admin, old, new, member) == before
    assert _trail_text(platform) == trail_before
