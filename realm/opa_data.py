"""The OPA data document `data.bizid.registry`, generated from the realm definitions.

The policies in `policies/bizid/` decide with this document and the request's input only. It is derived
entirely from `realm/definitions/` (via `realm.build.load()`: the definitions and the user profile), so the
RP registry that configures the Keycloak clients is, by construction, the one OPA decides with: nothing is
copied by hand. `attributes` lists the user-profile attributes with `operator_set` (the holder may not edit
them, from the profile's permissions): the release policy puts only those inside `verified_claims`.

Shape (every collection keyed by its natural key, so Rego can look records up without iterating):

    {
      "rps":      {client_id: {client_id, name, ministry, purpose, client_type, accepted_tiers: [tier],
                               min_acr, scopes: [scope], pairwise_sub,
                               procedures: {id: {id, name, licences_accepted: [kind]}}}},
      "tiers":    {name: {name, label, account_type, identity_proofing, attributes_verified, min_acr,
                          can_create_members, rp_scoped, issued_by_prime, valid_until_required}},
      "scopes":   {name: {name, description, verified, describes_company,
                          claims: {claim: {name, attribute, description, multivalued}}}},
      "attributes": {name: {name, operator_set}},
      "claim_attributes": {attribute: {scalar, multivalued}}   (every attribute a scope's claim reads,
                                        and how: precomputed so the release shape check walks 16
                                        attributes, not every scope's claims, per decision)
      "licences": {kind: {kind, name, body}},
      "acr_loa":  {"aal1": 1, "aal2": 2},
      "platform_clients": {client_id: {client_id, platform: true, accepted_tiers: [tier], min_acr,
                                       any_provisional}}   (enabled built-ins users sign in to only)
    }

OPA maps a data file's directory to its data path, so `write(defs, d)` writes `d/bizid/registry/data.json`
and `opa run --server policies/bizid d` serves it as `data.bizid.registry`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from realm.models import (
    ACR_LOA,
    Definitions,
    LicenceKind,
    PlatformClient,
    Procedure,
    RelyingParty,
    ScopeDefinition,
    TierDefinition,
    UserProfileDefinition,
)

DATA_PATH = ("bizid", "registry")
"""Where the document sits in OPA's data tree (`data.bizid.registry`)."""


def _procedure(proc: Procedure) -> dict[str, Any]:
    return {"id": proc.id, "name": proc.name, "licences_accepted": list(proc.licences_accepted)}


def _rp(rp: RelyingParty) -> dict[str, Any]:
    # redirect_uris are deliberately left out: Keycloak enforces them, no policy decides on them.
    return {
        "client_id": rp.client_id,
        "name": rp.name,
        "ministry": rp.ministry,
        "purpose": rp.purpose,
        "client_type": rp.client_type,
        "accepted_tiers": [tier.value for tier in rp.accepted_tiers],
        "min_acr": rp.min_acr,
        "scopes": list(rp.scopes),
        "pairwise_sub": rp.pairwise_sub,
        "procedures": {proc.id: _procedure(proc) for proc in rp.procedures},
    }


def _tier(tier: TierDefinition) -> dict[str, Any]:
    return {
        "name": tier.name.value,
        "label": tier.label,
        "account_type": tier.account_type,
        "identity_proofing": tier.identity_proofing,
        "attributes_verified": tier.attributes_verified,
        "min_acr": tier.min_acr,
        "can_create_members": tier.can_create_members,
        "rp_scoped": tier.rp_scoped,
        "issued_by_prime": tier.issued_by_prime,
        # A validity date is required wherever the account carries a verification that can go stale
        # (Prime, Member: the representative may change) or a time-limited grant (provisional Prime).
        # Only self-asserted, unscoped accounts (Entry) may have none.
        "valid_until_required": tier.attributes_verified or tier.rp_scoped,
    }


def _scope(scope: ScopeDefinition) -> dict[str, Any]:
    return {
        "name": scope.name,
        "description": scope.description,
        "verified": scope.verified,
        "describes_company": scope.describes_company,
        "claims": {
            claim.name: {
                "name": claim.name,
                "attribute": claim.attribute,
                "description": claim.description,
                "multivalued": claim.multivalued,
            }
            for claim in scope.claims
        },
    }


def _platform_client(client: PlatformClient) -> dict[str, Any]:
    # Looked up by the access policy like an RP; `platform` lets the policy tell the two apart.
    return {
        "client_id": client.client_id,
        "platform": True,
        "accepted_tiers": [tier.value for tier in client.accepted_tiers],
        "min_acr": client.min_acr,
        "any_provisional": client.any_provisional,
    }


def _licence(licence: LicenceKind) -> dict[str, Any]:
    return {"kind": licence.kind, "name": licence.name, "body": licence.body}


def _attributes(profile: UserProfileDefinition) -> dict[str, Any]:
    # Computed claim sources (full_name, account_type, ...) are not here, so they are never operator-set.
    return {attr.name: {"name": attr.name, "operator_set": attr.operator_set} for attr in profile.attributes}


def _claim_attributes(scopes: list[ScopeDefinition]) -> dict[str, Any]:
    # Derived from the scopes (the one source): which shapes the release policy must check per attribute.
    # An attribute read by a scalar and by a multivalued claim gets both flags, and so both checks.
    shapes: dict[str, dict[str, bool]] = {}
    for scope in scopes:
        for claim in scope.claims:
            shape = shapes.setdefault(claim.attribute, {"scalar": False, "multivalued": False})
            shape["multivalued" if claim.multivalued else "scalar"] = True
    return shapes


def document(defs: Definitions, profile: UserProfileDefinition) -> dict[str, Any]:
    """The registry document (`data.bizid.registry`) for these definitions; JSON-ready."""
    return {
        "rps": {rp.client_id: _rp(rp) for rp in defs.rps},
        "tiers": {tier.name.value: _tier(tier) for tier in defs.tiers},
        "scopes": {scope.name: _scope(scope) for scope in defs.scopes},
        "attributes": _attributes(profile),
        "claim_attributes": _claim_attributes(list(defs.scopes)),
        "licences": {licence.kind: _licence(licence) for licence in defs.licences},
        "acr_loa": dict(ACR_LOA),
        "platform_clients": {
            c.client_id: _platform_client(c) for c in defs.platform_clients if c.enabled and c.grants
        },
    }


def write(defs: Definitions, directory: Path, *, profile: UserProfileDefinition) -> Path:
    """Write the registry under an OPA data directory; return the file written.

    The file is `<directory>/bizid/registry/data.json`, which OPA loads as `data.bizid.registry`.
    It is written to a temporary name first and renamed, so a running OPA never reads half a file.
    """
    target = directory.joinpath(*DATA_PATH, "data.json")
    target.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document(defs, profile), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    partial = target.with_name(target.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(target)
    return target
