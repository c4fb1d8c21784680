"""`bizid accounts create` makes valid accounts and refuses bad input before writing anything."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from realm import accounts
from realm.accounts import AccountError, AccountSpec
from realm.models import Definitions, Tier
from scripts.cli import main as bizid
from scripts.keycloak_admin import admin_client
from scripts.settings import Settings
from tests.conftest import set_attributes

pytestmark = pytest.mark.platform

COMPANY = {"corporate_number": "7000012050002", "corporate_name": "Accounts Test K.K."}


def spec(tier: Tier, username: str, **fields: Any) -> AccountSpec:
    return AccountSpec(
        tier=tier,
        username=username,
        email=f"{username}@example.test",
        first_name="A",
        last_name="B",
        **fields,
    )


@pytest.fixture(scope="module")
def admin(platform: Settings) -> Any:
    return admin_client(platform)


@pytest.fixture(scope="module")
def prime(admin: Any, definitions: Definitions, run_id: str) -> accounts.CreatedAccount:
    return accounts.create(spec(Tier.PRIME, f"acct-prime-{run_id}", **COMPANY), definitions, admin)


def test_member_inherits_its_primes_company(
    admin: Any, definitions: Definitions, run_id: str, prime: accounts.CreatedAccount
) -> None:
    member = accounts.create(
        spec(Tier.MEMBER, f"acct-member-{run_id}", prime_username=prime.username, branch="Nagoya"),
        definitions,
        admin,
    )
    attrs = admin.get_user(member.user_id)["attributes"]
    assert attrs["tier"] == ["member"]
    assert attrs["corporate_number"] == [COMPANY["corporate_number"]]
    assert attrs["prime_username"] == [prime.username]
    assert attrs["branch"] == ["Nagoya"]
    assert member.totp_secret, "a Member must have a possession factor enrolled"


@pytest.mark.parametrize(
    ("tier", "fields", "message"),
    [
        (Tier.PRIME, {"corporate_number": "1000012050002", "corporate_name": "X"}, "expected 7"),
        (Tier.PRIME, {"corporate_name": "X"}, "--corporate-number: required"),
        (Tier.MEMBER, {}, "a Member is issued by a Prime"),
        (Tier.MEMBER, {"prime_username": "no-such-prime-account"}, "no such account"),
        (Tier.PROVISIONAL_PRIME, COMPANY, "name at least one"),
        (Tier.PROVISIONAL_PRIME, {**COMPANY, "provisional_rps": ("no-such-rp",)}, "unknown RP 'no-such-rp'"),
        (Tier.PROVISIONAL_PRIME, {**COMPANY, "provisional_rps": ("jgrants",)}, "does not accept provisional"),
        (Tier.ENTRY, {"provisional_rps": ("seminar",)}, "only a provisional Prime"),
        (Tier.ENTRY, {"branch": "Kyoto"}, "only a Member belongs to a branch"),
        (Tier.PRIME, {**COMPANY, "totp": False}, "must have a possession factor"),
    ],
)
def test_invalid_input_is_refused_and_nothing_is_written(
    admin: Any, definitions: Definitions, run_id: str, tier: Tier, fields: dict[str, Any], message: str
) -> None:
    username = f"acct-bad-{run_id}-{abs(hash((tier, message))) % 10_000}"
    with pytest.raises(AccountError, match=message):
        accounts.create(spec(tier, username, **fields), definitions, admin)
    assert admin.get_users({"username": username, "exact": True}) == []


def test_a_member_records_its_primes_own_username(
    admin: Any, definitions: Definitions, run_id: str, prime: accounts.CreatedAccount
) -> None:
    """Keycloak usernames are lower-case; the record the policy compares must name the Prime exactly."""
    member = accounts.create(
        spec(Tier.MEMBER, f"acct-member-case-{run_id}", prime_username=prime.username.upper()),
        definitions,
        admin,
    )
    assert admin.get_user(member.user_id)["attributes"]["prime_username"] == [prime.username]


def test_a_provisional_prime_cannot_create_members(admin: Any, definitions: Definitions, run_id: str) -> None:
    provisional = accounts.create(
        spec(Tier.PROVISIONAL_PRIME, f"acct-prov-{run_id}", **COMPANY, provisional_rps=("it-subsidy",)),
        definitions,
        admin,
    )
    with pytest.raises(AccountError, match="only a Prime creates Members"):
        accounts.create(
            spec(Tier.MEMBER, f"acct-prov-member-{run_id}", prime_username=provisional.username),
            definitions,
            admin,
        )


def test_cli_reports_bad_input_with_exit_code_2(
    platform: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code = bizid(
        [
            "accounts",
            "create",
            "--tier",
            "prime",
            "--username",
            "cli-bad",
            "--email",
            "c@example.test",
            "--first-name",
            "A",
            "--last-name",
            "B",
            "--corporate-number",
            "1234567890123",
            "--corporate-name",
            "X",
        ]
    )
    assert code == 2
    assert "--corporate-number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"account_status": "suspended"}, "the Prime is suspended"),
        ({"valid_until": (dt.date.today() - dt.timedelta(days=2)).isoformat()}, "the Prime expired on"),
        ({"valid_until": None}, "the Prime has no validity date"),
    ],
    ids=["suspended-prime", "expired-prime", "prime-without-validity"],
)
def test_a_suspended_or_expired_prime_cannot_create_members(
    admin: Any,
    definitions: Definitions,
    run_id: str,
    capsys: pytest.CaptureFixture[str],
    change: dict[str, str | None],
    message: str,
) -> None:
    """The CLI refuses, before writing anything, a Member the access policy would refuse (issue 10, §2)."""
    name = f"{next(iter(change))}-{abs(hash(message)) % 1000}"
    prime = accounts.create(spec(Tier.PRIME, f"acct-{name}-prime-{run_id}", **COMPANY), definitions, admin)
    set_attributes(admin, prime.user_id, **change)  # the operator suspends / expires the Prime
    username = f"acct-{name}-member-{run_id}"
    with pytest.raises(AccountError, match=f"--prime '{prime.username}': {message}"):
        accounts.create(spec(Tier.MEMBER, username, prime_username=prime.username), definitions, admin)
    assert admin.get_users({"username": username, "exact": True}) == []

    code = bizid(
        [
            "accounts", "create", "--tier", "member", "--username", username,
            "--email", f"{username}@example.test", "--first-name", "A", "--last-name", "B",
            "--prime", prime.username,
        ]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert f"--prime '{prime.username}'" in err and message in err
    assert "Traceback" not in err
    assert admin.get_users({"username": username, "exact": True}) == []
