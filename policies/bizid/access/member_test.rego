package bizid.access_test

import data.bizid.fixtures_test as fixtures

# --- the procedure the RP names (member.rego) -------------------------------------------------------

_with_procedure(request, procedure) := json.patch(request, [{"op": "add", "path": "/rp/procedure", "value": procedure}])

_member_for(rp, permissions, procedure) := _with_procedure(_member_with(rp, permissions), procedure)

test_member_permitted_the_named_procedure_is_allowed if {
	request := _member_for("jgrants", ["jgrants/subsidy-report"], "subsidy-report")
	_decide(request) == {"allow": true, "reasons": []}
}

test_member_permitted_another_procedure_is_refused if {
	decision := _decide(_member_for("jgrants", ["jgrants/subsidy-report"], "subsidy-application"))
	decision.allow == false
	decision.reasons == [{
		"code": "member_procedure_not_permitted",
		"message": `the Member's Prime "prime-user" has permitted it only ["jgrants/subsidy-report"] at jgrants, not procedure "subsidy-application"`,
	}]
}

test_member_with_only_procedure_permissions_must_name_one if {
	decision := _decide(_member_with("jgrants", ["jgrants/subsidy-report", "shaho"]))
	decision.allow == false
	decision.reasons == [{
		"code": "member_procedure_not_permitted",
		"message": `the Member's Prime "prime-user" has permitted it only ["jgrants/subsidy-report"] at jgrants, not signing in without naming a procedure`,
	}]
	_decide(_with_procedure(_member_with("jgrants", ["jgrants/subsidy-report"]), null)).allow == false
}

test_member_with_an_rp_wide_permission_may_use_every_procedure if {
	_decide(_member_with("jgrants", ["jgrants"])).allow == true
	every procedure in ["subsidy-application", "subsidy-report"] {
		_decide(_member_for("jgrants", ["jgrants"], procedure)) == {"allow": true, "reasons": []}
	}
}

test_member_procedure_permission_is_for_its_own_rp_only if {
	# shaho/subsidy-report does not name a jgrants procedure; jgrants/x at shaho names nothing there.
	_codes(_decide(_member_for("jgrants", ["shaho/subsidy-report"], "subsidy-report"))) == {"member_not_permitted"}
	request := _member_for("shaho", ["shaho/insurance-notification", "jgrants/insurance-notification"], "insurance-notification")
	_decide(request).allow == true
	_codes(_decide(_member_for("jgrants", ["jgrants/subsidy-reports"], "subsidy-report"))) == {"member_procedure_not_permitted"}
	_codes(_decide(_member_for("jgrants", ["jgrants/subsidy-report/x"], "subsidy-report"))) == {"member_procedure_not_permitted"}
}

test_an_unknown_procedure_is_refused_for_every_tier if {
	every tier in ["prime", "member"] {
		request := _with_procedure(object.union(fixtures.input_for("jgrants", tier), {"account": {"member_permissions": ["jgrants"]}}), "subsidy-appl")
		decision := _decide(request)
		decision.allow == false
		decision.reasons == [{"code": "unknown_procedure", "message": `subsidy-appl is not a registered procedure of jgrants`}]
	}
	every case in [["seminar", "entry"], ["seminar", "prime"], ["seminar", "member"], ["it-subsidy", "provisional-prime"]] {
		_decide(fixtures.input_for(case[0], case[1])).allow == true
		_codes(_decide(_with_procedure(fixtures.input_for(case[0], case[1]), "subsidy-report"))) == {"unknown_procedure"}
	}
}

test_an_unknown_procedure_of_a_member_permitted_single_procedures_is_reported_as_unknown if {
	decision := _decide(_member_for("jgrants", ["jgrants/subsidy-report"], "no-such-procedure"))
	decision.reasons == [{"code": "unknown_procedure", "message": `no-such-procedure is not a registered procedure of jgrants`}]
}

test_a_procedure_of_another_rp_is_unknown_here if {
	_codes(_decide(_with_procedure(fixtures.input_for("jgrants", "prime"), "insurance-notification"))) == {"unknown_procedure"}
}

test_a_malformed_procedure_is_refused if {
	every value in [3, true, ["subsidy-report"], {"id": "subsidy-report"}, "", " subsidy-report", "SUBSIDY-REPORT"] {
		decision := _decide(_with_procedure(fixtures.input_for("jgrants", "prime"), value))
		decision.allow == false
	}
	_codes(_decide(_with_procedure(fixtures.input_for("jgrants", "prime"), 3))) == {"unknown_procedure"}
}

test_prime_and_entry_may_name_any_registered_procedure if {
	_decide(_with_procedure(fixtures.input_for("jgrants", "prime"), "subsidy-report")) == {"allow": true, "reasons": []}
	_decide(_with_procedure(fixtures.input_for("shaho", "prime"), "insurance-notification")) == {"allow": true, "reasons": []}
	_decide(_with_procedure(fixtures.input_for("jgrants", "prime"), null)) == {"allow": true, "reasons": []}
}

test_a_procedure_at_a_platform_client_is_unknown if {
	_codes(_decide_platform(_with_procedure(fixtures.input_for("account-console", "prime"), "subsidy-report"))) == {"unknown_procedure"}
	_decide_platform(_with_procedure(fixtures.input_for("account-console", "member"), null)).allow == true
}

# The positive side on its own: a deny rule that failed to match must not let anyone in.
test_member_scope_met_needs_a_known_procedure_and_the_permission if {
	_member_scope_met(_member_for("jgrants", ["jgrants/subsidy-report"], "subsidy-report"))
	_member_scope_met(_member_for("jgrants", ["jgrants"], "subsidy-application"))
	_member_scope_met(_member_with("jgrants", ["jgrants"]))
	not _member_scope_met(_member_with("jgrants", ["jgrants/subsidy-report"]))
	not _member_scope_met(_member_for("jgrants", ["jgrants/subsidy-report"], "subsidy-application"))
	not _member_scope_met(_member_for("jgrants", ["jgrants"], "no-such-procedure"))
	not _member_scope_met(_member_for("jgrants", ["jgrants"], 3))
	not _member_scope_met(_with_procedure(fixtures.input_for("jgrants", "prime"), "no-such-procedure"))
	_member_scope_met(_with_procedure(fixtures.input_for("jgrants", "prime"), "subsidy-report"))
}

test_procedure_refusals_hold_by_the_conditions_alone if {
	_decide_by_conditions_alone(_member_for("jgrants", ["jgrants/subsidy-report"], "subsidy-application")).allow == false
	_decide_by_conditions_alone(_member_with("jgrants", ["jgrants/subsidy-report"])).allow == false
	_decide_by_conditions_alone(_with_procedure(fixtures.input_for("jgrants", "prime"), "nope")).allow == false
	_decide_by_conditions_alone(_member_for("jgrants", ["jgrants/subsidy-report"], "subsidy-report")).allow == true
}

# Stray procedure entries on an account that is not a Member limit nothing (Prime, Entry), and a Member
# needs none on its own account page, whatever its entries name there.
test_procedure_entries_do_not_limit_other_tiers if {
	stray := {"account": {"member_permissions": ["jgrants/subsidy-report"]}}
	prime := _with_procedure(object.union(fixtures.input_for("jgrants", "prime"), stray), "subsidy-application")
	_decide(prime) == {"allow": true, "reasons": []}
	member := _with_procedure(object.union(fixtures.input_for("jgrants", "member"), stray), "subsidy-application")
	_codes(_decide(member)) == {"member_procedure_not_permitted"}
}

test_member_procedure_entries_for_the_account_page_do_not_refuse_it if {
	request := _member_with("account-console", ["account-console/x"])
	_decide_platform(request) == {"allow": true, "reasons": []}
}
