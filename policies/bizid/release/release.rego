# METADATA
# title: Release - which claims does this relying party receive about this account?
# description: |
#   Asked by Keycloak's `bizid-release` protocol mapper whenever it builds an ID token, access token
#   or userinfo response, at POST /v1/data/bizid/release/decision. Keycloak puts exactly the claims
#   returned here into the token (plus the protocol claims it sets itself: sub, acr, amr, ...).
#
#   Nothing is released unless the input is well-formed AND bizid.access allows this account at this
#   RP with this input: a token can never carry claims about a login that would be refused.
#
#   A claim is released only when all of these hold:
#     - its scope was requested/granted (input.scopes) AND registered by the RP in the registry
#       (purpose limitation: an RP gets only what it registered for);
#     - the scope's claim list in the registry names it;
#     - the account has a value for it;
#     - for corporate claims (scope `corporate`): the tier's attributes are verified. Entry and
#       provisional Prime accounts are self-asserted, so their corporate claims are withheld and
#       listed in `withheld`. Their personal claims (name, e-mail, ...) are released, but only as
#       plain claims, never inside `verified_claims`, which is how an RP tells them apart;
#     - for the `delegation` claim: a valid delegation (bizid.delegation) is in the input.
#   For verified tiers, the claims of the verified scopes (registry `scopes.<name>.verified`: the
#   company, `corporate`) are also released inside `verified_claims` (OpenID Connect for Identity
#   Assurance), with the trust framework `jp_gbizid`, the tier as assurance level and the evidence the
#   tier was proofed with - but only claims that read an operator-set attribute (registry
#   `attributes.<name>.operator_set`, generated from the user profile's edit permissions). A value the
#   holder can edit (their own name, e-mail, phone) or that is computed from one (`name`) is never
#   inside verified_claims, whatever the scope says: a holder edit never changes a verified claim.
# related_resources:
#   - ref: https://openid.net/specs/openid-connect-4-identity-assurance-1_0.html
#     description: verified_claims
#   - ref: ../../../docs/claims.md
package bizid.release

import data.bizid.access
import data.bizid.delegation
import data.bizid.inputs
import data.bizid.registry

# METADATA
# title: The release decision (the entrypoint Keycloak queries)
# description: |
#   {"claims": {claim: value, ...}, "withheld": [{"claim", "scope", "reason", "message"}]}.
#   When nothing may be released, claims is {} and withheld holds one entry with claim "*" and the
#   reason (malformed_input, access_denied or no_decision).
# entrypoint: true
# scope: document
default decision := {
	"claims": {},
	"withheld": [{"claim": "*", "scope": "*", "reason": "no_decision", "message": "the policy reached no decision"}],
}

decision := {"claims": claims, "withheld": withheld}

# METADATA
# title: The released claims ({} unless the input is well-formed and access is allowed)
# scope: document
default claims := {}

claims := object.union(_plain_claims, _verified_claims) if _released

# METADATA
# title: Claims not released, and why
# scope: document
default withheld := [{"claim": "*", "scope": "*", "reason": "no_decision", "message": "the policy reached no decision"}]

withheld := sort(_withheld) if {
	_released
} else := sort({_refusal("malformed_input", problem) | some problem in _all_problems}) if {
	count(_all_problems) > 0
} else := [_refusal("access_denied", concat(", ", [reason.code | some reason in access.decision.reasons]))] if {
	not access.decision.allow
}

_refusal(reason, message) := {"claim": "*", "scope": "*", "reason": reason, "message": message}

# Does this scope's claims describe the company? Released only for tiers whose attributes are verified.
# From the registry (scopes.yaml `describes_company`); a registry scope that does not say counts as one
# (fail closed). Asked per granted scope, not computed over every registry scope.
_describes_company(scope) if object.get(registry.scopes[scope], "describes_company", true) != false

# Claims Keycloak sets itself; never emitted here even if a scope were to list them.
_protocol_claims := {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid"}

# Registry attributes that are computed here rather than read from the account.
_derived_attributes := {"full_name", "account_type", "delegation"}

# Evidence per verified tier (OIDC4IA `evidence`). A verified tier missing here gets no verified_claims.
_evidence := {
	"prime": [{"type": "document", "document_details": {"type": "jp_seal_registration_certificate"}}],
	"member": [{
		"type": "vouch",
		"attestation": {"type": "digital_attestation"},
		"voucher": {"occupation": "representative"},
	}],
}

_released if {
	count(_all_problems) == 0
	access.decision.allow == true
}

_all_problems := inputs.problems | problems

_rp := registry.rps[input.rp.client_id]

_tier := registry.tiers[input.account.tier]

# METADATA
# title: What is wrong with the release-specific part of the input
# description: |
#   input.scopes must be an array of strings (the scopes Keycloak granted for this request).
#   Every account attribute a registered claim reads must be absent, null, a string or a boolean
#   (an array of strings for multivalued claims).
# scope: document
problems contains "input.scopes must be an array of strings" if {
	not inputs.string_array(object.get(inputs.document, "scopes", null))
}

# (`registry.claim_attributes` is every attribute a scope's claim reads, with the shapes its claims
# read it as: precomputed by realm.opa_data from the same scopes. The checks walk the values the account
# has, cheapest test first: a string or boolean ends the scalar check, a shape lookup the array check;
# tests inline, not through helper functions, whose calls cost more than the tests. A non-object
# account has no attribute to walk; inputs.problems reports it.)
problems contains sprintf("input.account.%s must be absent, null, a string or a boolean", [attribute]) if {
	some attribute, value in input.account
	not is_string(value)
	not is_boolean(value)
	value != null
	registry.claim_attributes[attribute].scalar == true
	not attribute in _derived_attributes
}

problems contains sprintf("input.account.%s must be absent, null or an array of strings", [attribute]) if {
	some attribute, value in input.account
	registry.claim_attributes[attribute].multivalued == true
	value != null
	not inputs.string_array(value)
	not attribute in _derived_attributes
}

# Scopes both granted for this request and registered by the RP.
_granted_scopes contains scope if {
	some scope in input.scopes
	scope in _rp.scopes
	registry.scopes[scope]
}

# Granted scopes whose claims may be released for this account's tier: every granted scope, except
# the corporate ones when the tier's attributes are self-asserted.
_releasable_scopes := _granted_scopes if {
	_tier.attributes_verified == true
} else := {scope |
	some scope in _granted_scopes
	not _describes_company(scope)
}

# Values the claims read: the account's own attributes (never a caller-supplied derived one), then the
# derived ones computed here; built with builtins, not a comprehension over the account (null and "" are
# left out per claim in `_entries`).
_attribute_values := object.union(
	object.remove(input.account, _derived_attributes),
	{key: value | some [key, value] in _derived_values},
)

_derived_values contains ["full_name", full_name] if {
	full_name := concat(" ", [part |
		some key in ["lastName", "firstName"]
		part := input.account[key]
		is_string(part)
		part != ""
	])
}

_derived_values contains ["account_type", _tier.account_type]

_derived_values contains ["delegation", delegation.acting_for] if {
	input.delegation != null
	delegation.valid == true
}

# [scope, claim, value] for every claim released (comprehensions rather than partial rules: fewer
# allocations per decision, the same sets; docs/tuning.md "Release decision: levers").
_entries := {[scope, name, value] |
	some scope in _releasable_scopes
	some name, claim in registry.scopes[scope].claims
	not name in _protocol_claims
	value := _attribute_values[claim.attribute]
	value != null
	value != ""
}

_plain_claims := {name: value | some [_, name, value] in _entries}

# Claims put in verified_claims: of a verified scope AND read from an attribute only an operator sets.
_identity_claims := {name: value |
	some [scope, name, value] in _entries
	registry.scopes[scope].verified == true
	registry.attributes[registry.scopes[scope].claims[name].attribute].operator_set == true
}

default _verified_claims := {}

_verified_claims := {"verified_claims": {
	"verification": {
		"trust_framework": "jp_gbizid",
		"assurance_level": input.account.tier,
		"evidence": _evidence[input.account.tier],
	},
	"claims": _identity_claims,
}} if {
	_tier.attributes_verified == true
	count(_identity_claims) > 0
}

# METADATA
# title: Claims withheld for a well-formed, allowed request
# description: |
#   unverified_tier - a corporate claim for a tier whose attributes are self-asserted;
#   scope_not_registered - a claim of a scope the request asked for but the RP did not register.
# scope: document
_withheld contains {"claim": name, "scope": scope, "reason": "unverified_tier", "message": msg} if {
	some scope in (_granted_scopes - _releasable_scopes)
	some name in object.keys(registry.scopes[scope].claims)
	msg := sprintf(
		"%s accounts are self-asserted; corporate claims are released only for verified tiers",
		[input.account.tier],
	)
}

_withheld contains {"claim": name, "scope": scope, "reason": "scope_not_registered", "message": msg} if {
	some scope in input.scopes
	registry.scopes[scope]
	not scope in _rp.scopes
	some name in object.keys(registry.scopes[scope].claims)
	msg := sprintf("%s did not register the scope %s", [input.rp.client_id, scope])
}
