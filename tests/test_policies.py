"""The Rego policies (`policies/bizid/`) against the real OPA binary and the registry generated from the
real definitions (`realm.opa_data`).

One OPA server is started for the session on a free loopback port, loading the policies (without their
`_test.rego` files, as in production) and the generated data document. The tests then check:

- the data document: derived from the definitions only, written where OPA maps it to data.bizid.registry;
- access for every tier at every sample RP (Entry refused at jGrants, provisional Prime only at the
  IT subsidy, ...), and for every RP in the definitions against its accepted tiers;
- release: which claims each tier gets, verified_claims only for verified tiers, corporate claims
  withheld for self-asserted ones; delegation with licences at jGrants and shaho;
- properties (Hypothesis): malformed input - random JSON, a required field missing, any field of the
  wrong type - never yields an allow, a valid delegation or any released claim.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies import matrix, opa_client, opa_server
from realm import build, opa_data
from realm.models import ACR_LOA, Definitions, UserProfileDefinition
from realm.platform import REPO_ROOT
from scripts import settings as bizid_settings

REPO = REPO_ROOT
POLICIES = REPO / "policies" / "bizid"
NOW = "2026-04-01T00:00:00Z"
CORP_A = "7000012050002"
CORP_B = "9234567890123"
TIERS = ("entry", "prime", "member", "provisional-prime")
SAMPLE_RPS = ("seminar", "it-subsidy", "jgrants", "shaho")
EXAMPLES = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow], database=None
)

Json = Any


# --- the OPA server --------------------------------------------------------------------------------


class Opa:
    """A running OPA server and the decisions it gives."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.http = requests.Session()
        self.http.headers.update(opa_server.bearer(opa_client.token_for(url)))  # OPA demands a token

    def decide(self, package: str, policy_input: Json) -> dict[str, Any]:
        """POST /v1/data/bizid/<package>/decision; the decision must always be defined."""
        response = self.http.post(
            f"{self.url}/v1/data/bizid/{package}/decision", json={"input": policy_input}, timeout=10
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert "result" in body, f"{package}: no decision for {policy_input!r}"
        result: dict[str, Any] = body["result"]
        return result

    def access(self, policy_input: Json) -> dict[str, Any]:
        return self.decide("access", policy_input)

    def release(self, policy_input: Json) -> dict[str, Any]:
        return self.decide("release", policy_input)

    def delegation(self, policy_input: Json) -> dict[str, Any]:
        return self.decide("delegation", policy_input)


@pytest.fixture(scope="session")
def defs() -> Definitions:
    return build.load()[0]


@pytest.fixture(scope="session")
def profile() -> UserProfileDefinition:
    return build.load()[1]


@pytest.fixture(scope="session")
def data_dir(
    defs: Definitions, profile: UserProfileDefinition, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    directory = tmp_path_factory.mktemp("opa-data")
    opa_data.write(defs, directory, profile=profile)
    return directory


@pytest.fixture(scope="session")
def opa() -> Iterator[Opa]:
    """The real OPA binary serving policies/bizid and the registry generated from the real definitions."""
    with matrix.private_opa(binary=bizid_settings.load().paths.opa) as url:
        yield Opa(url)


# --- inputs ----------------------------------------------------------------------------------------

ACCOUNTS: dict[str, dict[str, Any]] = {
    "entry": {
        "id": "id-entry",
        "username": "entry-user",
        "tier": "entry",
        "status": "active",
        "valid_until": None,
        "corporate_number": CORP_A,
        "prime_username": None,
        "provisional_rps": [],
        "firstName": "花子",
        "lastName": "鈴木",
        "email": "hanako@example.jp",
        "emailVerified": True,
        "corporate_name": "自称株式会社",
    },
    "prime": {
        "id": "id-prime",
        "username": "prime-user",
        "tier": "prime",
        "status": "active",
        "valid_until": "2030-03-31",
        "corporate_number": CORP_A,
        "prime_username": None,
        "provisional_rps": [],
        "firstName": "太郎",
        "lastName": "山田",
        "email": "taro@example.jp",
        "emailVerified": True,
        "phone_number": "+81312345678",
        "corporate_name": "山田商事株式会社",
        "corporate_type": "corporation",
        "representative_name": "山田 太郎",
        "address": "東京都千代田区霞が関1-1-1",
    },
    "member": {
        "id": "id-member",
        "username": "member-user",
        "tier": "member",
        "status": "active",
        "valid_until": "2030-03-31",
        "corporate_number": CORP_A,
        "prime_username": "prime-user",
        "provisional_rps": [],
        "member_permissions": list(SAMPLE_RPS),
        "firstName": "次郎",
        "lastName": "佐藤",
        "email": "jiro@example.jp",
        "emailVerified": True,
        "corporate_name": "山田商事株式会社",
        "corporate_type": "corporation",
        "representative_name": "山田 太郎",
        "address": "東京都千代田区霞が関1-1-1",
        "branch": "大阪支店",
    },
    "provisional-prime": {
        "id": "id-provisional",
        "username": "provisional-user",
        "tier": "provisional-prime",
        "status": "active",
        "valid_until": "2026-12-31",
        "corporate_number": CORP_B,
        "prime_username": None,
        "provisional_rps": ["it-subsidy"],
        "firstName": "三郎",
        "lastName": "高橋",
        "email": "saburo@example.jp",
        "emailVerified": False,
        "corporate_name": "高橋工業",
    },
}


# The current record of prime-user, the Prime that issued member-user (input.prime, as Keycloak sends it).
PRIME_RECORD = {
    "username": "prime-user",
    "found": True,
    "tier": "prime",
    "status": "active",
    "valid_until": "2030-03-31",
    "corporate_number": CORP_A,
}


def request_for(defs: Definitions, client_id: str, tier: str) -> dict[str, Any]:
    """A well-formed input: the account signed in at its tier's minimum level, asking for every scope."""
    return {
        "rp": {"client_id": client_id},
        "account": copy.deepcopy(ACCOUNTS[tier]),
        "authn": {"loa": ACR_LOA[defs.tier(ACCOUNTS[tier]["tier"]).min_acr]},
        "delegation": None,
        "prime": copy.deepcopy(PRIME_RECORD) if ACCOUNTS[tier]["prime_username"] else None,
        "now": NOW,
        "decision_id": "00000000-0000-4000-8000-000000000001",
        "scopes": ["openid", *(scope.name for scope in defs.scopes)],
    }


def delegated_request(
    defs: Definitions, client_id: str, procedures: list[str], kinds: list[str]
) -> dict[str, Any]:
    """A tax accountant / labour attorney (a Prime of their own firm) acting for company A."""
    request = request_for(defs, client_id, "prime")
    request["account"].update(
        id="id-delegate",
        username="delegate-user",
        corporate_number=CORP_B,
        corporate_name="田中事務所",
        firstName="税子",
        lastName="田中",
    )
    # The RP names the procedure the delegate files (a delegated sign-in naming none is refused).
    request["rp"]["procedure"] = procedures[0] if procedures else None
    request["delegation"] = {
        "id": "dlg-1",
        "principal_corporate_number": CORP_A,
        "granted_by": "prime-user",
        "delegate_username": "delegate-user",
        "rp": client_id,
        "procedures": procedures,
        "not_before": "2026-01-01T00:00:00+09:00",
        "not_after": "2026-12-31T23:59:59+09:00",
        "revoked": False,
    }
    request["grantor"] = {
        "username": "prime-user",
        "tier": "prime",
        "corporate_number": CORP_A,
        "status": "active",
        "valid_until": "2030-03-31",
        "corporate_name": "山田商事株式会社",
    }
    request["licences"] = [
        {
            "kind": kind,
            "number": f"{kind}-001",
            "holder_username": "delegate-user",
            "not_after": None,
            "revoked": False,
        }
        for kind in kinds
    ]
    return request


def codes(decision: dict[str, Any]) -> set[str]:
    return {reason["code"] for reason in decision["reasons"]}


# --- the data document -----------------------------------------------------------------------------


def test_document_is_derived_from_the_definitions(
    defs: Definitions, profile: UserProfileDefinition, data_dir: Path
) -> None:
    written = data_dir / "bizid" / "registry" / "data.json"
    assert json.loads(written.read_text(encoding="utf-8")) == opa_data.document(defs, profile)
    doc = opa_data.document(defs, profile)
    assert set(doc) == {
        "rps",
        "tiers",
        "scopes",
        "attributes",
        "claim_attributes",
        "licences",
        "acr_loa",
        "platform_clients",
    }
    # The release shape check's index: exactly the attributes the scopes' claims read, with their shapes.
    reads = {(claim.attribute, claim.multivalued) for scope in defs.scopes for claim in scope.claims}
    assert doc["claim_attributes"] == {
        attribute: {"scalar": (attribute, False) in reads, "multivalued": (attribute, True) in reads}
        for attribute, _ in reads
    }
    assert not set(doc["platform_clients"]) & set(doc["rps"])
    assert set(doc["platform_clients"]) == {
        c.client_id for c in defs.platform_clients if c.enabled and c.grants
    }
    assert doc["acr_loa"] == ACR_LOA
    assert set(doc["rps"]) == {rp.client_id for rp in defs.rps}
    assert set(doc["tiers"]) == set(TIERS)
    for rp in defs.rps:
        record = doc["rps"][rp.client_id]
        assert record["accepted_tiers"] == [tier.value for tier in rp.accepted_tiers]
        assert record["min_acr"] == rp.min_acr
        assert record["scopes"] == list(rp.scopes)
        assert record["purpose"] == rp.purpose
        assert record["pairwise_sub"] == rp.pairwise_sub
        assert set(record["procedures"]) == {proc.id for proc in rp.procedures}
    for scope in defs.scopes:
        assert set(doc["scopes"][scope.name]["claims"]) == {claim.name for claim in scope.claims}
    assert {name for name, tier in doc["tiers"].items() if tier["valid_until_required"]} == {
        "prime",
        "member",
        "provisional-prime",
    }
    assert {name for name, tier in doc["tiers"].items() if tier["issued_by_prime"]} == {"member"}
    # Which attributes only an operator sets comes from the user profile's edit permissions alone.
    operator_set = {name for name, attr in doc["attributes"].items() if attr["operator_set"]}
    assert operator_set == {a.name for a in profile.attributes if a.permissions.edit == ("admin",)}
    assert {"corporate_number", "corporate_name", "tier"} <= operator_set
    assert not {"firstName", "lastName", "email", "phone_number", "username"} & operator_set
    assert {name for name, scope in doc["scopes"].items() if scope["verified"]} == {"corporate"}


def test_registry_served_by_opa(opa: Opa, defs: Definitions, profile: UserProfileDefinition) -> None:
    response = opa.http.get(f"{opa.url}/v1/data/bizid/registry", timeout=10)
    assert response.json()["result"] == opa_data.document(defs, profile)


# --- access: tier x relying party ------------------------------------------------------------------

EXPECTED_ACCESS = {
    # tier: RPs it may sign in to, among the sample RPs
    "entry": {"seminar"},
    "prime": set(SAMPLE_RPS),
    "member": set(SAMPLE_RPS),
    "provisional-prime": {"it-subsidy"},
}


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("client_id", SAMPLE_RPS)
def test_access_matrix(opa: Opa, defs: Definitions, tier: str, client_id: str) -> None:
    decision = opa.access(request_for(defs, client_id, tier))
    if client_id in EXPECTED_ACCESS[tier]:
        assert decision == {"allow": True, "reasons": []}
    else:
        assert decision["allow"] is False
        assert decision["reasons"], decision


def test_refusal_reasons(opa: Opa, defs: Definitions) -> None:
    # An Entry holder signed in with a password only: wrong tier, and too weak for jgrants' aal2.
    assert codes(opa.access(request_for(defs, "jgrants", "entry"))) == {"tier_not_accepted", "acr_too_low"}
    assert codes(opa.access(request_for(defs, "seminar", "provisional-prime"))) == {
        "provisional_rp_not_allowed"
    }
    assert codes(opa.access(request_for(defs, "jgrants", "provisional-prime"))) == {
        "tier_not_accepted",
        "provisional_rp_not_allowed",
    }
    weak = request_for(defs, "seminar", "prime")
    weak["authn"]["loa"] = 1
    assert codes(opa.access(weak)) == {"acr_too_low"}
    unknown = request_for(defs, "no-such-rp", "prime")
    assert codes(opa.access(unknown)) == {"unknown_rp"}


def test_every_registered_rp_admits_exactly_its_tiers(opa: Opa, defs: Definitions) -> None:
    for rp in defs.rps:
        for tier in TIERS:
            request = request_for(defs, rp.client_id, tier)
            request["account"]["provisional_rps"] = [rp.client_id]
            request["authn"]["loa"] = 2
            allowed = opa.access(request)["allow"]
            assert allowed is (tier in {t.value for t in rp.accepted_tiers}), (rp.client_id, tier)


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"status": "suspended"}, "account_suspended"),
        ({"valid_until": "2026-03-31"}, "account_expired"),
        ({"valid_until": None}, "missing_validity"),
    ],
)
def test_account_state(opa: Opa, defs: Definitions, change: dict[str, Any], code: str) -> None:
    request = request_for(defs, "jgrants", "prime")
    request["account"].update(change)
    decision = opa.access(request)
    assert decision["allow"] is False
    assert codes(decision) == {code}
    assert opa.release(request)["claims"] == {}


# --- release ---------------------------------------------------------------------------------------


def test_prime_release_at_jgrants(opa: Opa, defs: Definitions) -> None:
    decision = opa.release(request_for(defs, "jgrants", "prime"))
    claims = decision["claims"]
    assert claims["account_type"] == 2
    assert claims["name"] == "山田 太郎"
    assert claims["corporate_number"] == CORP_A
    assert "phone_number" not in claims  # jgrants did not register `phone`
    assert {w["reason"] for w in decision["withheld"]} == {"scope_not_registered"}
    verified = claims["verified_claims"]
    assert verified["verification"]["trust_framework"] == "jp_gbizid"
    assert verified["verification"]["assurance_level"] == "prime"
    # Only operator-set values are verified: the holder-editable name is released plain (issue 10, §3).
    assert set(verified["claims"]) == {
        "corporate_number",
        "corporate_name",
        "corporate_type",
        "representative_name",
        "corporate_address",
    }
    assert not {"acr", "amr", "sub"} & set(claims)


def test_entry_release_at_seminar_is_self_asserted(opa: Opa, defs: Definitions) -> None:
    claims = opa.release(request_for(defs, "seminar", "entry"))["claims"]
    assert claims == {
        "family_name": "鈴木",
        "given_name": "花子",
        "name": "鈴木 花子",
        "email": "hanako@example.jp",
        "email_verified": True,
        "account_type": 1,
        "tier": "entry",
    }


def test_provisional_prime_corporate_claims_withheld(opa: Opa, defs: Definitions) -> None:
    decision = opa.release(request_for(defs, "it-subsidy", "provisional-prime"))
    corporate = {claim.name for claim in next(s for s in defs.scopes if s.name == "corporate").claims}
    assert not corporate & set(decision["claims"])
    assert "verified_claims" not in decision["claims"]
    assert decision["claims"]["account_type"] == 2
    assert {w["claim"] for w in decision["withheld"] if w["reason"] == "unverified_tier"} == corporate


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("client_id", SAMPLE_RPS)
def test_release_only_registered_scopes(opa: Opa, defs: Definitions, tier: str, client_id: str) -> None:
    decision = opa.release(request_for(defs, client_id, tier))
    if client_id not in EXPECTED_ACCESS[tier]:
        assert decision["claims"] == {}
        assert [w["reason"] for w in decision["withheld"]] == ["access_denied"]
        return
    rp = defs.rp(client_id)
    allowed = {claim.name for scope in defs.scopes if scope.name in rp.scopes for claim in scope.claims}
    released = set(decision["claims"]) - {"verified_claims"}
    assert released <= allowed
    verified_scope = any(scope.verified for scope in defs.scopes if scope.name in rp.scopes)
    verified_tier = defs.tier(ACCOUNTS[tier]["tier"]).attributes_verified
    assert ("verified_claims" in decision["claims"]) is (verified_tier and verified_scope)


# --- delegation ------------------------------------------------------------------------------------


def test_licensed_delegate_at_jgrants(opa: Opa, defs: Definitions) -> None:
    request = delegated_request(defs, "jgrants", ["subsidy-application", "subsidy-report"], ["zeirishi"])
    assert opa.delegation(request)["valid"] is True
    assert opa.access(request) == {"allow": True, "reasons": []}
    claim = opa.release(request)["claims"]["delegation"]
    assert claim["principal"] == {"corporate_number": CORP_A, "corporate_name": "山田商事株式会社"}
    assert [p["id"] for p in claim["procedures"]] == ["subsidy-application", "subsidy-report"]
    assert claim["procedures"][1]["licences"] == [{"kind": "zeirishi", "number": "zeirishi-001"}]


def test_unlicensed_delegate_refused(opa: Opa, defs: Definitions) -> None:
    request = delegated_request(defs, "shaho", ["insurance-notification"], ["zeirishi"])
    assert codes(opa.delegation(request)) == {"licence_required"}
    assert opa.access(request)["allow"] is False
    assert opa.release(request)["claims"] == {}
    licensed = delegated_request(defs, "shaho", ["insurance-notification"], ["sharoshi"])
    assert opa.access(licensed)["allow"] is True


def test_a_delegated_sign_in_must_name_a_procedure_the_delegation_covers(opa: Opa, defs: Definitions) -> None:
    request = delegated_request(defs, "jgrants", ["subsidy-report"], ["zeirishi"])
    assert opa.access(request) == {"allow": True, "reasons": []}
    for procedure in ("subsidy-application", None):
        request["rp"]["procedure"] = procedure
        decision = opa.access(request)
        assert decision["allow"] is False and codes(decision) == {"delegation_procedure_not_covered"}, (
            decision
        )
        assert opa.release(request)["claims"] == {}
    del request["rp"]["procedure"]
    assert codes(opa.access(request)) == {"delegation_procedure_not_covered"}


def test_delegation_by_a_member_refused(opa: Opa, defs: Definitions) -> None:
    request = delegated_request(defs, "jgrants", ["subsidy-application"], [])
    request["grantor"]["tier"] = "member"
    assert codes(opa.delegation(request)) == {"grantor_not_prime"}
    assert codes(opa.access(request)) == {"delegation_invalid"}


# --- properties: malformed input never allows and never releases -----------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
not_string = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.lists(json_values, max_size=3),
    st.dictionaries(st.text(max_size=5), json_values, max_size=3),
)

REQUIRED_FIELDS = [
    ("rp",),
    ("rp", "client_id"),
    ("account",),
    ("account", "id"),
    ("account", "username"),
    ("account", "tier"),
    ("account", "status"),
    ("authn",),
    ("authn", "loa"),
    ("now",),
    ("decision_id",),
]
# Optional fields may be null or absent, but never of another type.
STRING_FIELDS = [
    ("rp", "client_id"),
    ("account", "id"),
    ("account", "username"),
    ("account", "tier"),
    ("account", "status"),
    ("account", "valid_until"),
    ("account", "corporate_number"),
    ("account", "prime_username"),
    ("now",),
    ("decision_id",),
]
RELEASED_ATTRIBUTES = ["firstName", "lastName", "email", "phone_number", "corporate_name", "address"]

sample_requests = st.sampled_from(
    [(client_id, tier) for client_id in SAMPLE_RPS for tier in TIERS if client_id in EXPECTED_ACCESS[tier]]
)


def _set(document: dict[str, Any], path: tuple[str, ...], value: Json) -> None:
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


def _delete(document: dict[str, Any], path: tuple[str, ...]) -> None:
    target = document
    for key in path[:-1]:
        target = target[key]
    del target[path[-1]]


def assert_refused(opa: Opa, policy_input: Json) -> None:
    """No allow, no valid delegation, not a single claim."""
    access = opa.access(policy_input)
    assert access["allow"] is False, policy_input
    assert access["reasons"], policy_input
    assert opa.release(policy_input)["claims"] == {}, policy_input
    delegation = opa.delegation(policy_input)
    assert delegation["valid"] is False and delegation["acting_for"] is None, policy_input


def test_sample_requests_are_allowed(opa: Opa, defs: Definitions) -> None:
    """The properties below start from these; they must be allowed, or the properties prove nothing."""
    for client_id in SAMPLE_RPS:
        for tier in TIERS:
            if client_id in EXPECTED_ACCESS[tier]:
                request = request_for(defs, client_id, tier)
                assert opa.access(request)["allow"] is True
                assert opa.release(request)["claims"]


@EXAMPLES
@given(policy_input=json_values)
def test_random_json_never_allows(opa: Opa, policy_input: Json) -> None:
    assert_refused(opa, policy_input)


@EXAMPLES
@given(
    policy_input=st.fixed_dictionaries(
        {},
        optional={
            "rp": json_values
            | st.fixed_dictionaries({"client_id": st.sampled_from(SAMPLE_RPS) | json_values}),
            "account": json_values | st.dictionaries(st.sampled_from(list(ACCOUNTS["prime"])), json_values),
            "authn": json_values | st.fixed_dictionaries({"loa": json_values}),
            "now": json_values,
            "decision_id": json_values,
            "delegation": json_values,
            "scopes": json_values,
        },
    )
)
def test_random_input_of_the_right_outline_never_allows(opa: Opa, policy_input: Json) -> None:
    # Random values in the right places: nothing here holds a complete, well-formed account.
    assert_refused(opa, policy_input)


@EXAMPLES
@given(sample=sample_requests, path=st.sampled_from(REQUIRED_FIELDS))
def test_missing_required_field_never_allows(
    opa: Opa, defs: Definitions, sample: tuple[str, str], path: tuple[str, ...]
) -> None:
    policy_input = request_for(defs, *sample)
    _delete(policy_input, path)
    assert_refused(opa, policy_input)


@EXAMPLES
@given(sample=sample_requests, path=st.sampled_from(STRING_FIELDS), value=not_string)
def test_ill_typed_field_never_allows(
    opa: Opa, defs: Definitions, sample: tuple[str, str], path: tuple[str, ...], value: Json
) -> None:
    policy_input = request_for(defs, *sample)
    _set(policy_input, path, value)
    assert_refused(opa, policy_input)


@EXAMPLES
@given(
    sample=sample_requests,
    field=st.sampled_from(["loa", "provisional_rps", "delegation", "rp", "account", "authn"]),
    value=json_values,
)
def test_ill_typed_structure_never_allows(
    opa: Opa, defs: Definitions, sample: tuple[str, str], field: str, value: Json
) -> None:
    policy_input = request_for(defs, *sample)
    if field == "loa":
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer():
            return  # an integer level is well-formed
        policy_input["authn"]["loa"] = value
    elif field == "provisional_rps":
        if value is None or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return  # absent/null or an array of strings is well-formed
        policy_input["account"]["provisional_rps"] = value
    elif field == "delegation":
        if value is None or isinstance(value, dict):
            return  # an object is checked by bizid.delegation, covered elsewhere
        policy_input["delegation"] = value
    else:
        if isinstance(value, dict):
            return
        policy_input[field] = value
    assert_refused(opa, policy_input)


@EXAMPLES
@given(sample=sample_requests, attribute=st.sampled_from(RELEASED_ATTRIBUTES), value=not_string)
def test_ill_typed_released_attribute_releases_nothing(
    opa: Opa, defs: Definitions, sample: tuple[str, str], attribute: str, value: Json
) -> None:
    if isinstance(value, bool):
        return  # booleans are accepted as claim values (email_verified)
    policy_input = request_for(defs, *sample)
    policy_input["account"][attribute] = value
    decision = opa.release(policy_input)
    assert decision["claims"] == {}
    assert [w["reason"] for w in decision["withheld"]] == ["malformed_input"]


@EXAMPLES
@given(
    field=st.sampled_from(
        [
            ("delegation", "id"),
            ("delegation", "principal_corporate_number"),
            ("delegation", "granted_by"),
            ("delegation", "delegate_username"),
            ("delegation", "rp"),
            ("delegation", "procedures"),
            ("delegation", "not_before"),
            ("delegation", "not_after"),
            ("delegation", "revoked"),
            ("grantor",),
            ("grantor", "username"),
            ("grantor", "tier"),
            ("grantor", "corporate_number"),
            ("grantor", "status"),
            ("licences",),
        ]
    ),
    value=json_values,
    delete=st.booleans(),
)
def test_broken_delegation_never_allows(
    opa: Opa, defs: Definitions, field: tuple[str, ...], value: Json, delete: bool
) -> None:
    policy_input = delegated_request(defs, "jgrants", ["subsidy-application", "subsidy-report"], ["zeirishi"])
    original = copy.deepcopy(policy_input)
    if delete:
        _delete(policy_input, field)
    else:
        _set(policy_input, field, value)
    if policy_input == original:
        return
    if field == ("delegation", "id") and isinstance(value, str) and value and not delete:
        return  # any non-empty identifier is well-formed
    # Everything else breaks the delegation: malformed, or no longer matching (a random username is not
    # the grantor; no licence on record fails subsidy-report, which requires one).
    assert_refused(opa, policy_input)
