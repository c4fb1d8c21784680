"""The discovery document tells an RP the truth (issue 11 §5): what it lists is what the live realm
enables, and the scopes, claims and identity-assurance metadata are those of the definitions.

Expected values are derived from the live realm (Admin API) and the definitions, never written out here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from policies import matrix
from realm import build, discovery
from realm.models import Definitions
from realm.platform import REALM
from scripts import settings as bizid_settings
from scripts.settings import Settings
from tests.test_policies import Opa, request_for

Json = dict[str, Any]


def fetch_discovery(cfg: Settings, document: str = "openid-configuration") -> Json:
    response = requests.get(f"{cfg.issuer}/.well-known/{document}", verify=str(cfg.paths.ca_cert), timeout=30)
    response.raise_for_status()
    body: Json = response.json()
    return body


def live_grants(clients: list[Json]) -> set[str]:
    """The grants some enabled, token-issuing client of the live realm allows."""
    grants: set[str] = set()
    for c in clients:
        if not c.get("enabled") or c.get("bearerOnly"):
            continue
        attrs = c.get("attributes", {})
        if c.get("standardFlowEnabled"):
            grants |= {"authorization_code", "refresh_token"}
        if c.get("implicitFlowEnabled"):
            grants.add("implicit")
        if c.get("directAccessGrantsEnabled"):
            grants |= {"password", "refresh_token"}
        if c.get("serviceAccountsEnabled"):
            grants.add("client_credentials")
        if attrs.get("oauth2.device.authorization.grant.enabled") == "true":
            grants.add("urn:ietf:params:oauth:grant-type:device_code")
        if attrs.get("oidc.ciba.grant.enabled") == "true":
            grants.add("urn:openid:params:grant-type:ciba")
        if attrs.get("standard.token.exchange.enabled") == "true":
            grants.add("urn:ietf:params:oauth:grant-type:token-exchange")
    return grants


def live_rp_scopes(admin: Any) -> set[str]:
    """Scopes the live RP clients (those the definitions created) carry, default or optional."""
    scopes: set[str] = set()
    for c in admin.get_clients():
        if c.get("attributes", {}).get(build.MANAGED_ATTRIBUTE) != "true":
            continue
        scopes |= set(c.get("defaultClientScopes", [])) | set(c.get("optionalClientScopes", []))
    return scopes - set(build.DEFAULT_SCOPES_EVERY_CLIENT)


def test_grants_and_response_types_are_those_the_realm_enables(platform: Settings, admin: Any) -> None:
    doc = fetch_discovery(platform)
    grants = live_grants(admin.get_clients())
    assert set(doc["grant_types_supported"]) == grants
    assert "authorization_code" in grants  # the realm does sign RPs in
    assert doc["response_types_supported"] == ["code"]  # no client enables implicit
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert "device_authorization_endpoint" not in doc
    assert "backchannel_authentication_endpoint" not in doc
    for document in ("openid-configuration", "oauth-authorization-server"):
        other = fetch_discovery(platform, document)
        assert set(other["grant_types_supported"]) == grants, document
        assert other["code_challenge_methods_supported"] == ["S256"], document


def test_acr_values_are_the_realms_levels(platform: Settings, admin: Any) -> None:
    doc = fetch_discovery(platform)
    realm = admin.get_realm(REALM)
    acr_map = json.loads(realm["attributes"]["acr.loa.map"])
    assert doc["acr_values_supported"] == sorted(acr_map, key=lambda k: acr_map[k])


def test_scopes_and_claims_are_what_an_rp_can_get(
    platform: Settings, admin: Any, definitions: Definitions
) -> None:
    doc = fetch_discovery(platform)
    scopes = live_rp_scopes(admin)
    assert set(doc["scopes_supported"]) == {"openid"} | scopes
    by_name = {s.name: s for s in definitions.scopes}
    bizid_claims = {c.name for s in scopes for c in by_name[s].claims}
    claims = set(doc["claims_supported"])
    assert bizid_claims <= claims
    unreachable = {c.name for s in definitions.scopes if s.name not in scopes for c in s.claims}
    assert unreachable and not unreachable & claims  # e.g. phone_number: no RP registered `phone`
    assert {"sub", "acr", "amr", "auth_time", "verified_claims"} <= claims
    verified = [c.name for s in definitions.scopes if s.verified and s.name in scopes for c in s.claims]
    assert doc["verified_claims_supported"] is True
    assert doc["claims_in_verified_claims_supported"] == verified
    assert doc["trust_frameworks_supported"] == [discovery.TRUST_FRAMEWORK]


def test_a_hand_enabled_grant_is_advertised(platform: Settings, admin: Any) -> None:
    """The filter reads the live realm: opening a door by hand shows in discovery (and `realm drift`)."""
    [seminar] = [c for c in admin.get_clients() if c["clientId"] == "seminar"]
    try:
        admin.update_client(seminar["id"], {**seminar, "implicitFlowEnabled": True})
        doc = fetch_discovery(platform)
        assert "implicit" in doc["grant_types_supported"]
        assert "id_token" in doc["response_types_supported"]
    finally:
        admin.update_client(seminar["id"], seminar)
    assert "implicit" not in fetch_discovery(platform)["grant_types_supported"]


# --- the identity-assurance metadata agrees with what the release policy puts in verified_claims -----


@pytest.fixture(scope="module")
def opa() -> Iterator[Opa]:
    with matrix.private_opa(binary=bizid_settings.load().paths.opa) as url:
        yield Opa(url)


def test_assurance_metadata_matches_the_release_policy(opa: Opa) -> None:
    defs = build.load()[0]
    assurance = discovery.metadata(defs)["assurance"]
    seen_evidence: set[str] = set()
    for tier in discovery.EVIDENCE_BY_TIER:
        claims = opa.release(request_for(defs, "jgrants", tier))["claims"]
        verification = claims["verified_claims"]["verification"]
        assert verification["trust_framework"] in assurance["trust_frameworks_supported"]
        for evidence in verification["evidence"]:
            seen_evidence.add(evidence["type"])
            if evidence["type"] == "document":
                assert evidence["document_details"]["type"] in assurance["documents_supported"]
        assert set(claims["verified_claims"]["claims"]) <= set(
            assurance["claims_in_verified_claims_supported"]
        )
    assert seen_evidence == set(assurance["evidence_supported"])


def test_without_a_verified_scope_no_assurance_is_advertised() -> None:
    defs = build.load()[0]
    plain = defs.model_copy(
        update={"scopes": tuple(s.model_copy(update={"verified": False}) for s in defs.scopes)}
    )
    meta = discovery.metadata(plain)
    assert "assurance" not in meta and "verified_claims" not in meta["claims_supported"]
