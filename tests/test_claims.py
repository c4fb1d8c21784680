"""Each sample RP receives exactly the claims the release policy allows, for every tier it accepts.

Real sign-ins (authorization code + PKCE through Keycloak's login pages) at seminar, jgrants, it-subsidy
and shaho; for each, the gated claims in the ID token, the access token and the userinfo response must be
exactly the claims OPA's `bizid.release` returns for the same input (the account as Keycloak stores it,
the level reached, the scopes granted) - no claim more, none less, same values - and must meet explicit
expectations that do not depend on the policy (Entry gets no corporate claims, Prime at jGrants gets its
corporate number and verified_claims, shaho gets a pairwise sub, ...).
"""

from __future__ import annotations

from typing import Any

import pyotp
import pytest
import requests

from realm.models import ACR_LOA, Definitions, Tier
from realm.oidc.browser_flow import decode_jwt_payload
from scripts.keycloak_admin import admin_client
from scripts.sample_rp.client import SignedIn
from scripts.settings import Settings
from tests.conftest import MakeAccount, new_browser, release_input, rp_client, sample_rp_sign_in

pytestmark = pytest.mark.platform

CORPORATE_NUMBER = "5010401089998"
COMPANY = {
    "corporate_number": CORPORATE_NUMBER,
    "corporate_name": "Claims Test K.K.",
    "representative_name": "Claims Representative",
    "address": "1-1 Kasumigaseki, Tokyo",
    "phone_number": "+81312345678",
}
CORPORATE_CLAIMS = {
    "corporate_number",
    "corporate_name",
    "corporate_type",
    "representative_name",
    "address",
    "corporate_address",
    "branch",
}

# What Keycloak itself puts in tokens (protocol claims); everything else must come from the policy.
KEYCLOAK_CLAIMS = {
    "exp", "iat", "auth_time", "jti", "iss", "aud", "sub", "typ", "azp", "nonce", "sid", "session_state",
    "at_hash", "c_hash", "acr", "amr", "scope", "allowed-origins", "realm_access", "resource_access",
}  # fmt: skip

CASES = [
    ("seminar", Tier.ENTRY),
    ("seminar", Tier.PRIME),
    ("seminar", Tier.MEMBER),
    ("seminar", Tier.PROVISIONAL_PRIME),
    ("jgrants", Tier.PRIME),
    ("jgrants", Tier.MEMBER),
    ("it-subsidy", Tier.PRIME),
    ("it-subsidy", Tier.MEMBER),
    ("it-subsidy", Tier.PROVISIONAL_PRIME),
    ("shaho", Tier.PRIME),
    ("shaho", Tier.MEMBER),
]


@pytest.fixture(scope="module")
def default_company() -> dict[str, str]:
    return COMPANY


def opa_release(
    platform: Settings, admin: Any, user: dict[str, Any], rp: str, loa: int, scopes: list[str]
) -> dict[str, Any]:
    policy_input = release_input(admin, user, rp, loa, scopes)
    response = requests.post(
        f"{platform.opa_url}/v1/data/bizid/release/decision",
        json={"input": policy_input},
        headers=platform.opa_read_headers(),
        timeout=10,
    )
    response.raise_for_status()
    result: dict[str, Any] = response.json()["result"]
    return result


def gated(claims: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in claims.items() if name not in KEYCLOAK_CLAIMS}


@pytest.mark.parametrize(("rp", "tier"), CASES, ids=[f"{rp}-{tier.value}" for rp, tier in CASES])
def test_each_rp_receives_exactly_the_released_claims(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, rp: str, tier: Tier
) -> None:
    extra: dict[str, Any] = {}
    if tier is Tier.MEMBER:
        extra = {"prime_username": make_account(Tier.PRIME).username, "branch": "Osaka branch"}
    elif tier is Tier.PROVISIONAL_PRIME:
        extra = {"provisional_rps": (rp,)}
    elif tier is Tier.ENTRY:
        extra = {"corporate_name": "Self-asserted K.K.", "phone_number": "+81312345678"}
    account = make_account(tier, **extra)
    scope = " ".join(["openid", *definitions.rp(rp).scopes])  # every registered scope, optional ones too
    # The RP side is the sample RP (Authlib): the ID token is validated against the JWKS (signature, iss,
    # aud, nonce, at_hash) and userinfo is checked to be about the same subject.
    result = sample_rp_sign_in(platform, definitions, rp, account, scope=scope)
    assert isinstance(result, SignedIn), f"{tier.value} at {rp} refused: {result}"
    id_token = result.id_token
    access_token = decode_jwt_payload(result.tokens["access_token"])
    userinfo = result.userinfo

    # Exactly what OPA says for the same input.
    admin = admin_client(platform)
    user = admin.get_user(account.user_id)
    # The level reached: amr lists a possession factor exactly when the second step was passed (the acr
    # claim is checked on its own below).
    loa = ACR_LOA["aal2"] if {"otp", "hwk"} & set(id_token.get("amr", [])) else ACR_LOA["aal1"]
    decision = opa_release(platform, admin, user, rp, loa, str(access_token["scope"]).split())
    assert decision["claims"], f"OPA released nothing: {decision['withheld']}"
    for where, claims in (("id token", id_token), ("userinfo", userinfo)):
        assert gated(claims) == decision["claims"], where
    # Released claims never go into the access token (docs/claims.md); it names its audience, the RP.
    assert not set(decision["claims"]) & set(access_token), sorted(
        set(decision["claims"]) & set(access_token)
    )
    audience = access_token["aud"]
    assert rp in (audience if isinstance(audience, list) else [audience])

    # Expectations that do not come from the policy.
    released = gated(id_token)
    registered = set(definitions.rp(rp).scopes)
    assert "phone_number" not in released  # no sample RP registers `phone`
    assert released["account_type"] == definitions.tier(tier).account_type
    assert released["family_name"] == account.username
    if definitions.tier(tier).attributes_verified and "corporate" in registered:
        assert released["corporate_number"] == CORPORATE_NUMBER
        verified = released["verified_claims"]
        assert verified["verification"]["assurance_level"] == tier.value
        assert verified["claims"]["corporate_number"] == CORPORATE_NUMBER
        # The holder-editable name is a plain claim only, never verified (issue 10, §3).
        assert not {"family_name", "given_name", "name"} & set(verified["claims"])
        if tier is Tier.MEMBER:
            assert released["branch"] == "Osaka branch"
    else:
        assert not CORPORATE_CLAIMS & set(released), "corporate claims for a self-asserted tier or RP"
    if not definitions.tier(tier).attributes_verified:
        assert "verified_claims" not in released
    assert "delegation" not in released  # no delegation selected
    if definitions.rp(rp).pairwise_sub:
        assert id_token["sub"] != account.user_id and userinfo["sub"] == id_token["sub"]
    else:
        assert id_token["sub"] == account.user_id


def test_a_non_pairwise_and_a_pairwise_rp_see_different_subjects_for_one_account(
    platform: Settings, definitions: Definitions, make_account: MakeAccount
) -> None:
    prime = make_account(Tier.PRIME)
    browser = new_browser(platform)
    otp = lambda: pyotp.TOTP(prime.totp_base32 or "").now()  # noqa: E731
    public = browser.login(
        rp_client(platform, definitions, "jgrants"), prime.username, prime.password, otp=otp
    )
    assert public.tokens is not None, public
    pairwise = browser.login(
        rp_client(platform, definitions, "shaho"), prime.username, prime.password, otp=otp
    )
    assert pairwise.tokens is not None, pairwise
    public_sub = decode_jwt_payload(public.tokens["id_token"])["sub"]
    pairwise_sub = decode_jwt_payload(pairwise.tokens["id_token"])["sub"]
    assert public_sub == prime.user_id
    assert pairwise_sub not in (public_sub, prime.user_id)
    # The RP links records by the verified corporate number instead.
    assert decode_jwt_payload(pairwise.tokens["id_token"])["corporate_number"] == CORPORATE_NUMBER


@pytest.mark.parametrize("tier", [Tier.PRIME, Tier.MEMBER, Tier.PROVISIONAL_PRIME])
def test_a_tier_that_needs_aal2_gets_acr_aal2_even_where_the_rp_asks_for_aal1(
    platform: Settings, definitions: Definitions, make_account: MakeAccount, tier: Tier
) -> None:
    """docs/claims.md: Prime and Member always pass the second factor and the RP can verify it in acr."""
    assert definitions.rp("seminar").min_acr == "aal1" and definitions.tier(tier).min_acr == "aal2"
    extra: dict[str, Any] = {}
    if tier is Tier.MEMBER:
        extra = {"prime_username": make_account(Tier.PRIME).username}
    elif tier is Tier.PROVISIONAL_PRIME:
        extra = {"provisional_rps": ("seminar",)}
    account = make_account(tier, **extra)
    result = new_browser(platform).login(
        rp_client(platform, definitions, "seminar"),
        account.username,
        account.password,
        otp=lambda: pyotp.TOTP(account.totp_base32 or "").now(),
    )
    assert result.tokens is not None and result.otp_prompted, result
    id_token = decode_jwt_payload(result.tokens["id_token"])
    assert "otp" in id_token["amr"]
    assert id_token["acr"] == "aal2", (
        f"second factor passed (amr {id_token['amr']}) but acr {id_token['acr']}"
    )
