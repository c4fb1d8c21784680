package bizid.release_test

import data.bizid.fixtures_test as fixtures
import data.bizid.release

# --- helpers -------------------------------------------------------------------------------------

_decide(request) := decision if {
	decision := release.decision with input as request with data.bizid.registry as fixtures.registry
}

_patched(rp, tier, patch) := object.union(fixtures.input_for(rp, tier), patch)

_nothing_released(request, reason) if {
	decision := _decide(request)
	decision.claims == {}
	reason in {entry.reason | some entry in decision.withheld}
}

# --- verified tiers --------------------------------------------------------------------------------

test_prime_at_jgrants if {
	decision := _decide(fixtures.input_for("jgrants", "prime"))
	decision.withheld == []
	decision.claims == _prime_claims
}

_prime_claims := {
	"family_name": "山田",
	"given_name": "太郎",
	"name": "山田 太郎",
	"email": "taro@example.jp",
	"email_verified": true,
	"account_type": 2,
	"tier": "prime",
	"valid_until": "2030-03-31",
	"corporate_number": fixtures.corp_a,
	"corporate_name": "山田商事株式会社",
	"corporate_type": "corporation",
	"representative_name": "山田 太郎",
	"corporate_address": "東京都千代田区霞が関1-1-1",
	"verified_claims": {
		"verification": {
			"trust_framework": "jp_gbizid",
			"assurance_level": "prime",
			"evidence": [{"type": "document", "document_details": {"type": "jp_seal_registration_certificate"}}],
		},
		"claims": {
			"corporate_number": fixtures.corp_a,
			"corporate_name": "山田商事株式会社",
			"corporate_type": "corporation",
			"representative_name": "山田 太郎",
			"corporate_address": "東京都千代田区霞が関1-1-1",
		},
	},
}

test_member_at_it_subsidy_gets_branch_and_vouch_evidence if {
	decision := _decide(fixtures.input_for("it-subsidy", "member"))
	decision.claims.account_type == 3
	decision.claims.branch == "大阪支店"
	decision.claims.verified_claims.claims.branch == "大阪支店"
	decision.claims.verified_claims.verification.assurance_level == "member"
	decision.claims.verified_claims.verification.evidence[0].type == "vouch"
}

test_verified_claims_only_hold_identity_claims if {
	decision := _decide(fixtures.input_for("jgrants", "prime"))
	every name in ["email", "email_verified", "account_type", "tier", "valid_until"] {
		not name in object.keys(decision.claims.verified_claims.claims)
	}
}

test_holder_editable_names_are_never_verified if {
	# The user's own name is holder-editable (user-profile.yaml): released plain, never as verified.
	decision := _decide(fixtures.input_for("jgrants", "prime"))
	decision.claims.family_name == "山田"
	every name in ["family_name", "given_name", "name"] {
		not name in object.keys(decision.claims.verified_claims.claims)
	}
}

test_a_holder_edit_never_changes_verified_claims if {
	before := _decide(fixtures.input_for("jgrants", "prime"))
	edited := _decide(_patched("jgrants", "prime", {"account": {
		"firstName": "Anyone", "lastName": "Impostor",
		"email": "impostor@example.jp", "phone_number": "+81300000000",
	}}))
	edited.claims.name == "Impostor Anyone"
	edited.claims.verified_claims == before.claims.verified_claims
}

test_a_verified_scope_releases_only_operator_set_attributes_as_verified if {
	# Even if a verified scope listed a holder-editable attribute (the definitions refuse to load such a
	# scope), the policy would release it only as a plain claim.
	registry := json.patch(fixtures.registry, [
		{"op": "add", "path": "/scopes/corporate/claims/contact_name", "value": {
			"name": "contact_name", "attribute": "lastName", "description": "x", "multivalued": false,
		}},
		{"op": "add", "path": "/scopes/corporate/claims/company_code", "value": {
			"name": "company_code", "attribute": "full_name", "description": "x", "multivalued": false,
		}},
	])
	decision := release.decision with input as fixtures.input_for("jgrants", "prime")
		with data.bizid.registry as registry
	decision.claims.contact_name == "山田"
	decision.claims.company_code == "山田 太郎"
	not "contact_name" in object.keys(decision.claims.verified_claims.claims)
	not "company_code" in object.keys(decision.claims.verified_claims.claims)
	decision.claims.verified_claims.claims.corporate_number == fixtures.corp_a
}

test_an_attribute_missing_from_the_registry_is_not_verified if {
	registry := json.remove(fixtures.registry, ["attributes/corporate_name"])
	decision := release.decision with input as fixtures.input_for("jgrants", "prime")
		with data.bizid.registry as registry
	decision.claims.corporate_name == "山田商事株式会社"
	not "corporate_name" in object.keys(decision.claims.verified_claims.claims)
	decision.claims.verified_claims.claims.corporate_number == fixtures.corp_a
}

test_only_verified_scopes_go_into_verified_claims if {
	# Operator-set attributes of a scope that is not verified (account: tier, valid_until) stay plain.
	decision := _decide(fixtures.input_for("jgrants", "prime"))
	decision.claims.tier == "prime"
	not "tier" in object.keys(decision.claims.verified_claims.claims)

	# Made verified, the scope's operator-set claims are in verified_claims, the computed one is not.
	registry := json.patch(fixtures.registry, [{"op": "replace", "path": "/scopes/account/verified", "value": true}])
	verified := release.decision with input as fixtures.input_for("jgrants", "prime")
		with data.bizid.registry as registry
	verified.claims.verified_claims.claims.tier == "prime"
	verified.claims.verified_claims.claims.valid_until == "2030-03-31"
	not "account_type" in object.keys(verified.claims.verified_claims.claims)
}

test_no_verified_claims_without_a_verified_scope if {
	decision := _decide(_patched("jgrants", "prime", {"scopes": ["openid", "profile", "email", "account"]}))
	decision.claims.family_name == "山田"
	not "verified_claims" in object.keys(decision.claims)
}

test_no_verified_claims_without_identity_scopes if {
	decision := _decide(_patched("jgrants", "prime", {"scopes": ["openid", "email", "account"]}))
	decision.claims == {
		"email": "taro@example.jp", "email_verified": true,
		"account_type": 2, "tier": "prime", "valid_until": "2030-03-31",
	}
}

test_verified_tier_without_evidence_gets_no_verified_claims if {
	registry := json.patch(fixtures.registry, [{
		"op": "replace", "path": "/tiers/entry/attributes_verified",
		"value": true,
	}])
	decision := release.decision with input as _patched("seminar", "entry", {"authn": {"loa": 1}})
		with data.bizid.registry as registry
	decision.claims.name == "鈴木 花子"
	not "verified_claims" in object.keys(decision.claims)
}

# --- self-asserted tiers ---------------------------------------------------------------------------

test_entry_at_seminar_self_asserted if {
	decision := _decide(_patched("seminar", "entry", {"authn": {"loa": 1}}))
	decision.claims == {
		"family_name": "鈴木",
		"given_name": "花子",
		"name": "鈴木 花子",
		"email": "hanako@example.jp",
		"email_verified": true,
		"account_type": 1,
		"tier": "entry",
	}

	# corporate was requested but seminar never registered it
	{entry.reason | some entry in decision.withheld} == {"scope_not_registered"}
}

test_provisional_prime_corporate_claims_withheld if {
	decision := _decide(fixtures.input_for("it-subsidy", "provisional-prime"))
	decision.claims == {
		"family_name": "高橋",
		"given_name": "三郎",
		"name": "高橋 三郎",
		"email": "saburo@example.jp",
		"email_verified": false,
		"account_type": 2,
		"tier": "provisional-prime",
		"valid_until": "2026-12-31",
	}
	{entry.claim | some entry in decision.withheld} == {
		"corporate_number", "corporate_name", "corporate_type",
		"representative_name", "corporate_address", "branch",
	}
	every entry in decision.withheld {
		entry.reason == "unverified_tier"
		entry.scope == "corporate"
	}
}

# --- scopes ----------------------------------------------------------------------------------------

test_only_requested_scopes if {
	decision := _decide(_patched("jgrants", "prime", {"scopes": ["openid", "email"]}))
	decision.claims == {"email": "taro@example.jp", "email_verified": true}
	decision.withheld == []
}

test_unregistered_scope_withheld if {
	decision := _decide(_patched("jgrants", "prime", {"scopes": ["phone"]}))
	decision.claims == {}
	decision.withheld == [{
		"claim": "phone_number",
		"scope": "phone",
		"reason": "scope_not_registered",
		"message": "jgrants did not register the scope phone",
	}]
}

test_unknown_scopes_ignored if {
	decision := _decide(_patched("jgrants", "prime", {"scopes": ["openid", "offline_access", "roles"]}))
	decision == {"claims": {}, "withheld": []}
}

test_missing_values_not_released if {
	request := json.remove(fixtures.input_for("jgrants", "prime"), ["account/email", "account/firstName"])
	decision := _decide(object.union(request, {"account": {"address": null, "corporate_type": ""}}))
	not "email" in object.keys(decision.claims)
	not "given_name" in object.keys(decision.claims)
	not "corporate_address" in object.keys(decision.claims)
	not "corporate_type" in object.keys(decision.claims)
	decision.claims.name == "山田"
}

test_no_name_when_neither_part_known if {
	request := json.remove(fixtures.input_for("jgrants", "prime"), ["account/lastName", "account/firstName"])
	decision := _decide(request)
	not "name" in object.keys(decision.claims)
}

test_caller_cannot_inject_derived_claims if {
	request := _patched("jgrants", "prime", {
		"scopes": ["profile", "account", "delegation"],
		"account": {"account_type": 9, "full_name": "偽名", "delegation": {"principal": "someone"}},
	})
	decision := _decide(request)
	decision.claims.account_type == 2
	decision.claims.name == "山田 太郎"
	not "delegation" in object.keys(decision.claims)
}

# --- delegation ------------------------------------------------------------------------------------

test_delegation_claim_released if {
	decision := _decide(fixtures.delegated_input)
	decision.claims.delegation.delegation_id == "dlg-1"
	decision.claims.delegation.principal.corporate_number == fixtures.corp_a
	decision.claims.name == "田中 税子"
}

test_delegation_claim_needs_the_scope if {
	decision := _decide(object.union(fixtures.delegated_input, {"scopes": ["profile"]}))
	not "delegation" in object.keys(decision.claims)
	decision.claims.name == "田中 税子"
}

test_delegation_claim_needs_rp_registration if {
	registry := json.patch(fixtures.registry, [{"op": "replace", "path": "/rps/jgrants/scopes", "value": ["profile"]}])
	decision := release.decision with input as fixtures.delegated_input with data.bizid.registry as registry
	not "delegation" in object.keys(decision.claims)
	{entry.reason | some entry in decision.withheld} == {"scope_not_registered"}
}

test_invalid_delegation_releases_nothing if {
	_nothing_released(object.union(fixtures.delegated_input, {"delegation": {"revoked": true}}), "access_denied")
}

# --- refusals: nothing at all is released ----------------------------------------------------------

test_access_denied_releases_nothing if {
	decision := _decide(fixtures.input_for("jgrants", "entry"))
	decision == {"claims": {}, "withheld": [{
		"claim": "*",
		"scope": "*",
		"reason": "access_denied",
		"message": "tier_not_accepted",
	}]}
}

test_suspended_account_releases_nothing if {
	_nothing_released(_patched("jgrants", "prime", {"account": {"status": "suspended"}}), "access_denied")
}

test_malformed_input_releases_nothing if {
	every request in [
		null,
		{},
		"jgrants",
		json.remove(fixtures.input_for("jgrants", "prime"), ["scopes"]),
		json.remove(fixtures.input_for("jgrants", "prime"), ["decision_id"]),
		_patched("jgrants", "prime", {"scopes": "profile email"}),
		_patched("jgrants", "prime", {"scopes": [1, 2]}),
		_patched("jgrants", "prime", {"account": {"email": 5}}),
		_patched("jgrants", "prime", {"account": {"lastName": ["山田"]}}),
		_patched("jgrants", "prime", {"account": {"emailVerified": {"value": true}}}),
		_patched("jgrants", "prime", {"authn": {"loa": "2"}}),
	] {
		_nothing_released(request, "malformed_input")
	}
}

test_multivalued_claims_must_be_string_arrays if {
	registry := _with_claims(json.patch(fixtures.registry, [{
		"op": "replace", "path": "/scopes/corporate/claims/branch/multivalued",
		"value": true,
	}]))
	branches := _patched("it-subsidy", "member", {"account": {"branch": ["大阪支店", "京都支店"]}})
	good := release.decision with input as branches
		with data.bizid.registry as registry
	good.claims.branch == ["大阪支店", "京都支店"]
	bad := release.decision with input as fixtures.input_for("it-subsidy", "member") with data.bizid.registry as registry
	bad.claims == {}
}

test_protocol_claims_never_emitted if {
	registry := json.patch(fixtures.registry, [{
		"op": "add", "path": "/scopes/profile/claims/sub",
		"value": {"name": "sub", "attribute": "username", "description": "x", "multivalued": false},
	}])
	decision := release.decision with input as fixtures.input_for("jgrants", "prime") with data.bizid.registry as registry
	decision.claims.name == "山田 太郎"
	not "sub" in object.keys(decision.claims)
}

test_access_without_decision_releases_nothing if {
	decision := release.decision with input as fixtures.input_for("jgrants", "prime")
		with data.bizid.registry as fixtures.registry
		with data.bizid.access.decision as {}
	decision.claims == {}
	decision.withheld[0].reason == "access_denied"
}

# --- exact shapes ----------------------------------------------------------------------------------

test_member_evidence_is_a_vouch_by_the_representative if {
	decision := _decide(fixtures.input_for("it-subsidy", "member"))
	decision.claims.verified_claims.verification == {
		"trust_framework": "jp_gbizid",
		"assurance_level": "member",
		"evidence": [{
			"type": "vouch",
			"attestation": {"type": "digital_attestation"},
			"voucher": {"occupation": "representative"},
		}],
	}
}

test_one_identity_claim_is_enough_for_verified_claims if {
	request := json.remove(
		_patched("it-subsidy", "prime", {"scopes": ["openid", "corporate"]}),
		["account/corporate_name", "account/corporate_type", "account/representative_name", "account/address"],
	)
	decision := _decide(request)
	decision.claims == {
		"corporate_number": fixtures.corp_a,
		"verified_claims": {
			"verification": {
				"trust_framework": "jp_gbizid",
				"assurance_level": "prime",
				"evidence": [{"type": "document", "document_details": {"type": "jp_seal_registration_certificate"}}],
			},
			"claims": {"corporate_number": fixtures.corp_a},
		},
	}
}

test_unverified_attributes_get_no_verified_claims_whatever_the_tier if {
	# prime has evidence and `account` is made a verified scope with an operator-set attribute (tier):
	# only attributes_verified keeps verified_claims out
	registry := json.patch(fixtures.registry, [
		{"op": "replace", "path": "/tiers/prime/attributes_verified", "value": false},
		{"op": "replace", "path": "/scopes/account/verified", "value": true},
	])
	decision := release.decision with input as fixtures.input_for("it-subsidy", "prime")
		with data.bizid.registry as registry
	not "verified_claims" in object.keys(decision.claims)
	not "corporate_number" in object.keys(decision.claims)
	decision.claims.name == "山田 太郎"
}

test_withheld_corporate_claim_entry if {
	decision := _decide(fixtures.input_for("it-subsidy", "provisional-prime"))
	{
		"claim": "corporate_number",
		"scope": "corporate",
		"reason": "unverified_tier",
		"message": "provisional-prime accounts are self-asserted; corporate claims are released only for verified tiers",
	} in decision.withheld
}

test_empty_name_part_is_left_out if {
	decision := _decide(_patched("jgrants", "prime", {"account": {"firstName": ""}}))
	decision.claims.name == "山田"
	not "given_name" in object.keys(decision.claims)
}

test_caller_cannot_supply_the_full_name if {
	request := json.remove(
		_patched("jgrants", "prime", {"account": {"full_name": "偽名"}}),
		["account/firstName", "account/lastName"],
	)
	decision := _decide(request)
	not "name" in object.keys(decision.claims)
	not "name" in object.keys(decision.claims.verified_claims.claims)
}

test_caller_supplied_derived_attributes_of_any_shape_are_ignored if {
	# Computed here, never read from the account: neither shape-checked nor released, whatever was sent.
	request := _patched("jgrants", "prime", {"account": {
		"full_name": ["偽名"],
		"account_type": {"forged": true},
		"delegation": ["forged"],
	}})
	decision := _decide(request)
	decision.withheld == []
	decision.claims == _prime_claims
}

test_protocol_claims_are_all_reserved if {
	reserved := ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "azp", "sid"]
	patches := [{
		"op": "add", "path": concat("/", ["", "scopes", "profile", "claims", claim]),
		"value": {"name": claim, "attribute": "username", "description": "x", "multivalued": false},
	} |
		some claim in reserved
	]
	decision := release.decision with input as fixtures.input_for("jgrants", "prime")
		with data.bizid.registry as json.patch(fixtures.registry, patches)
	decision.claims.name == "山田 太郎"
	every claim in reserved {
		not claim in object.keys(decision.claims)
	}
}

test_multivalued_claims_may_be_absent_or_null if {
	registry := _with_claims(json.patch(fixtures.registry, [{
		"op": "replace", "path": "/scopes/corporate/claims/branch/multivalued",
		"value": true,
	}]))
	every request in [
		_patched("it-subsidy", "member", {"account": {"branch": null}}),
		json.remove(fixtures.input_for("it-subsidy", "member"), ["account/branch"]),
	] {
		decision := release.decision with input as request with data.bizid.registry as registry
		decision.claims.corporate_number == fixtures.corp_a
		not "branch" in object.keys(decision.claims)
	}
}

test_derived_multivalued_attribute_is_never_read_from_the_account if {
	registry := _with_claims(json.patch(fixtures.registry, [{
		"op": "replace", "path": "/scopes/delegation/claims/delegation/multivalued",
		"value": true,
	}]))
	request := _patched("jgrants", "prime", {"account": {"delegation": "forged"}})
	decision := release.decision with input as request with data.bizid.registry as registry
	decision.claims.name == "山田 太郎"
	not "delegation" in object.keys(decision.claims)
}

test_self_asserted_tiers_get_no_verified_claims_even_for_operator_set_values if {
	# `tier` is operator-set; in a verified scope it would be verified - but never for a self-asserted tier.
	registry := json.patch(fixtures.registry, [{"op": "replace", "path": "/scopes/account/verified", "value": true}])
	decision := release.decision with input as _patched("seminar", "entry", {"authn": {"loa": 1}})
		with data.bizid.registry as registry
	decision.claims.tier == "entry"
	not "verified_claims" in object.keys(decision.claims)
}

test_member_of_a_suspended_prime_gets_no_claims if {
	# Release asks access, which judges the issuing Prime's current record: nothing, not even plain claims.
	request := object.union(fixtures.input_for("jgrants", "member"), {"prime": {"status": "suspended"}})
	decision := _decide(request)
	decision.claims == {}
	decision.withheld == [{"claim": "*", "scope": "*", "reason": "access_denied", "message": "prime_suspended"}]
}

test_a_scope_that_does_not_say_counts_as_describing_the_company if {
	registry := json.remove(fixtures.registry, ["scopes/corporate/describes_company"])
	decision := release.decision with input as fixtures.input_for("it-subsidy", "provisional-prime")
		with data.bizid.registry as registry
	not "corporate_number" in object.keys(decision.claims)
	withheld := {entry.claim | some entry in decision.withheld; entry.reason == "unverified_tier"}
	{"corporate_number", "corporate_name"} - withheld == set()
}

# A patched test registry with `claim_attributes` derived again from its scopes (as realm.opa_data does).
_with_claims(registry) := object.union(registry, {"claim_attributes": fixtures.claim_attributes(registry.scopes)})
