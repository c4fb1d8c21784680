"""A delegate signs in for the principal company (委任) through a real sign-in, and only while it may.

The RP selects the delegation with `delegation=<id>` in the authorization request. Valid: the sign-in
succeeds and the ID token, access token and userinfo carry the `delegation` claim naming the principal
company and the procedures. Refused (access_denied, `delegation_invalid`) when the delegation expired, was
revoked, is for another RP, is unknown, its procedure needs a licence the delegate does not hold (or that
lapsed), or the granting Prime was suspended since.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pyotp
import pytest

from realm import delegation
from realm.accounts import CreatedAccount
from realm.delegation import DelegationRecord, GrantSpec, LicenceRecord
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import LoginResult, decode_jwt_payload
from scripts.sample_rp.client import Refused, SignedIn
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client, sample_rp_sign_in

pytestmark = pytest.mark.platform

PRINCIPAL = {"corporate_number": "5010401089998", "corporate_name": "Principal K.K.", "address": "Tokyo"}
FIRM = {"corporate_number": "7000012050002", "corporate_name": "Yamada Tax Office", "address": "Osaka"}
NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


@pytest.fixture(scope="module")
def principal(make_account: MakeAccount) -> CreatedAccount:
    return make_account(Tier.PRIME, "principal", **PRINCIPAL)


def delegate(make_account: MakeAccount) -> CreatedAccount:
    """A Prime of an outside firm (a new one per sign-in: a TOTP code is accepted once)."""
    return make_account(Tier.PRIME, "zeirishi", **FIRM)


def grant(
    admin: Any, definitions: Definitions, principal: CreatedAccount, to: CreatedAccount, rp: str, *procs: str
) -> str:
    spec = GrantSpec(principal.username, to.username, rp, procs, NOW + dt.timedelta(days=30), not_before=NOW)
    return delegation.grant(spec, definitions, admin).record.id


def sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    delegation_id: str | None,
    procedure: str | None = "subsidy-application",
) -> LoginResult:
    """A delegated sign-in names the procedure (docs/rp-guide.md §6): by default the one most tests grant."""
    extra = {"delegation": delegation_id} if delegation_id else {}
    if delegation_id and procedure:
        extra["procedure"] = procedure
    return new_browser(platform).login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=lambda: pyotp.TOTP(account.totp_base32 or "").now(),
        extra=extra or None,
    )


def assert_refused(result: LoginResult, code: str) -> None:
    assert result.tokens is None, f"signed in although the delegation is invalid ({code})"
    assert result.error == "access_denied", result
    assert "delegation_invalid" in (result.error_description or ""), result.error_description
    assert code in (result.error_description or ""), result.error_description


def test_a_delegate_acts_for_the_principal_with_a_valid_delegation(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    principal: CreatedAccount,
    make_account: MakeAccount,
) -> None:
    tax = delegate(make_account)
    delegation_id = grant(admin, definitions, principal, tax, "jgrants", "subsidy-application")
    # The RP side is the sample RP (Authlib): it asks for the delegation as any RP would.
    result = sample_rp_sign_in(
        platform, definitions, "jgrants", tax, delegation=delegation_id, procedure="subsidy-application"
    )
    assert isinstance(result, SignedIn), result
    expected = {
        "delegation_id": delegation_id,
        "principal": {"corporate_number": PRINCIPAL["corporate_number"], "corporate_name": "Principal K.K."},
        "procedures": [{"id": "subsidy-application", "name": "Subsidy application", "licences": []}],
        "not_before": delegation.rfc3339(NOW),
        "not_after": delegation.rfc3339(NOW + dt.timedelta(days=30)),
    }
    id_token = result.id_token
    access_token = decode_jwt_payload(result.tokens["access_token"])
    userinfo = result.userinfo
    assert "delegation" not in access_token  # released claims never go into the access token
    for where, claims in (("id token", id_token), ("userinfo", userinfo)):
        assert claims.get("delegation") == expected, where
        assert claims.get("procedure") == "subsidy-application", where
        # The delegate's own claims describe the delegate's firm, not the principal.
        assert claims["corporate_number"] == FIRM["corporate_number"], where


def test_without_selecting_it_the_delegate_signs_in_as_itself(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    principal: CreatedAccount,
    make_account: MakeAccount,
) -> None:
    tax = delegate(make_account)
    grant(admin, definitions, principal, tax, "jgrants", "subsidy-application")
    result = sign_in(platform, definitions, "jgrants", tax, None)
    assert result.tokens is not None, result
    assert "delegation" not in decode_jwt_payload(result.tokens["id_token"])


def test_a_licensed_procedure_needs_a_valid_licence(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    principal: CreatedAccount,
    make_account: MakeAccount,
) -> None:
    licensed = delegate(make_account)
    delegation.record_licence(
        definitions, admin, licensed.username, "zeirishi", "Z-1001", NOW + dt.timedelta(days=365)
    )
    delegation_id = grant(admin, definitions, principal, licensed, "jgrants", "subsidy-report")
    result = sign_in(platform, definitions, "jgrants", licensed, delegation_id, "subsidy-report")
    assert result.tokens is not None, result
    claim = decode_jwt_payload(result.tokens["id_token"])["delegation"]
    assert claim["procedures"] == [
        {
            "id": "subsidy-report",
            "name": "Subsidy performance report",
            "licences": [{"kind": "zeirishi", "number": "Z-1001"}],
        }
    ]

    unlicensed = delegate(make_account)
    delegation_id = grant(admin, definitions, principal, unlicensed, "jgrants", "subsidy-report")
    assert_refused(
        sign_in(platform, definitions, "jgrants", unlicensed, delegation_id, "subsidy-report"),
        "licence_required",
    )

    revoked = delegate(make_account)
    delegation.record_licence(definitions, admin, revoked.username, "gyoseishoshi", "G-77", None)
    delegation_id = grant(admin, definitions, principal, revoked, "jgrants", "subsidy-report")
    delegation.revoke_licence(definitions, admin, revoked.username, "gyoseishoshi", "G-77")
    assert_refused(
        sign_in(platform, definitions, "jgrants", revoked, delegation_id, "subsidy-report"),
        "licence_required",
    )

    lapsed = delegate(make_account)
    delegation_id = grant(admin, definitions, principal, lapsed, "jgrants", "subsidy-report")
    record = LicenceRecord(
        kind="zeirishi",
        number="Z-9",
        holder_username=lapsed.username,
        not_after=NOW - dt.timedelta(days=1),
        revoked=False,
    )
    delegation.write_values(admin, admin.get_user(lapsed.user_id), "licences", [record.to_attribute()])
    assert_refused(
        sign_in(platform, definitions, "jgrants", lapsed, delegation_id, "subsidy-report"), "licence_required"
    )

    wrong_kind = delegate(make_account)
    delegation.record_licence(definitions, admin, wrong_kind.username, "sharoshi", "S-5", None)
    delegation_id = grant(admin, definitions, principal, wrong_kind, "jgrants", "subsidy-report")
    assert_refused(
        sign_in(platform, definitions, "jgrants", wrong_kind, delegation_id, "subsidy-report"),
        "licence_required",
    )


def test_a_revoked_delegation_is_refused(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    principal: CreatedAccount,
    make_account: MakeAccount,
) -> None:
    tax = delegate(make_account)
    delegation_id = grant(admin, definitions, principal, tax, "jgrants", "subsidy-application")
    delegation.revoke(admin, delegation_id, tax.username)
    assert_refused(sign_in(platform, definitions, "jgrants", tax, delegation_id), "revoked")


def test_an_expired_delegation_is_refused(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    principal: CreatedAccount,
    make_account: MakeAccount,
) -> None:
    tax = delegate(make_account)
    # The CLI refuses to grant one already over, so the expired record is stored directly.
    record = DelegationRecord(
        id=str(uuid.uuid4()),
        principal_corporate_number=PRINCIPAL["corporate_number"],
        granted_by=principal.username,
        delegate_username=tax.username,
        rp="jgrants",
        procedures=("subsidy-application",),
        not_before=NOW - dt.timedelta(days=30),
        not_after=NOW - dt.timedelta(seconds=1),
        revoked=False,
    )
    delegation.write_values(admin, admin.get_user(tax.user_id), "delegations", [record.to_attribute()])
    assert_refused(sign_in(platform, definitions, "jgrants", tax, record.id), "expired")


def test_a_delegation_for_another_rp_or_an_unknown_id_is_refused(
    platform: Settings,
    definitions: Definitions,
    admin: Any,
    principal: CreatedAccount,
    make_account: MakeAccount,
) -> None:
    tax = delegate(make_account)
    delegation_id = grant(admin, definitions, principal, tax, "jgrants", "subsidy-application")
    assert_refused(sign_in(platform, definitions, "shaho", tax, delegation_id), "wrong_rp")
    other = delegate(make_account)
    grant(admin, definitions, principal, other, "jgrants", "subsidy-application")
    unknown = str(uuid.uuid4())
    refused = sample_rp_sign_in(platform, definitions, "jgrants", other, delegation=unknown)
    # The RP is told the id is unknown, in words it can act on, not the policy's input format.
    assert isinstance(refused, Refused) and refused.error == "access_denied", refused
    assert refused.error_description == (
        f"delegation_invalid: unknown_delegation: no delegation '{unknown}' was granted to this account"
    )


def test_a_delegation_stops_when_the_granting_prime_is_suspended(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME, "principal", **PRINCIPAL)
    tax = delegate(make_account)
    delegation_id = grant(admin, definitions, prime, tax, "jgrants", "subsidy-application")
    user = admin.get_user(prime.user_id)
    user["attributes"]["account_status"] = ["suspended"]
    admin.update_user(prime.user_id, user)
    assert_refused(sign_in(platform, definitions, "jgrants", tax, delegation_id), "grantor_inactive")
