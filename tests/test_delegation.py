"""`bizid delegation grant|revoke|list` and `bizid licence record|revoke|list` against the real Keycloak.

Every invalid input is refused with exit code 2 and a message naming the option and value, and nothing is
written (the accounts' attributes are compared before and after). Valid commands store exactly the
contract's records (docs/architecture.md), revocation keeps the record, and a corrupt stored value is
reported and kept, not crashed on or dropped.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from realm.accounts import CreatedAccount
from realm.models import Tier
from scripts import cli
from tests.conftest import MakeAccount

pytestmark = pytest.mark.platform

PRINCIPAL_COMPANY = {
    "corporate_number": "5010401089998",
    "corporate_name": "Principal K.K.",
    "representative_name": "Principal Representative",
    "address": "Tokyo",
}
FIRM_COMPANY = {"corporate_number": "7000012050002", "corporate_name": "Tax Firm", "address": "Osaka"}


@pytest.fixture(scope="module")
def default_company() -> dict[str, str]:
    return PRINCIPAL_COMPANY


FUTURE = (dt.date.today() + dt.timedelta(days=60)).isoformat()

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def bizid(capsys: pytest.CaptureFixture[str]) -> Iterator[Run]:
    """Run the `bizid` CLI in-process (its real error handling); returns (exit code, stdout, stderr)."""

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            code = cli.main(list(argv))
        except SystemExit as exc:  # argparse rejects an option value
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield run


def attributes(admin: Any, account: CreatedAccount) -> dict[str, Any]:
    return dict(admin.get_user(account.user_id).get("attributes") or {})


def stored(admin: Any, account: CreatedAccount, attribute: str) -> list[dict[str, Any]]:
    return [json.loads(v) for v in attributes(admin, account).get(attribute, [])]


@pytest.fixture(scope="module")
def people(make_account: MakeAccount) -> dict[str, CreatedAccount]:
    prime = make_account(Tier.PRIME, "principal")
    return {
        "prime": prime,
        "firm": make_account(Tier.PRIME, "firm", **FIRM_COMPANY),
        "entry": make_account(Tier.ENTRY, "entry"),
        "member": make_account(Tier.MEMBER, "member", prime_username=prime.username),
        "provisional": make_account(Tier.PROVISIONAL_PRIME, "prov", provisional_rps=("it-subsidy",)),
        "sole": make_account(
            Tier.PRIME, "sole", corporate_type="sole_proprietor", corporate_number=None, corporate_name="Sole"
        ),
        "suspended": make_account(Tier.PRIME, "susp", status="suspended"),
    }


def grant_args(principal: str, delegate: str, **options: str) -> list[str]:
    args = {"rp": "jgrants", "procedure": "subsidy-application", "not-after": FUTURE, **options}
    argv = ["delegation", "grant", "--principal", principal, "--delegate", delegate]
    for key, value in args.items():
        argv += [f"--{key}", value]
    return argv


def test_grant_stores_the_contract_record_on_the_delegate_and_prints_its_id(
    bizid: Run, admin: Any, people: dict[str, CreatedAccount]
) -> None:
    prime, firm = people["prime"], people["firm"]
    code, out, err = bizid(
        *grant_args(prime.username, firm.username, **{"not-before": "2026-01-01"}),
        "--procedure",
        "subsidy-report",
    )
    assert code == 0, err
    delegation_id = out.strip()
    uuid.UUID(delegation_id)
    assert "subsidy-report" in err and "licence" in err  # warned: no licence on record yet
    [record] = [r for r in stored(admin, firm, "delegations") if r["id"] == delegation_id]
    assert record == {
        "id": delegation_id,
        "principal_corporate_number": PRINCIPAL_COMPANY["corporate_number"],
        "granted_by": prime.username,
        "delegate_username": firm.username,
        "rp": "jgrants",
        "procedures": ["subsidy-application", "subsidy-report"],
        "not_before": "2025-12-31T15:00:00Z",  # 2026-01-01 00:00 JST
        "not_after": f"{FUTURE}T14:59:59Z",  # the last day, 23:59:59 JST
        "revoked": False,
    }
    assert stored(admin, prime, "delegations") == []  # stored on the delegate only

    code, out, _ = bizid("delegation", "list", "--delegate", firm.username)
    assert code == 0 and delegation_id in out and "active" in out
    code, out, _ = bizid(
        "delegation", "list", "--principal", prime.username, "--search", prime.username[-12:]
    )
    assert code == 0 and delegation_id not in out  # the search narrows to accounts matching it
    code, out, _ = bizid(
        "delegation", "list", "--principal", prime.username, "--search", firm.username, "--json"
    )
    assert code == 0 and [r["id"] for r in json.loads(out)] == [delegation_id]

    code, out, err = bizid("delegation", "revoke", "--id", delegation_id, "--delegate", firm.username)
    assert code == 0, err
    [record] = [r for r in stored(admin, firm, "delegations") if r["id"] == delegation_id]
    assert record["revoked"] is True  # kept for the audit trail
    code, _, err = bizid("delegation", "revoke", "--id", delegation_id, "--delegate", firm.username)
    assert code == 2 and "already revoked" in err


def _grant(principal: str, delegate: str, **options: str) -> Callable[[dict[str, CreatedAccount]], list[str]]:
    """argv for a grant by people[principal] to people[delegate] (a name not in people is used as is)."""

    def argv(people: dict[str, CreatedAccount]) -> list[str]:
        def name(key: str) -> str:
            return people[key].username if key in people else key

        return grant_args(name(principal), name(delegate), **options)

    return argv


INVALID_GRANTS: list[tuple[str, Callable[[dict[str, CreatedAccount]], list[str]], str]] = [
    ("unknown principal", _grant("nobody-xyz", "firm"), "--principal 'nobody-xyz': no such account"),
    ("unknown delegate", _grant("prime", "nobody-xyz"), "--delegate 'nobody-xyz': no such account"),
    ("entry principal", _grant("entry", "firm"), "'entry' account; only a Prime can delegate"),
    ("member principal", _grant("member", "firm"), "'member' account; only a Prime can delegate"),
    ("provisional principal", _grant("provisional", "firm"), "a provisional Prime cannot delegate"),
    ("suspended principal", _grant("suspended", "firm"), "the account is suspended"),
    ("sole proprietor", _grant("sole", "firm"), "has no corporate number"),
    ("to oneself", _grant("prime", "prime"), "cannot delegate to itself"),
    ("unknown rp", _grant("prime", "firm", rp="nope"), "--rp 'nope': unknown RP"),
    (
        "rp without procedures",
        _grant("prime", "firm", rp="seminar"),
        "this RP registers no delegable procedures",
    ),
    (
        "procedure of another rp",
        _grant("prime", "firm", procedure="insurance-notification"),
        "--procedure 'insurance-notification': not a procedure of jgrants",
    ),
    ("delegate tier not accepted", _grant("prime", "entry"), "which jgrants does not accept"),
    (
        "end before start",
        _grant("prime", "firm", **{"not-before": FUTURE, "not-after": "2026-01-01"}),
        "--not-after '2026-01-01T14:59:59Z': must be after --not-before",
    ),
    (
        "already over",
        _grant("prime", "firm", **{"not-before": "2019-01-01", "not-after": "2020-01-01"}),
        "already in the past",
    ),
    ("not a date", _grant("prime", "firm", **{"not-after": "next week"}), "'next week' is not a date"),
]


@pytest.mark.parametrize(("case", "argv", "message"), INVALID_GRANTS, ids=[c[0] for c in INVALID_GRANTS])
def test_an_invalid_grant_is_refused_by_name_and_writes_nothing(
    bizid: Run,
    admin: Any,
    people: dict[str, CreatedAccount],
    case: str,
    argv: Callable[[dict[str, CreatedAccount]], list[str]],
    message: str,
) -> None:
    before = {name: attributes(admin, account) for name, account in people.items()}
    code, out, err = bizid(*argv(people))
    assert code == 2, (case, out, err)
    assert message in err, err
    assert out == ""
    assert {name: attributes(admin, account) for name, account in people.items()} == before


def test_revoke_and_list_refuse_bad_input(bizid: Run, people: dict[str, CreatedAccount]) -> None:
    firm = people["firm"].username
    code, _, err = bizid("delegation", "revoke", "--id", "not-a-uuid", "--delegate", firm)
    assert code == 2 and "--id 'not-a-uuid': not a delegation id" in err
    missing = str(uuid.uuid4())
    code, _, err = bizid("delegation", "revoke", "--id", missing, "--delegate", firm)
    assert code == 2 and f"--id '{missing}': no delegation with that id" in err
    code, _, err = bizid("delegation", "list", "--delegate", "nobody-xyz")
    assert code == 2 and "--delegate 'nobody-xyz': no such account" in err
    code, _, err = bizid("delegation", "list", "--delegate", firm, "--search", "x")
    assert code == 2 and "--search: only with --principal" in err


def test_licences_are_recorded_revoked_and_validated(
    bizid: Run, admin: Any, make_account: MakeAccount
) -> None:
    holder = make_account(Tier.PRIME, "zeirishi", **FIRM_COMPANY)
    code, out, err = bizid(
        "licence", "record", "--holder", holder.username, "--kind", "zeirishi", "--number", "123456",
        "--not-after", FUTURE,
    )  # fmt: skip
    assert code == 0, err
    assert stored(admin, holder, "licences") == [
        {
            "kind": "zeirishi",
            "number": "123456",
            "holder_username": holder.username,
            "not_after": f"{FUTURE}T14:59:59Z",
            "revoked": False,
        }
    ]
    before = attributes(admin, holder)
    for argv, message in [
        (["--kind", "bengoshi", "--number", "1"], "--kind 'bengoshi': not a licence kind"),
        (["--kind", "zeirishi", "--number", "12 34"], "--number '12 34'"),
        (["--kind", "zeirishi", "--number", "123456"], "already has this zeirishi licence"),
        (["--kind", "zeirishi", "--number", "9", "--not-after", "2020-01-01"], "already in the past"),
    ]:
        code, _, err = bizid("licence", "record", "--holder", holder.username, *argv)
        assert code == 2 and message in err, (argv, err)
    code, _, err = bizid("licence", "record", "--holder", "nobody-xyz", "--kind", "zeirishi", "--number", "1")
    assert code == 2 and "--holder 'nobody-xyz': no such account" in err
    code, _, err = bizid(
        "licence", "revoke", "--holder", holder.username, "--kind", "zeirishi", "--number", "999"
    )
    assert code == 2 and "no zeirishi licence with that number" in err
    assert attributes(admin, holder) == before

    code, _, err = bizid(
        "licence", "revoke", "--holder", holder.username, "--kind", "zeirishi", "--number", "123456"
    )
    assert code == 0, err
    [licence] = stored(admin, holder, "licences")
    assert licence["revoked"] is True and licence["number"] == "123456"
    code, _, err = bizid(
        "licence", "revoke", "--holder", holder.username, "--kind", "zeirishi", "--number", "123456"
    )
    assert code == 2 and "already revoked" in err
    code, out, _ = bizid("licence", "list", "--holder", holder.username)
    assert code == 0 and "123456" in out and "revoked" in out


def test_a_corrupt_stored_value_is_reported_and_kept(
    bizid: Run, admin: Any, people: dict[str, CreatedAccount], make_account: MakeAccount
) -> None:
    delegate = make_account(Tier.PRIME, "corrupt", **FIRM_COMPANY)
    user = admin.get_user(delegate.user_id)
    user["attributes"]["delegations"] = ['{"id": "broken"', '{"id": "x", "rp": "jgrants"}']
    admin.update_user(delegate.user_id, user)

    code, out, err = bizid("delegation", "list", "--delegate", delegate.username)
    assert code == 0 and "no delegations" in out
    assert "not JSON" in err and "Field required" in err

    code, out, err = bizid(*grant_args(people["prime"].username, delegate.username))
    assert code == 0, err
    assert "kept as is" in err
    values = attributes(admin, delegate)["delegations"]
    assert values[:2] == ['{"id": "broken"', '{"id": "x", "rp": "jgrants"}']
    assert json.loads(values[2])["id"] == out.strip()
