package bizid.access_prime_test

import data.bizid.access
import data.bizid.fixtures_test as fixtures

# A Member is judged on its issuing Prime's current record (input.prime; access/prime.rego).

_decide(request) := decision if {
	decision := access.decision with input as request with data.bizid.registry as fixtures.registry
}

_issuer_met(request) if access._issuer_met with input as request with data.bizid.registry as fixtures.registry

_codes(request) := {reason.code | some reason in _decide(request).reasons}

_member(patch) := object.union(fixtures.input_for("jgrants", "member"), patch)

_member_with_prime(patch) := _member({"prime": patch})

# --- the valid case --------------------------------------------------------------------------------

test_member_of_an_active_prime_allowed_everywhere if {
	every rp in ["seminar", "it-subsidy", "jgrants", "shaho"] {
		request := object.union(fixtures.input_for(rp, "member"), {"prime": fixtures.prime_record})
		_decide(request) == {"allow": true, "reasons": []}
		_issuer_met(request)
	}
}

test_member_of_a_prime_on_its_last_valid_day_allowed if {
	request := _member_with_prime({"valid_until": "2026-04-01"})
	_decide(request) == {"allow": true, "reasons": []}
	_issuer_met(request)
}

test_member_and_prime_both_without_corporate_number_allowed if {
	# A sole proprietor's Prime and its Members have no corporate number: equal (both none) is fine.
	request := _member({"account": {"corporate_number": null}, "prime": {"corporate_number": null}})
	_decide(request) == {"allow": true, "reasons": []}
	_issuer_met(request)
	absent := json.remove(fixtures.input_for("jgrants", "member"), ["account/corporate_number", "prime/corporate_number"])
	_decide(absent) == {"allow": true, "reasons": []}
}

# --- each way the issuer can fail ------------------------------------------------------------------

test_member_without_prime_username_refused if {
	request := _member({"account": {"prime_username": null}, "prime": null})
	_decide(request).reasons == [{
		"code": "prime_missing",
		"message": "a member account must name the Prime that issued it (prime_username)",
	}]
	not _issuer_met(request)
	absent := json.remove(fixtures.input_for("jgrants", "member"), ["account/prime_username", "prime"])
	_codes(absent) == {"prime_missing"}
	not _issuer_met(absent)
}

test_member_of_a_username_that_does_not_exist_refused if {
	request := _member({"prime": {"username": "prime-user", "found": false}})
	_decide(request).reasons == [{"code": "prime_not_found", "message": `the issuing Prime "prime-user" does not exist`}]
	not _issuer_met(request)
}

test_member_without_the_primes_record_refused if {
	# A caller that did not look the Prime up (no input.prime) cannot get a Member in.
	request := _member({"prime": null})
	_codes(request) == {"prime_not_found"}
	not _issuer_met(request)
	absent := json.remove(fixtures.input_for("jgrants", "member"), ["prime"])
	_codes(absent) == {"prime_not_found"}
	not _issuer_met(absent)
}

test_record_of_another_account_refused if {
	request := _member_with_prime({"username": "someone-else"})
	_decide(request).reasons == [{
		"code": "prime_mismatch",
		"message": `the record sent is of "someone-else", not of the issuing Prime "prime-user"`,
	}]
	not _issuer_met(request)
}

test_member_of_a_non_prime_refused if {
	every tier in ["entry", "member", "provisional-prime", "platinum"] {
		request := _member_with_prime({"tier": tier})
		_codes(request) == {"prime_not_prime"}
		not _issuer_met(request)
	}
	_decide(_member_with_prime({"tier": "provisional-prime"})).reasons == [{
		"code": "prime_not_prime",
		"message": `the issuer "prime-user" is a "provisional-prime" account; only a Prime issues Members`,
	}]
}

test_issuing_tier_comes_from_the_registry if {
	# Which tier may issue Members is the registry's can_create_members, not the name "prime".
	registry := json.patch(fixtures.registry, [{"op": "replace", "path": "/tiers/prime/can_create_members", "value": false}])
	request := fixtures.input_for("jgrants", "member")
	decision := access.decision with input as request with data.bizid.registry as registry
	{reason.code | some reason in decision.reasons} == {"prime_not_prime"}
}

test_member_of_a_suspended_prime_refused if {
	request := _member_with_prime({"status": "suspended"})
	_decide(request).reasons == [{"code": "prime_suspended", "message": `the issuing Prime "prime-user" is suspended`}]
	not _issuer_met(request)
}

test_member_of_an_expired_prime_refused if {
	request := _member_with_prime({"valid_until": "2026-03-31"})
	_decide(request).reasons == [{
		"code": "prime_expired",
		"message": `the issuing Prime "prime-user" was valid until 2026-03-31`,
	}]
	not _issuer_met(request)
}

test_prime_expiry_uses_japan_standard_time if {
	# 2026-03-31T15:00Z is 2026-04-01 in Japan: a Prime valid until 2026-03-31 has expired.
	late := _member({"now": "2026-03-31T15:00:00Z", "prime": {"valid_until": "2026-03-31"}})
	_codes(late) == {"prime_expired"}
	early := _member({"now": "2026-03-31T14:59:59Z", "prime": {"valid_until": "2026-03-31"}})
	_decide(early).allow == true
}

test_member_of_a_prime_without_validity_refused if {
	request := _member_with_prime({"valid_until": null})
	_decide(request).reasons == [{
		"code": "prime_missing_validity",
		"message": `the issuing Prime "prime-user" has no validity date`,
	}]
	not _issuer_met(request)
	absent := json.remove(fixtures.input_for("jgrants", "member"), ["prime/valid_until"])
	_codes(absent) == {"prime_missing_validity"}
	not _issuer_met(absent)
}

test_member_of_another_company_refused if {
	request := _member_with_prime({"corporate_number": fixtures.corp_b})
	_decide(request).reasons == [{
		"code": "prime_company_mismatch",
		"message": sprintf("the account's corporate number %s is not its Prime's %s", [fixtures.corp_a, fixtures.corp_b]),
	}]
	not _issuer_met(request)

	# One side without a corporate number is a mismatch too.
	no_member_number := _member({"account": {"corporate_number": null}})
	_codes(no_member_number) == {"prime_company_mismatch"}
	not _issuer_met(no_member_number)
	no_prime_number := _member_with_prime({"corporate_number": null})
	_codes(no_prime_number) == {"prime_company_mismatch"}
	not _issuer_met(no_prime_number)
}

test_every_issuer_problem_reported_together if {
	request := _member_with_prime({
		"username": "someone-else", "tier": "entry", "status": "suspended",
		"valid_until": "2020-01-01", "corporate_number": fixtures.corp_b,
	})
	_codes(request) == {"prime_mismatch", "prime_not_prime", "prime_suspended", "prime_expired", "prime_company_mismatch"}
}

test_issuer_judged_already_right_after_the_password_step if {
	# Refused before the second factor is asked for.
	request := _member({"authn": {"loa": 1, "phase": "identified"}, "prime": {"status": "suspended"}})
	_codes(request) == {"prime_suspended"}
}

# --- tiers not issued by a Prime ignore the record -------------------------------------------------

test_other_tiers_are_not_judged_on_a_prime_record if {
	bad_record := {
		"username": "someone-else", "found": true, "tier": "entry", "status": "suspended",
		"valid_until": "2020-01-01", "corporate_number": fixtures.corp_b,
	}
	every record in [bad_record, json.remove(bad_record, ["valid_until"]), {"username": "x", "found": false}, null] {
		request := object.union(fixtures.input_for("jgrants", "prime"), {
			"account": {"prime_username": "someone"},
			"prime": record,
		})
		_decide(request) == {"allow": true, "reasons": []}
		_issuer_met(request)
	}
}

# --- malformed records -----------------------------------------------------------------------------

test_ill_typed_prime_records_are_malformed if {
	every patch in [
		{"prime": "prime-user"},
		{"prime": []},
		{"prime": {"username": ""}},
		{"prime": {"username": 7}},
		{"prime": {"found": "yes"}},
		{"prime": {"found": null}},
		{"prime": {"tier": ""}},
		{"prime": {"tier": null}},
		{"prime": {"status": "ACTIVE"}},
		{"prime": {"status": null}},
		{"prime": {"valid_until": "2030-02-30"}},
		{"prime": {"corporate_number": "7000012050003"}},
	] {
		decision := _decide(_member(patch))
		decision.allow == false
		{reason.code | some reason in decision.reasons} == {"malformed_input"}
	}
}

test_prime_record_fields_are_required if {
	every path in ["prime/username", "prime/found", "prime/tier", "prime/status"] {
		decision := _decide(json.remove(fixtures.input_for("jgrants", "member"), [path]))
		{reason.code | some reason in decision.reasons} == {"malformed_input"}
	}
}

test_a_record_of_no_account_needs_only_username_and_found if {
	request := _member({"prime": {"username": "prime-user", "found": false}})
	_codes(request) == {"prime_not_found"}
}

test_malformed_prime_messages_name_the_field if {
	decision := _decide(_member({"prime": {"found": 1, "username": ""}}))
	{reason.message | some reason in decision.reasons} == {
		"input.prime.username must be a non-empty string",
		"input.prime.found must be a boolean",
	}
	not_object := _decide(_member({"prime": "x"}))
	not_object.reasons == [{"code": "malformed_input", "message": "input.prime must be absent, null or an object"}]
	found := _decide(_member({"prime": {"tier": 1, "status": "x", "valid_until": 1, "corporate_number": 1}}))
	{reason.message | some reason in found.reasons} == {
		"input.prime.tier must be a non-empty string",
		`input.prime.status must be "active" or "suspended"`,
		"input.prime.valid_until must be absent, null or a date YYYY-MM-DD",
		"input.prime.corporate_number must be absent, null or a valid 13-digit corporate number",
	}
}
