"""Per-procedure Member permissions at sign-in, against the real Keycloak and OPA (issue 13 §2).

The RP names the procedure with the authorization request parameter `procedure=<id>`; bizid-access sends
it to OPA (`input.rp.procedure`) and the token carries the procedure allowed (`procedure` claim, ID token
and userinfo). A Member permitted one procedure gets a token for it and is refused any other
(member_procedure_not_permitted) or none; an unknown procedure is refused for every tier
(unknown_procedure). Neither a refresh nor a new authorization in the same browser (SSO) widens what
was decided: the refresh re-checks the procedure judged at sign-in, and a new authorization is judged
afresh on what it names.
"""

from __future__ import annotations

from typing import Any

import pytest

from realm.accounts import CreatedAccount
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, FlowError, LoginResult, decode_jwt_payload
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client, set_attributes
from tests.test_member_permissions_e2e import fresh_code

pytestmark = pytest.mark.platform


def sign_in(
    platform: Settings,
    definitions: Definitions,
    rp: str,
    account: CreatedAccount,
    procedure: str | None,
    browser: BrowserFlow | None = None,
) -> LoginResult:
    return (browser or new_browser(platform)).login(
        rp_client(platform, definitions, rp),
        account.username,
        account.password,
        otp=lambda: fresh_code(account),
        scope="openid profile",
        extra={"procedure": procedure} if procedure is not None else None,
    )


def _procedure_claims(browser: BrowserFlow, tokens: dict[str, Any]) -> list[Any]:
    """The `procedure` claim in the ID token and userinfo (None where absent). Like every released claim
    it is not in the access token (realm/build.py RELEASE_MAPPER_CONFIG)."""
    assert "procedure" not in decode_jwt_payload(tokens["access_token"])
    return [
        decode_jwt_payload(tokens["id_token"]).get("procedure"),
        browser.userinfo(tokens["access_token"]).get("procedure"),
    ]


def _refused(result: LoginResult, code: str) -> None:
    assert result.tokens is None, f"admitted, expected {code}"
    assert result.error == "access_denied", result
    assert (result.error_description or "").startswith(code), result.error_description


def test_a_member_gets_a_token_only_for_the_procedure_its_prime_permitted(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME)
    member = make_account(
        Tier.MEMBER, prime_username=prime.username, member_permissions=("jgrants/subsidy-report",)
    )

    browser = new_browser(platform)
    allowed = sign_in(platform, definitions, "jgrants", member, "subsidy-report", browser)
    assert allowed.tokens is not None, allowed
    assert _procedure_claims(browser, allowed.tokens) == ["subsidy-report"] * 2

    # The refresh keeps the procedure judged at sign-in (the RP cannot swap it).
    client = rp_client(platform, definitions, "jgrants")
    refreshed = browser.refresh(client, allowed.tokens["refresh_token"])
    assert _procedure_claims(browser, refreshed) == ["subsidy-report"] * 2

    # Another procedure, or none, is refused - already right after the password step.
    other = sign_in(platform, definitions, "jgrants", member, "subsidy-application")
    _refused(other, "member_procedure_not_permitted")
    assert not other.otp_prompted, "refused only after the second factor"
    _refused(sign_in(platform, definitions, "jgrants", member, None), "member_procedure_not_permitted")
    _refused(sign_in(platform, definitions, "jgrants", member, "no-such-procedure"), "unknown_procedure")

    # A new authorization in the same browser (SSO, no password asked) is judged on what it names.
    for procedure in ("subsidy-application", None):
        again = sign_in(platform, definitions, "jgrants", member, procedure, browser)
        _refused(again, "member_procedure_not_permitted")


def test_withdrawing_the_procedure_ends_the_refresh(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME)
    member = make_account(
        Tier.MEMBER, prime_username=prime.username, member_permissions=("jgrants/subsidy-report",)
    )
    browser = new_browser(platform)
    allowed = sign_in(platform, definitions, "jgrants", member, "subsidy-report", browser)
    assert allowed.tokens is not None, allowed
    # Another procedure of the same RP is permitted now, this one no longer: the session's refresh is
    # re-checked for the procedure it was granted, not widened to the RP.
    set_attributes(admin, member.user_id, member_permissions="jgrants/subsidy-application")
    with pytest.raises(FlowError, match="invalid_grant"):
        browser.refresh(rp_client(platform, definitions, "jgrants"), allowed.tokens["refresh_token"])


def test_an_rp_wide_member_and_a_prime_may_name_any_procedure_of_the_rp_but_no_unknown_one(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME)
    member = make_account(Tier.MEMBER, prime_username=prime.username, member_permissions=("jgrants",))
    for account in (member, prime):
        browser = new_browser(platform)
        result = sign_in(platform, definitions, "jgrants", account, "subsidy-application", browser)
        assert result.tokens is not None, (account.tier, result)
        assert _procedure_claims(browser, result.tokens) == ["subsidy-application"] * 2
        plain = sign_in(platform, definitions, "jgrants", account, None, browser)
        assert plain.tokens is not None, (account.tier, plain)
        assert _procedure_claims(browser, plain.tokens) == [None] * 2, "a procedure claim nobody asked for"
        elsewhere = sign_in(platform, definitions, "jgrants", account, "insurance-notification")
        _refused(elsewhere, "unknown_procedure")
