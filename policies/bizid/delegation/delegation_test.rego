package bizid.delegation_test

import data.bizid.delegation
import data.bizid.fixtures_test as fixtures

# --- helpers -------------------------------------------------------------------------------------

_decide(request) := decision if {
	decision := delegation.decision with input as request with data.bizid.registry as fixtures.registry
}

_codes(decision) := {reason.code | some reason in decision.reasons}

_patched(patch) := object.union(fixtures.delegated_input, patch)

_refused(patch, code) if {
	decision := _decide(_patched(patch))
	decision.valid == false
	decision.acting_for == null
	_codes(decision) == {code}
}

# --- valid delegations -----------------------------------------------------------------------------

test_valid_delegation if {
	decision := _decide(fixtures.delegated_input)
	decision.valid == true
	decision.reasons == []
	decision.acting_for == {
		"delegation_id": "dlg-1",
		"principal": {"corporate_number": fixtures.corp_a, "corporate_name": "山田商事株式会社"},
		"procedures": [
			{"id": "subsidy-application", "name": "Subsidy application", "licences": []},
			{"id": "subsidy-report", "name": "Subsidy report", "licences": [{"kind": "zeirishi", "number": "123456"}]},
		],
		"not_before": "2026-01-01T00:00:00+09:00",
		"not_after": "2026-12-31T23:59:59+09:00",
	}
}

test_procedure_without_licence_requirement_needs_no_licence if {
	request := _patched({"delegation": {"procedures": ["subsidy-application"]}, "licences": null})
	decision := _decide(request)
	decision.valid == true
	decision.acting_for.procedures == [{"id": "subsidy-application", "name": "Subsidy application", "licences": []}]
}

test_licences_may_be_absent if {
	request := json.remove(_patched({"delegation": {"procedures": ["subsidy-application"]}}), ["licences"])
	_decide(request).valid == true
}

test_principal_name_optional if {
	request := json.remove(fixtures.delegated_input, ["grantor/corporate_name"])
	_decide(request).acting_for.principal == {"corporate_number": fixtures.corp_a}
}

test_licence_with_expiry_in_the_future if {
	licence := object.union(fixtures.licence, {"not_after": "2027-03-31T23:59:59+09:00"})
	_decide(_patched({"licences": [licence]})).valid == true
}

test_any_accepted_licence_kind_will_do if {
	licence := object.union(fixtures.licence, {"kind": "gyoseishoshi"})
	decision := _decide(_patched({"licences": [licence]}))
	decision.valid == true
	decision.acting_for.procedures[1].licences == [{"kind": "gyoseishoshi", "number": "123456"}]
}

test_validity_bounds_are_inclusive if {
	_decide(_patched({"now": "2026-01-01T00:00:00+09:00"})).valid == true
	_decide(_patched({"now": "2026-12-31T23:59:59+09:00"})).valid == true
}

# --- no delegation ---------------------------------------------------------------------------------

test_no_delegation if {
	without := fixtures.input_for("jgrants", "prime")
	every request in [without, json.remove(without, ["delegation"])] {
		decision := _decide(request)
		decision.valid == false
		decision.acting_for == null
		_codes(decision) == {"no_delegation"}
	}
}

# --- a delegation id the account does not hold (Keycloak sends only the id) ----------------------

test_unknown_delegation if {
	request := object.union(fixtures.delegated_input, {"delegation": null})
	decision := _decide(object.union(request, {"delegation": {"id": "dlg-none"}}))
	decision == {
		"valid": false,
		"reasons": [{"code": "unknown_delegation", "message": `no delegation "dlg-none" was granted to this account`}],
		"acting_for": null,
	}
}

test_a_record_with_more_than_an_id_is_judged if {
	request := object.union(fixtures.delegated_input, {"delegation": null})
	decision := _decide(object.union(request, {"delegation": {"id": "dlg-none", "rp": "jgrants"}}))
	"malformed_input" in _codes(decision)
}

# --- each condition --------------------------------------------------------------------------------

test_wrong_rp if _refused({"rp": {"client_id": "shaho"}}, "wrong_rp")

test_unknown_rp if {
	decision := _decide(_patched({"rp": {"client_id": "nowhere"}, "delegation": {"rp": "nowhere"}}))
	decision.valid == false
	"unknown_rp" in _codes(decision)
}

test_wrong_delegate if _refused({"account": {"username": "someone-else"}}, "wrong_delegate")

test_not_yet_valid if _refused({"now": "2025-12-31T14:59:59Z"}, "not_yet_valid")

test_expired if _refused({"now": "2026-12-31T15:00:00Z"}, "expired")

test_revoked if _refused({"delegation": {"revoked": true}}, "revoked")

test_grantor_mismatch if _refused({"grantor": {"username": "other-prime"}}, "grantor_mismatch")

test_grantor_must_be_prime if {
	every tier in ["member", "entry", "provisional-prime"] {
		_refused({"grantor": {"tier": tier}}, "grantor_not_prime")
	}
}

test_grantor_must_belong_to_principal if {
	_refused({"grantor": {"corporate_number": fixtures.corp_b}}, "grantor_not_of_principal")
}

test_grantor_suspended if _refused({"grantor": {"status": "suspended"}}, "grantor_inactive")

test_grantor_expired if _refused({"grantor": {"valid_until": "2026-03-31"}}, "grantor_inactive")

test_grantor_without_validity if {
	_refused({"grantor": {"valid_until": null}}, "grantor_inactive")
	decision := _decide(json.remove(fixtures.delegated_input, ["grantor/valid_until"]))
	_codes(decision) == {"grantor_inactive"}
}

test_unknown_procedure if {
	decision := _decide(_patched({"delegation": {"procedures": ["subsidy-application", "tax-return"]}}))
	decision.valid == false
	decision.reasons == [{"code": "unknown_procedure", "message": `"tax-return" is not a procedure of jgrants`}]
}

test_procedure_of_another_rp_is_unknown if {
	_refused({"delegation": {"procedures": ["insurance-notification"]}}, "unknown_procedure")
}

test_licence_required if {
	decision := _decide(_patched({"licences": []}))
	decision.valid == false
	decision.reasons == [{
		"code": "licence_required",
		"message": `"subsidy-report" requires the delegate to hold a valid licence of one of ["gyoseishoshi", "zeirishi"]`,
	}]
}

test_unusable_licences if {
	every licence in [
		object.union(fixtures.licence, {"kind": "sharoshi"}),
		object.union(fixtures.licence, {"holder_username": "someone-else"}),
		object.union(fixtures.licence, {"revoked": true}),
		object.union(fixtures.licence, {"not_after": "2026-03-31T23:59:59+09:00"}),
	] {
		_refused({"licences": [licence]}, "licence_required")
	}
}

test_shaho_requires_sharoshi if {
	shaho := {
		"rp": {"client_id": "shaho"},
		"delegation": {"rp": "shaho", "procedures": ["insurance-notification"]},
	}
	_refused(shaho, "licence_required")
	sharoshi := object.union(fixtures.licence, {"kind": "sharoshi", "number": "13-0001"})
	decision := _decide(_patched(object.union(shaho, {"licences": [fixtures.licence, sharoshi]})))
	decision.valid == true
	decision.acting_for.procedures[0].licences == [{"kind": "sharoshi", "number": "13-0001"}]
}

test_several_reasons_together if {
	decision := _decide(_patched({"delegation": {"revoked": true}, "grantor": {"tier": "member"}, "licences": []}))
	_codes(decision) == {"revoked", "grantor_not_prime", "licence_required"}
}

# --- malformed input -------------------------------------------------------------------------------

_malformed_patches := [
	{"delegation": "dlg-1"},
	{"delegation": {"id": 1}},
	{"delegation": {"granted_by": ""}},
	{"delegation": {"delegate_username": null}},
	{"delegation": {"rp": ["jgrants"]}},
	{"delegation": {"principal_corporate_number": "7000012050003"}},
	{"delegation": {"procedures": []}},
	{"delegation": {"procedures": "subsidy-application"}},
	{"delegation": {"procedures": [1]}},
	{"delegation": {"not_before": "2026-01-01"}},
	{"delegation": {"not_after": null}},
	{"delegation": {"revoked": "false"}},
	{"grantor": "prime-user"},
	{"grantor": {"tier": 2}},
	{"grantor": {"corporate_number": null}},
	{"grantor": {"status": "ok"}},
	{"grantor": {"valid_until": "tomorrow"}},
	{"grantor": {"corporate_name": 5}},
	{"licences": {"kind": "zeirishi"}},
	{"licences": ["zeirishi"]},
	{"licences": [{}]},
	{"licences": [object.union(fixtures.licence, {"not_after": "soon"})]},
	{"licences": [object.union(fixtures.licence, {"revoked": null})]},
	{"now": "yesterday"},
	{"rp": {"client_id": 3}},
	{"account": {"username": ""}},
]

test_malformed_fields if {
	every patch in _malformed_patches {
		decision := _decide(_patched(patch))
		decision.valid == false
		decision.acting_for == null
		_codes(decision) == {"malformed_input"}
	}
}

test_licence_without_expiry_key_is_malformed if {
	licence := json.remove(fixtures.licence, ["not_after"])
	decision := _decide(_patched({"licences": [licence]}))
	decision.reasons == [{
		"code": "malformed_input",
		"message": "input.licences[0] not_after must be an RFC 3339 timestamp or null",
	}]
}

test_missing_grantor_is_malformed if {
	decision := _decide(json.remove(fixtures.delegated_input, ["grantor"]))
	decision.valid == false
	"input.grantor must be an object" in {reason.message | some reason in decision.reasons}
}

# A delegation that is not a record (an id string, an array) is named as such, not only through the
# fields it lacks: bizid.delegation is also asked directly (the CLI), where inputs.problems is not.
test_delegation_not_an_object_is_named if {
	every value in ["dlg-1", [], 7, true] {
		decision := _decide(_patched({"delegation": value}))
		decision.valid == false
		{"code": "malformed_input", "message": "input.delegation must be an object"} in decision.reasons
	}
}

test_unknown_registry_rp_fails_closed if {
	registry := json.remove(fixtures.registry, ["rps/jgrants"])
	decision := delegation.decision with input as fixtures.delegated_input with data.bizid.registry as registry
	decision.valid == false
	_codes(decision) == {"unknown_rp", "unknown_procedure"}
}

# --- licence records -------------------------------------------------------------------------------

test_licence_without_number_does_not_qualify if {
	every licence in [json.remove(fixtures.licence, ["number"]), object.union(fixtures.licence, {"number": ""})] {
		decision := _decide(_patched({"licences": [licence]}))
		decision.valid == false
		decision.reasons == [{"code": "malformed_input", "message": "input.licences[0] number must be a non-empty string"}]

		# and not even with the shape check switched off: a licence is usable only with a number
		alone := _decide_by_conditions_alone(_patched({"licences": [licence]}))
		alone.valid == false
		"subsidy-report" in delegation._unlicensed_procedures with input as _patched({"licences": [licence]})
			with data.bizid.registry as fixtures.registry
	}
}

test_licence_valid_until_the_instant_it_expires if {
	licence := object.union(fixtures.licence, {"not_after": fixtures.now})
	_decide(_patched({"licences": [licence]})).valid == true
}

test_grantor_valid_through_its_last_day if {
	_decide(_patched({"grantor": {"valid_until": "2026-04-01"}})).valid == true
}

test_licence_problems_name_the_field if {
	licence := {"kind": 1, "number": "1", "holder_username": "zeirishi-user", "not_after": null, "revoked": false}
	decision := _decide(_patched({"licences": [fixtures.licence, licence]}))
	decision.reasons == [{"code": "malformed_input", "message": "input.licences[1] kind must be a non-empty string"}]
}

test_malformed_messages_name_the_path if {
	decision := _decide(_patched({"delegation": {"granted_by": ""}, "grantor": {"corporate_number": "1"}}))
	{reason.message | some reason in decision.reasons} == {
		"input.delegation.granted_by must be a non-empty string",
		"input.grantor.corporate_number must be a valid corporate number",
	}
}

# --- nothing is judged without a delegation --------------------------------------------------------

test_delegation_fields_are_not_judged_without_a_delegation if {
	request := object.union(fixtures.input_for("jgrants", "prime"), {
		"now": "yesterday",
		"grantor": {"valid_until": "tomorrow", "corporate_name": 5},
		"licences": "none",
	})
	delegation.problems == set() with input as request with data.bizid.registry as fixtures.registry
	with_bad_licence := object.union(request, {"licences": [{}]})
	delegation.problems == set() with input as with_bad_licence with data.bizid.registry as fixtures.registry
}

test_no_problems_or_denials_without_a_delegation if {
	every request in [fixtures.input_for("jgrants", "prime"), json.remove(fixtures.input_for("jgrants", "prime"), ["delegation"])] {
		delegation.problems == set() with input as request with data.bizid.registry as fixtures.registry
		delegation.denials == set() with input as request with data.bizid.registry as fixtures.registry
		not delegation.valid with input as request
			with data.bizid.registry as fixtures.registry
			with delegation._every_condition_met as true
	}
}

# --- both sides refuse on their own (see the package description) ----------------------------------

_decide_by_conditions_alone(request) := decision if {
	decision := delegation.decision with input as request
		with data.bizid.registry as fixtures.registry
		with delegation.denials as set()
		with delegation.problems as set()
}

test_conditions_alone_accept_a_valid_delegation if {
	_decide_by_conditions_alone(fixtures.delegated_input).valid == true
}

test_conditions_alone_refuse if {
	registry_without_jgrants := json.remove(fixtures.registry, ["rps/jgrants"])
	not delegation.valid with input as fixtures.delegated_input
		with data.bizid.registry as registry_without_jgrants
		with delegation.denials as set()
		with delegation.problems as set()
	refused := [
		{"rp": {"client_id": "shaho"}},
		{"account": {"username": "someone-else"}},
		{"now": "2025-12-31T14:59:59Z"},
		{"now": "2026-12-31T15:00:00Z"},
		{"delegation": {"revoked": true}},
		{"delegation": {"procedures": []}},
		{"delegation": {"procedures": ["subsidy-application", "no-such-procedure"]}},
		{"licences": []},
		{"grantor": {"username": "other-prime"}},
		{"grantor": {"tier": "member"}},
		{"grantor": {"corporate_number": fixtures.corp_b}},
		{"grantor": {"status": "suspended"}},
		{"grantor": {"valid_until": "2026-03-31"}},
		{"grantor": {"valid_until": "soon"}},
		{"grantor": {"valid_until": null}},
	]
	every patch in refused {
		decision := _decide_by_conditions_alone(_patched(patch))
		decision.valid == false
		decision.reasons == [{"code": "no_decision", "message": "the conditions for the delegation were not all established"}]
	}
}

test_a_denial_alone_refuses if {
	decision := delegation.decision with input as _patched({"delegation": {"revoked": true}})
		with data.bizid.registry as fixtures.registry
		with delegation._every_condition_met as true
	decision.valid == false
	_codes(decision) == {"revoked"}
}
