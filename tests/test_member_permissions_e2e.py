"""`bizid members permit|revoke|show` against the real Keycloak and OPA (issue 13 §2, per-Member permissions).

A Member signs in (authorization code + PKCE through the real login pages) only at the RPs its own Prime
permitted; elsewhere the access policy refuses it with member_not_permitted, right after the password.
Commands run as an operator runs them (`scripts.cli.main`); bad input is refused with the value named and
writes nothing (attributes and the operator audit trail compared before and after).
"""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pyotp
import pytest

from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import LoginResult
from scripts import cli_lifecycle
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client, set_attributes
from tests.conftest import run_cli as run

pytestmark = pytest.mark.platform

OPERATOR = "ops.test"


_USED_CODES: dict[str, str] = {}


def fresh_code(account: CreatedAccount) -> str:
    """A TOTP code not used before by this account: Keycloak accepts each code once, so a second sign-in
    in the same 30-second step waits for the next code (a wait for a state, not a timing threshold)."""
    totp = pyotp.TOTP(account.totp_base32 or "")
    code = totp.now()
    while code == _USED_CODES.get(account.username):
        time.sleep(1)
        code = totp.now()
    _USED_CODES[account.username] = code
    return code


def sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    procedure: str | None = None,
) -> LoginResult:
    return new_browser(platform).login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=lambda: fresh_code(account),
        scope="openid profile",
        extra={"procedure": procedure} if procedure else None,
    )


def _permissions(admin: Any, user_id: str) -> list[str]:
    return sorted((admin.get_user(user_id).get("attributes") or {}).get("member_permissions") or [])


def _trail_text(platform: Settings) -> str:
    path = cli_lifecycle.trail_path(platform)
    return path.read_text() if path.exists() else ""


def _members(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    return (
        run(capsys, "members", *argv, "--operator", OPERATOR)
        if argv[0] != "show"
        else run(capsys, "members", *argv)
    )


def test_a_member_signs_in_only_where_its_prime_permitted(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    make_account: MakeAccount,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    member = make_account(Tier.MEMBER, prime_username=prime.username, member_permissions=())
    assert _permissions(admin, member.user_id) == []

    # Fail closed: a Member with no permission uses no RP.
    refused = sign_in(platform, definitions, "jgrants", member)
    assert refused.tokens is None, "a Member without any permission was admitted"
    assert refused.error == "access_denied", refused
    assert "member_not_permitted" in (refused.error_description or ""), refused.error_description
    assert not refused.otp_prompted, "refused only after the second factor"

    code, out, err = _members(
        capsys, "permit", "--prime", prime.username, "--member", member.username,
        "--rp", "jgrants", "--procedure", "subsidy-application",
    )  # fmt: skip
    assert code == 0, err
    assert _permissions(admin, member.user_id) == ["jgrants/subsidy-application"]
    assert sign_in(platform, definitions, "jgrants", member, "subsidy-application").tokens is not None
    at_shaho = sign_in(platform, definitions, "shaho", member)
    assert at_shaho.tokens is None and "member_not_permitted" in (at_shaho.error_description or "")

    code, out, err = _members(
        capsys, "permit", "--prime", prime.username, "--member", member.username, "--rp", "shaho"
    )
    assert code == 0, err
    assert sign_in(platform, definitions, "shaho", member).tokens is not None
    code, out, _ = _members(capsys, "show", "--prime", prime.username, "--member", member.username)
    assert code == 0 and "shaho" in out and "subsidy-application" in out

    code, out, err = _members(
        capsys, "revoke", "--prime", prime.username, "--member", member.username, "--rp", "jgrants"
    )
    assert code == 0, err
    assert _permissions(admin, member.user_id) == ["shaho"]
    again = sign_in(platform, definitions, "jgrants", member)
    assert again.tokens is None and "member_not_permitted" in (again.error_description or "")

    entries = [json.loads(line) for line in _trail_text(platform).splitlines()]
    mine = [e for e in entries if e["account_id"] == member.user_id]
    assert [e["action"] for e in mine] == ["member-permit", "member-permit", "member-revoke"]
    assert all(e["operator"] == OPERATOR and e["approved_by"] for e in mine)


def test_bad_permission_commands_are_refused_and_write_nothing(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    make_account: MakeAccount,
    capsys: pytest.CaptureFixture[str],
) -> None:
    prime = make_account(Tier.PRIME)
    member = make_account(Tier.MEMBER, prime_username=prime.username, member_permissions=("seminar",))
    other_prime = make_account(Tier.PRIME)
    expired_prime = make_account(Tier.PRIME)
    expired_member = make_account(
        Tier.MEMBER, prime_username=expired_prime.username, member_permissions=("seminar",)
    )
    yesterday = (
        dt.datetime.now(dt.timezone(dt.timedelta(hours=9))).date() - dt.timedelta(days=1)
    ).isoformat()
    set_attributes(admin, expired_prime.user_id, valid_until=yesterday)
    entry = make_account(Tier.ENTRY)

    p, m = prime.username, member.username
    ep, em = expired_prime.username, expired_member.username
    no_such = "no such account"
    cases: list[tuple[list[str], str]] = [
        (["--prime", other_prime.username, "--member", m, "--rp", "shaho"], "is not the Prime"),
        (["--prime", m, "--member", m, "--rp", "shaho"], "is not the Prime that issued"),
        (["--prime", "no-such-prime-x", "--member", m, "--rp", "shaho"], f"'no-such-prime-x': {no_such}"),
        (["--prime", p, "--member", "no-such-member-x", "--rp", "shaho"], f"'no-such-member-x': {no_such}"),
        (["--prime", p, "--member", entry.username, "--rp", "seminar"], "Members only"),
        (["--prime", p, "--member", m, "--rp", "no-such-rp"], "--rp 'no-such-rp'"),
        (["--prime", p, "--member", m, "--rp", "jgrants", "--procedure", "nope"], "--procedure 'nope'"),
        (["--prime", p, "--member", m, "--rp", "seminar"], "already permitted"),
        (["--prime", ep, "--member", em, "--rp", "shaho"], "not valid"),
        (["--prime", p, "--member", m, "--rp", "shaho", "--reason", " "], "--reason"),
    ]  # fmt: skip
    revoke_cases: list[tuple[list[str], str]] = [
        (["--prime", p, "--member", m, "--rp", "shaho"], "has no permission there"),
        (
            ["--prime", p, "--member", m, "--rp", "jgrants", "--procedure", "subsidy-report"],
            "has no permission",
        ),
    ]
    trail_before = _trail_text(platform)
    before = {a.user_id: _permissions(admin, a.user_id) for a in (member, expired_member)}
    for action, group in (("permit", cases), ("revoke", revoke_cases)):
        for argv, message in group:
            code, out, err = _members(capsys, action, *argv)
            assert code == 2, (action, argv, out)
            assert message in err, (action, argv, err)
    assert {a.user_id: _permissions(admin, a.user_id) for a in (member, expired_member)} == before
    assert _trail_text(platform) == trail_before, "a refused command wrote to the audit trail"
