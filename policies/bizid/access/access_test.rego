package bizid.access_test

import data.bizid.access
import data.bizid.fixtures_test as fixtures

# --- helpers -------------------------------------------------------------------------------------

_decide(request) := decision if {
	decision := access.decision with input as request with data.bizid.registry as fixtures.registry
}

_codes(decision) := {reason.code | some reason in decision.reasons}

_allowed(rp, tier) if {
	decision := _decide(fixtures.input_for(rp, tier))
	decision.allow == true
	decision.reasons == []
}

_refused(request, code) if {
	decision := _decide(request)
	decision.allow == false
	code in _codes(decision)
}

_patched(rp, tier, patch) := object.union(fixtures.input_for(rp, tier), patch)

_without(rp, tier, path) := json.remove(fixtures.input_for(rp, tier), [path])

# --- tier x relying party --------------------------------------------------------------------------

test_entry_allowed_at_seminar_with_password_only if {
	_decide(_patched("seminar", "entry", {"authn": {"loa": 1}})) == {"allow": true, "reasons": []}
}

test_entry_refused_at_jgrants if {
	decision := _decide(fixtures.input_for("jgrants", "entry"))
	_codes(decision) == {"tier_not_accepted"}
}

test_entry_refused_at_it_subsidy if _refused(fixtures.input_for("it-subsidy", "entry"), "tier_not_accepted")

test_entry_refused_at_shaho if _refused(fixtures.input_for("shaho", "entry"), "tier_not_accepted")

test_prime_allowed_everywhere if {
	every rp in ["seminar", "it-subsidy", "jgrants", "shaho"] {
		_allowed(rp, "prime")
	}
}

test_member_allowed_everywhere if {
	every rp in ["seminar", "it-subsidy", "jgrants", "shaho"] {
		_allowed(rp, "member")
	}
}

test_provisional_prime_allowed_only_at_it_subsidy if {
	_allowed("it-subsidy", "provisional-prime")
	_codes(_decide(fixtures.input_for("seminar", "provisional-prime"))) == {"provisional_rp_not_allowed"}
	at_jgrants := _decide(fixtures.input_for("jgrants", "provisional-prime"))
	_codes(at_jgrants) == {"tier_not_accepted", "provisional_rp_not_allowed"}
}

test_provisional_prime_without_rp_list_refused if {
	request := _patched("it-subsidy", "provisional-prime", {"account": {"provisional_rps": null}})
	_codes(_decide(request)) == {"provisional_rp_not_allowed"}
	_refused(_without("it-subsidy", "provisional-prime", "account/provisional_rps"), "provisional_rp_not_allowed")
}

test_rp_list_is_ignored_for_other_tiers if {
	decision := _decide(_patched("jgrants", "prime", {"account": {"provisional_rps": ["seminar"]}}))
	decision.allow == true
}

# --- unknown names ---------------------------------------------------------------------------------

test_unknown_rp if {
	decision := _decide(fixtures.input_for("nowhere", "prime"))
	decision.allow == false
	decision.reasons == [{"code": "unknown_rp", "message": `relying party "nowhere" is not registered`}]
}

test_unknown_tier if {
	request := _patched("seminar", "prime", {"account": {"tier": "platinum"}})
	_codes(_decide(request)) == {"unknown_tier"}
}

# --- level of authentication -----------------------------------------------------------------------

test_prime_with_password_only_refused_even_where_rp_accepts_aal1 if {
	decision := _decide(_patched("seminar", "prime", {"authn": {"loa": 1}}))
	decision.reasons == [{"code": "acr_too_low", "message": "level of authentication 1 is below the required 2"}]
}

test_entry_needs_aal2_where_rp_requires_it if {
	registry := json.patch(fixtures.registry, [{"op": "replace", "path": "/rps/seminar/min_acr", "value": "aal2"}])
	decision := access.decision with input as _patched("seminar", "entry", {"authn": {"loa": 1}})
		with data.bizid.registry as registry
	_codes(decision) == {"acr_too_low"}
}

test_higher_loa_than_required_is_fine if {
	_decide(_patched("seminar", "entry", {"authn": {"loa": 2}})).allow == true
}

test_unknown_acr_in_registry_fails_closed if {
	registry := json.patch(fixtures.registry, [{"op": "replace", "path": "/rps/seminar/min_acr", "value": "aal3"}])
	decision := access.decision with input as fixtures.input_for("seminar", "prime")
		with data.bizid.registry as registry
	decision.allow == false
	_codes(decision) == {"no_decision"}
}

# --- account state ---------------------------------------------------------------------------------

test_suspended_account_refused if {
	decision := _decide(_patched("jgrants", "prime", {"account": {"status": "suspended"}}))
	decision.reasons == [{"code": "account_suspended", "message": "the account is suspended"}]
}

test_expired_account_refused if {
	decision := _decide(_patched("jgrants", "prime", {"account": {"valid_until": "2026-03-31"}}))
	decision.reasons == [{
		"code": "account_expired",
		"message": "the account was valid until 2026-03-31 (today is 2026-04-01, JST)",
	}]
}

test_account_valid_through_its_last_day if {
	_decide(_patched("jgrants", "prime", {"account": {"valid_until": "2026-04-01"}})).allow == true
}

test_expiry_uses_japan_standard_time if {
	# 2026-03-31T15:00Z is already 2026-04-01 00:00 in Japan: the account's last day has passed.
	late := _patched("jgrants", "prime", {"now": "2026-03-31T15:00:00Z", "account": {"valid_until": "2026-03-31"}})
	_codes(_decide(late)) == {"account_expired"}

	# One second earlier it is still 2026-03-31 in Japan.
	early := _patched("jgrants", "prime", {"now": "2026-03-31T14:59:59Z", "account": {"valid_until": "2026-03-31"}})
	_decide(early).allow == true

	# The offset written in `now` does not matter, only the instant.
	offset := _patched("jgrants", "prime", {"now": "2026-04-01T00:00:00+09:00", "account": {"valid_until": "2026-03-31"}})
	_codes(_decide(offset)) == {"account_expired"}
}

test_expired_entry_account_refused if {
	request := _patched("seminar", "entry", {"authn": {"loa": 1}, "account": {"valid_until": "2020-01-01"}})
	_codes(_decide(request)) == {"account_expired"}
}

test_tiers_needing_validity_refused_without_it if {
	every tier in ["prime", "member", "provisional-prime"] {
		_codes(_decide(_patched("it-subsidy", tier, {"account": {"valid_until": null}}))) == {"missing_validity"}
		_codes(_decide(_without("it-subsidy", tier, "account/valid_until"))) == {"missing_validity"}
	}
}

test_several_reasons_reported_together if {
	request := _patched("jgrants", "entry", {
		"account": {"status": "suspended", "valid_until": "2000-01-01"},
		"authn": {"loa": 0},
	})
	_codes(_decide(request)) == {"tier_not_accepted", "account_suspended", "account_expired", "acr_too_low"}
	[r.code | some r in _decide(request).reasons] == [
		"account_expired", "account_suspended", "tier_not_accepted",
		"acr_too_low",
	]
}

# The RP reads the first reason: an Entry account registered from jgrants (password only) is told the
# tier is not accepted, not that a second factor was missing.
test_acr_too_low_comes_last if {
	registered := _patched("jgrants", "entry", {"authn": {"loa": 1}})
	_decide(registered).reasons == [
		{"code": "tier_not_accepted", "message": `jgrants accepts only ["prime", "member"]; this account is "entry"`},
		{"code": "acr_too_low", "message": "level of authentication 1 is below the required 2"},
	]
}

test_acr_too_low_alone_is_reported if {
	weak := _patched("jgrants", "prime", {"authn": {"loa": 1}})
	_decide(weak).reasons == [{"code": "acr_too_low", "message": "level of authentication 1 is below the required 2"}]
}

# --- delegation hook -------------------------------------------------------------------------------

test_valid_delegation_allowed if {
	_decide(fixtures.delegated_input) == {"allow": true, "reasons": []}
}

test_invalid_delegation_refused if {
	request := object.union(fixtures.delegated_input, {"delegation": {"revoked": true}})
	decision := _decide(request)
	decision.reasons == [{"code": "delegation_invalid", "message": "revoked: the delegation was revoked"}]
}

test_unknown_delegation_named if {
	request := object.union(fixtures.delegated_input, {"delegation": null})
	unknown := object.union(request, {"delegation": {"id": "dlg-none"}})
	_decide(unknown).reasons == [{
		"code": "delegation_invalid",
		"message": `unknown_delegation: no delegation "dlg-none" was granted to this account`,
	}]
}

test_malformed_delegation_refused if {
	request := object.union(fixtures.delegated_input, {"grantor": null})
	decision := _decide(request)
	decision.allow == false
	_codes(decision) == {"delegation_invalid"}
}

test_delegation_without_grantor_refused if {
	decision := _decide(json.remove(fixtures.delegated_input, ["grantor"]))
	decision.allow == false
}

# --- malformed input: never an allow, reported only as malformed_input -----------------------------

test_input_not_an_object if {
	every request in [null, "x", 1, true, []] {
		decision := _decide(request)
		decision.allow == false
		_codes(decision) == {"malformed_input"}
	}
}

test_empty_input if {
	decision := _decide({})
	decision.allow == false
	{reason.message | some reason in decision.reasons} == {
		"input.rp.client_id must be a non-empty string",
		"input.account must be an object",
		"input.account.id must be a non-empty string",
		"input.account.username must be a non-empty string",
		"input.account.tier must be a non-empty string",
		`input.account.status must be "active" or "suspended"`,
		"input.authn.loa must be an integer level of authentication",
		"input.now must be an RFC 3339 timestamp",
		"input.decision_id must be a non-empty string",
	}
}

test_each_required_field_missing if {
	every path in [
		"rp", "rp/client_id", "account", "account/id", "account/username", "account/tier",
		"account/status", "authn", "authn/loa", "now", "decision_id",
	] {
		decision := _decide(_without("jgrants", "prime", path))
		decision.allow == false
		_codes(decision) == {"malformed_input"}
	}
}

_ill_typed_patches := [
	{"rp": {"client_id": 1}},
	{"rp": {"client_id": ""}},
	{"rp": "jgrants"},
	{"account": {"id": 7}},
	{"account": {"username": ["prime-user"]}},
	{"account": {"tier": {"name": "prime"}}},
	{"account": {"status": "ACTIVE"}},
	{"account": {"status": true}},
	{"account": {"valid_until": "2030-02-30"}},
	{"account": {"valid_until": "31/03/2030"}},
	{"account": {"valid_until": 20300331}},
	{"account": {"corporate_number": "7000012050003"}},
	{"account": {"corporate_number": "700001205000"}},
	{"account": {"corporate_number": 7000012050002}},
	{"account": {"prime_username": ""}},
	{"account": {"provisional_rps": "jgrants"}},
	{"account": {"provisional_rps": [1]}},
	{"authn": {"loa": "2"}},
	{"authn": {"loa": 1.5}},
	{"authn": {"loa": true}},
	{"now": "2026-04-01"},
	{"now": "2026-04-01 00:00:00Z"},
	{"now": "2026-13-01T00:00:00Z"},
	{"now": 1775001600},
	{"decision_id": 5},
	{"delegation": "dlg-1"},
	{"delegation": []},
]

test_ill_typed_fields if {
	every patch in _ill_typed_patches {
		decision := _decide(_patched("jgrants", "prime", patch))
		decision.allow == false
		_codes(decision) == {"malformed_input"}
	}
}

test_account_not_an_object if {
	decision := _decide(_patched("jgrants", "prime", {"account": "prime-user"}))
	decision.allow == false
	_codes(decision) == {"malformed_input"}
}

test_optional_fields_may_be_absent if {
	request := json.remove(fixtures.input_for("jgrants", "prime"), [
		"account/corporate_number", "account/prime_username", "account/provisional_rps", "delegation",
	])
	_decide(request) == {"allow": true, "reasons": []}
}

test_decision_shape_is_exact if {
	decision := _decide(fixtures.input_for("jgrants", "prime"))
	object.keys(decision) == {"allow", "reasons"}
	refused := _decide(fixtures.input_for("jgrants", "entry"))
	every reason in refused.reasons {
		object.keys(reason) == {"code", "message"}
	}
}

# --- phases ------------------------------------------------------------------------------------------

test_identified_phase_does_not_judge_the_level_yet if {
	_decide(_patched("jgrants", "prime", {"authn": {"loa": 1, "phase": "identified"}})) == {"allow": true, "reasons": []}
}

test_identified_phase_still_refuses_the_wrong_tier if {
	_refused(_patched("jgrants", "entry", {"authn": {"loa": 1, "phase": "identified"}}), "tier_not_accepted")
}

test_complete_phase_judges_the_level if {
	_refused(_patched("jgrants", "prime", {"authn": {"loa": 1, "phase": "complete"}}), "acr_too_low")
}

test_unknown_phase_is_malformed if {
	_refused(_patched("seminar", "entry", {"authn": {"loa": 1, "phase": "later"}}), "malformed_input")
}

# --- both sides refuse on their own ----------------------------------------------------------------
# The package promises that a deny rule which silently stops matching cannot turn into an allow,
# because every condition must also be met positively (and the other way round). These tests switch
# one side off and check that the other still refuses.

_allowed_by_conditions_alone(request) if {
	access.allow with input as request
		with data.bizid.registry as fixtures.registry
		with access.denials as set()
		with data.bizid.inputs.problems as set()
}

_decide_by_conditions_alone(request) := decision if {
	decision := access.decision with input as request
		with data.bizid.registry as fixtures.registry
		with access.denials as set()
		with data.bizid.inputs.problems as set()
}

test_conditions_alone_allow_a_valid_account if {
	_allowed_by_conditions_alone(fixtures.input_for("jgrants", "prime"))
	_allowed_by_conditions_alone(fixtures.input_for("seminar", "entry"))
	_allowed_by_conditions_alone(fixtures.input_for("it-subsidy", "provisional-prime"))
	_allowed_by_conditions_alone(fixtures.delegated_input)
}

test_conditions_alone_refuse if {
	refused := [
		fixtures.input_for("jgrants", "entry"),
		_patched("seminar", "prime", {"authn": {"loa": 1}}),
		_patched("jgrants", "prime", {"account": {"status": "suspended"}}),
		_patched("jgrants", "prime", {"account": {"valid_until": null}}),
		_patched("jgrants", "prime", {"account": {"valid_until": "2026-03-31"}}),
		_patched("jgrants", "prime", {"account": {"valid_until": "soon"}}),
		_patched("seminar", "entry", {"account": {"valid_until": "2026-03-31"}}),
		fixtures.input_for("seminar", "provisional-prime"),
		_patched("seminar", "provisional-prime", {"account": {"provisional_rps": null}}),
		object.union(fixtures.delegated_input, {"delegation": {"revoked": true}}),
		object.union(fixtures.input_for("jgrants", "member"), {"prime": {"status": "suspended"}}),
	]
	every request in refused {
		not _allowed_by_conditions_alone(request)
	}
}

test_conditions_alone_unmet_give_no_decision if {
	decision := _decide_by_conditions_alone(_patched("jgrants", "prime", {"account": {"status": "suspended"}}))
	decision == {
		"allow": false,
		"reasons": [{"code": "no_decision", "message": "the conditions for access were not all established"}],
	}
}

test_a_denial_alone_refuses if {
	request := _patched("jgrants", "prime", {"account": {"status": "suspended"}})
	decision := access.decision with input as request
		with data.bizid.registry as fixtures.registry
		with access._every_condition_met as true
	decision.allow == false
	_codes(decision) == {"account_suspended"}
}

test_provisional_prime_without_rp_list_has_one_reason if {
	request := _patched("it-subsidy", "provisional-prime", {"account": {"provisional_rps": null}})
	_decide(request).reasons == [{
		"code": "provisional_rp_not_allowed",
		"message": "a provisional-prime account names no relying party it may sign in to",
	}]
}

# --- platform clients (realm/definitions/platform-clients.yaml) -------------------------------------

_platform_registry := object.union(fixtures.registry, {"platform_clients": {
	"account-console": {
		"client_id": "account-console", "platform": true, "min_acr": "aal1",
		"accepted_tiers": ["entry", "prime", "member", "provisional-prime"], "any_provisional": true,
	},
	"help-desk": {
		"client_id": "help-desk", "platform": true, "min_acr": "aal1",
		"accepted_tiers": ["prime", "provisional-prime"], "any_provisional": false,
	},
}})

_decide_platform(request) := decision if {
	decision := access.decision with input as request with data.bizid.registry as _platform_registry
}

test_every_tier_reaches_the_account_console if {
	every tier in ["entry", "prime", "member", "provisional-prime"] {
		_decide_platform(fixtures.input_for("account-console", tier)) == {"allow": true, "reasons": []}
	}
}

test_provisional_prime_with_no_rp_list_reaches_the_account_console if {
	request := _without("account-console", "provisional-prime", "account/provisional_rps")
	_decide_platform(request) == {"allow": true, "reasons": []}
}

test_provisional_prime_refused_at_a_platform_client_without_any_provisional if {
	decision := _decide_platform(fixtures.input_for("help-desk", "provisional-prime"))
	_codes(decision) == {"provisional_rp_not_allowed"}
	unlisted := _without("help-desk", "provisional-prime", "account/provisional_rps")
	_codes(_decide_platform(unlisted)) == {"provisional_rp_not_allowed"}
}

test_platform_client_tiers_and_levels_apply if {
	_codes(_decide_platform(fixtures.input_for("help-desk", "entry"))) == {"tier_not_accepted"}
	at_aal1 := _patched("account-console", "prime", {"authn": {"loa": 1}})
	_codes(_decide_platform(at_aal1)) == {"acr_too_low"}
	suspended := _patched("account-console", "entry", {"account": {"status": "suspended"}})
	_codes(_decide_platform(suspended)) == {"account_suspended"}
}

test_platform_client_unknown_without_registry_entry if {
	_codes(_decide(fixtures.input_for("account-console", "entry"))) == {"unknown_rp"}
}

# --- a Member's permissions (member.rego) ----------------------------------------------------------

_member_with(rp, permissions) := json.patch(
	fixtures.input_for(rp, "member"),
	[{"op": "replace", "path": "/account/member_permissions", "value": permissions}],
)

test_member_permitted_for_the_rp_is_allowed if {
	_decide(_member_with("shaho", ["shaho"])) == {"allow": true, "reasons": []}
}

test_member_permitted_for_one_procedure_is_allowed_at_its_rp_for_that_procedure if {
	request := json.patch(_member_with("jgrants", ["jgrants/subsidy-report"]), [{"op": "add", "path": "/rp/procedure", "value": "subsidy-report"}])
	_decide(request) == {"allow": true, "reasons": []}
}

test_member_not_permitted_for_the_rp_is_refused if {
	decision := _decide(_member_with("shaho", ["jgrants", "seminar/x"]))
	decision.allow == false
	decision.reasons == [{
		"code": "member_not_permitted",
		"message": `the Member's Prime "prime-user" has not permitted it to use shaho`,
	}]
}

test_member_with_no_permissions_is_refused if {
	_codes(_decide(_member_with("seminar", []))) == {"member_not_permitted"}
}

test_member_without_the_field_is_refused if {
	_codes(_decide(_without("seminar", "member", "account/member_permissions"))) == {"member_not_permitted"}
}

test_member_permission_matches_the_whole_rp_id_not_a_prefix if {
	_codes(_decide(_member_with("jgrants", ["jgrant", "jgrants-x", "xjgrants"]))) == {"member_not_permitted"}
}

test_member_permission_procedure_part_does_not_name_the_rp if {
	_codes(_decide(_member_with("jgrants", ["seminar/jgrants"]))) == {"member_not_permitted"}
}

test_member_needs_no_permission_for_its_account_page if {
	_decide_platform(_member_with("account-console", [])) == {"allow": true, "reasons": []}
	_decide_platform(_without("account-console", "member", "account/member_permissions")).allow == true
}

test_permissions_do_not_limit_other_tiers if {
	every tier in ["prime", "entry"] {
		request := object.union(fixtures.input_for("seminar", tier), {"account": {"member_permissions": []}})
		_decide(request).allow == true
	}
}

test_member_permissions_must_be_strings if {
	_codes(_decide(_member_with("seminar", ["seminar", 3]))) == {"malformed_input"}
	_codes(_decide(_member_with("seminar", "seminar"))) == {"malformed_input"}
}

# The positive side on its own (`_member_scope_met` in `_every_condition_met`): a deny rule that failed
# to match must not let a Member in.
_member_scope_met(request) if {
	access._member_scope_met with input as request with data.bizid.registry as _platform_registry
}

test_member_scope_met_only_with_a_permission_or_on_a_platform_client if {
	_member_scope_met(_member_with("seminar", ["seminar"]))
	_member_scope_met(_member_with("jgrants", ["jgrants"]))
	_member_scope_met(_member_with("account-console", []))
	not _member_scope_met(_member_with("seminar", []))
	not _member_scope_met(_member_with("seminar", ["jgrants"]))
	not _member_scope_met(_without("seminar", "member", "account/member_permissions"))
	_member_scope_met(object.union(fixtures.input_for("seminar", "prime"), {"account": {"member_permissions": []}}))
}

test_member_without_permission_refused_by_the_conditions_alone if {
	_decide_by_conditions_alone(_member_with("seminar", [])).allow == false
	_decide_by_conditions_alone(_member_with("seminar", ["seminar"])).allow == true
}
