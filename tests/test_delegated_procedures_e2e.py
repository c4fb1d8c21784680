"""A delegate signs in only for a procedure its delegation covers, against the real Keycloak and OPA.

The RP names the delegation (`delegation=<id>`) and the procedure (`procedure=<id>`). Covered: the ID token
and userinfo carry the `procedure` claim (and the `delegation` claim), also after a refresh. A procedure
of the RP that the delegation does not list, or none at all (no delegation is RP-wide), is refused with
`delegation_procedure_not_covered` right after the password step - also on a new authorization in the
same browser (SSO, no password asked), so nothing widens what the Prime delegated
(policies/bizid/access/delegated_procedure.rego).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from realm import delegation
from realm.accounts import CreatedAccount
from realm.delegation import GrantSpec
from realm.models import Definitions, Tier
from realm.oidc.browser_flow import BrowserFlow, LoginResult, decode_jwt_payload
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, rp_client
from tests.test_member_permissions_e2e import fresh_code

pytestmark = pytest.mark.platform

PRINCIPAL = {"corporate_number": "5010401089998", "corporate_name": "Principal K.K.", "address": "Tokyo"}
FIRM = {"corporate_number": "7000012050002", "corporate_name": "Yamada Tax Office", "address": "Osaka"}
CODE = "delegation_procedure_not_covered"


def sign_in(
    platform: Settings,
    definitions: Definitions,
    account: CreatedAccount,
    delegation_id: str,
    procedure: str | None,
    browser: BrowserFlow | None = None,
) -> LoginResult:
    extra = {"delegation": delegation_id}
    if procedure is not None:
        extra["procedure"] = procedure
    return (browser or new_browser(platform)).login(
        rp_client(platform, definitions, "jgrants"),
        account.username,
        account.password,
        otp=lambda: fresh_code(account),
        scope="openid profile delegation",
        extra=extra,
    )


def _claims(browser: BrowserFlow, tokens: dict[str, Any]) -> list[tuple[Any, list[str]]]:
    """(procedure claim, the delegation claim's procedure ids) from the ID token and from userinfo."""
    found = []
    for claims in (decode_jwt_payload(tokens["id_token"]), browser.userinfo(tokens["access_token"])):
        found.append((claims.get("procedure"), [p["id"] for p in claims["delegation"]["procedures"]]))
    return found


def _refused(result: LoginResult, delegation_id: str) -> None:
    assert result.tokens is None, f"admitted, expected {CODE}"
    assert result.error == "access_denied", result
    description = result.error_description or ""
    assert description.startswith(CODE), description
    assert delegation_id in description, description
    assert not result.otp_prompted, "refused only after the second factor"


def test_a_delegate_gets_a_token_only_for_a_procedure_its_delegation_covers(
    platform: Settings, definitions: Definitions, admin: Any, make_account: MakeAccount
) -> None:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    principal = make_account(Tier.PRIME, "dp-principal", **PRINCIPAL)
    tax = make_account(Tier.PRIME, "dp-zeirishi", **FIRM)
    spec = GrantSpec(
        principal.username,
        tax.username,
        "jgrants",
        ("subsidy-application",),
        now + dt.timedelta(days=30),
        now,
    )
    delegation_id = delegation.grant(spec, definitions, admin).record.id

    browser = new_browser(platform)
    allowed = sign_in(platform, definitions, tax, delegation_id, "subsidy-application", browser)
    assert allowed.tokens is not None, allowed
    assert _claims(browser, allowed.tokens) == [("subsidy-application", ["subsidy-application"])] * 2
    refreshed = browser.refresh(rp_client(platform, definitions, "jgrants"), allowed.tokens["refresh_token"])
    assert _claims(browser, refreshed) == [("subsidy-application", ["subsidy-application"])] * 2

    # A procedure of jgrants the delegation does not list, or none: refused before the second factor.
    _refused(sign_in(platform, definitions, tax, delegation_id, "subsidy-report"), delegation_id)
    _refused(sign_in(platform, definitions, tax, delegation_id, None), delegation_id)

    # The same browser asks again (SSO, no password): judged afresh on what it names.
    for procedure in ("subsidy-report", None):
        again = sign_in(platform, definitions, tax, delegation_id, procedure, browser)
        assert again.tokens is None and again.error == "access_denied", again
        assert (again.error_description or "").startswith(CODE), again.error_description
