package bizid.access_test

import data.bizid.access
import data.bizid.fixtures_test as fixtures

# --- the procedure of a delegated sign-in (delegated_procedure.rego) ---------------------------------

# fixtures.delegated_input: delegation dlg-1 covers subsidy-application and subsidy-report at jgrants and
# the RP names subsidy-application.
_delegated(procedures, procedure) := _with_procedure(
	object.union(fixtures.delegated_input, {"delegation": {"procedures": procedures}}),
	procedure,
)

_delegated_without_procedure(procedures) := json.remove(_delegated(procedures, null), ["rp/procedure"])

test_a_delegate_may_name_every_procedure_of_its_delegation if {
	every procedure in ["subsidy-application", "subsidy-report"] {
		_decide(_delegated(["subsidy-application", "subsidy-report"], procedure)) == {"allow": true, "reasons": []}
	}
	_decide(_delegated(["subsidy-report"], "subsidy-report")) == {"allow": true, "reasons": []}
}

test_a_procedure_the_delegation_does_not_cover_is_refused if {
	decision := _decide(_delegated(["subsidy-report"], "subsidy-application"))
	decision == {"allow": false, "reasons": [{
		"code": "delegation_procedure_not_covered",
		"message": `delegation "dlg-1" covers only ["subsidy-report"] at jgrants, not procedure "subsidy-application"`,
	}]}
	_codes(_decide(_delegated(["subsidy-application"], "subsidy-report"))) == {"delegation_procedure_not_covered"}
}

test_a_delegated_sign_in_must_name_a_procedure if {
	# No delegation is RP-wide: even one listing every procedure of the RP needs the procedure named.
	decision := _decide(_delegated_without_procedure(["subsidy-report", "subsidy-application"]))
	decision == {"allow": false, "reasons": [{
		"code": "delegation_procedure_not_covered",
		"message": `delegation "dlg-1" covers only ["subsidy-application", "subsidy-report"] at jgrants, not signing in without naming a procedure`,
	}]}
	_codes(_decide(_delegated(["subsidy-application"], null))) == {"delegation_procedure_not_covered"}
}

test_without_a_delegation_no_procedure_is_needed if {
	_decide(fixtures.input_for("jgrants", "prime")) == {"allow": true, "reasons": []}
	_decide(_with_procedure(fixtures.input_for("jgrants", "prime"), "subsidy-report")) == {"allow": true, "reasons": []}
	_decide(json.remove(fixtures.delegated_input, ["delegation", "rp/procedure"])) == {"allow": true, "reasons": []}
}

test_an_unknown_procedure_of_a_delegated_sign_in_is_reported_alone if {
	every procedure in ["insurance-notification", "subsidy-appl", 7] {
		decision := _decide(_delegated(["subsidy-application"], procedure))
		decision.allow == false
		_codes(decision) == {"unknown_procedure"}
	}
}

test_an_invalid_delegation_is_reported_alone if {
	revoked := object.union(_delegated(["subsidy-report"], "subsidy-application"), {"delegation": {"revoked": true}})
	_decide(revoked).reasons == [{"code": "delegation_invalid", "message": "revoked: the delegation was revoked"}]
	unknown := object.union(_delegated_without_procedure(["subsidy-report"]), {"delegation": null})
	_codes(_decide(object.union(unknown, {"delegation": {"id": "dlg-none"}}))) == {"delegation_invalid"}
}

test_conditions_alone_refuse_an_uncovered_procedure if {
	_allowed_by_conditions_alone(_delegated(["subsidy-report"], "subsidy-report"))
	not _allowed_by_conditions_alone(_delegated(["subsidy-report"], "subsidy-application"))
	not _allowed_by_conditions_alone(_delegated_without_procedure(["subsidy-application", "subsidy-report"]))
}

test_the_uncovered_denial_alone_refuses if {
	decision := access.decision with input as _delegated(["subsidy-report"], "subsidy-application")
		with data.bizid.registry as fixtures.registry
		with access._every_condition_met as true
	decision.allow == false
	_codes(decision) == {"delegation_procedure_not_covered"}
}
