"""What the discovery document advertises that only the definitions know: pure, no server needed.

The `bizid-openid-configuration` provider (realm/extensions, org.bizid.keycloak.discovery) serves
Keycloak's discovery document with grants, response types, PKCE methods and acr values filtered to what
the live realm enables, and takes the scopes, claims and OpenID Connect for Identity Assurance metadata
from the realm attribute `bizid.discovery` that `realm apply` writes from here (docs/rp-guide.md,
"Discovery").
"""

from __future__ import annotations

from typing import Any

from realm.models import Definitions

REALM_ATTRIBUTE = "bizid.discovery"

PROTOCOL_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp")
"""Claims Keycloak itself sets in the ID token (the `basic` scope, bizid-acr and the AMR mapper)."""

PROCEDURE_CLAIM = "procedure"
"""The procedure the RP named (`procedure=<id>`) and the access policy allowed at sign-in (bizid-access,
bizid-release; docs/rp-guide.md "Naming the procedure")."""

TRUST_FRAMEWORK = "jp_gbizid"
EVIDENCE_BY_TIER: dict[str, dict[str, Any]] = {
    "prime": {"type": "document", "document_type": "jp_seal_registration_certificate"},
    "member": {"type": "vouch"},
}
"""How each verified tier was proven (OIDC4IDA `evidence`), as the release policy states it in
`verified_claims.verification` (policies/bizid/release/release.rego `_evidence`; tests/test_discovery.py
keeps the two in agreement)."""


def rp_scopes(defs: Definitions) -> list[str]:
    """Scopes some registered RP can get, in the order of scopes.yaml."""
    registered = {s for rp in defs.rps for s in rp.scopes}
    return [s.name for s in defs.scopes if s.name in registered]


def metadata(defs: Definitions) -> dict[str, Any]:
    """The realm attribute `bizid.discovery`: scopes and claims an RP can get, and the IDA metadata."""
    scopes = rp_scopes(defs)
    by_name = {s.name: s for s in defs.scopes}
    claims = list(PROTOCOL_CLAIMS)
    for name in scopes:
        claims += [c.name for c in by_name[name].claims if c.name not in claims]
    verified = [c.name for name in scopes if by_name[name].verified for c in by_name[name].claims]
    if any(rp.procedures for rp in defs.rps):
        claims.append(PROCEDURE_CLAIM)
    result: dict[str, Any] = {"scopes_supported": ["openid", *scopes], "claims_supported": claims}
    if verified:
        claims.append("verified_claims")
        evidence = list(EVIDENCE_BY_TIER.values())
        result["assurance"] = {
            "verified_claims_supported": True,
            "trust_frameworks_supported": [TRUST_FRAMEWORK],
            "evidence_supported": sorted({e["type"] for e in evidence}),
            "documents_supported": sorted({e["document_type"] for e in evidence if "document_type" in e}),
            "claims_in_verified_claims_supported": verified,
        }
    return result
