package bizid.inputs_test

import data.bizid.fixtures_test as fixtures
import data.bizid.inputs

# --- corporate numbers (法人番号) --------------------------------------------------------------------

test_corporate_numbers_with_valid_check_digit if {
	every number in [fixtures.corp_a, fixtures.corp_b, "5010401089998", "1000000000008"] {
		inputs.is_corporate_number(number)
	}
}

test_corporate_number_must_have_exactly_13_digits if {
	# 14 and 12 digits whose first 13 (or all 12) would pass the check-digit arithmetic alone
	not inputs.is_corporate_number(concat("", [fixtures.corp_a, "5"]))
	not inputs.is_corporate_number(concat("", ["x", fixtures.corp_a]))
	not inputs.is_corporate_number(substring(fixtures.corp_a, 0, 12))
	not inputs.is_corporate_number("")
}

test_corporate_number_must_be_digits_only if {
	not inputs.is_corporate_number("700001205000a")
	not inputs.is_corporate_number("7000012050 02")
	not inputs.is_corporate_number(7000012050002)
}

test_corporate_number_with_wrong_check_digit if {
	every first in ["1", "2", "3", "4", "5", "6", "8", "9"] {
		not inputs.is_corporate_number(concat("", [first, substring(fixtures.corp_a, 1, 12)]))
	}
}

test_corporate_number_check_digit_weights if {
	# one digit moved between an odd and an even position changes the weighted sum
	inputs.is_corporate_number("7100000000000")
	inputs.is_corporate_number("8010000000000")
	not inputs.is_corporate_number("8100000000000")
	not inputs.is_corporate_number("7010000000000")

	# the last digit (position 12, weight 1) is counted
	inputs.is_corporate_number("8000000000001")
	not inputs.is_corporate_number("9000000000001")
}

test_corporate_number_every_position_counts_with_its_weight if {
	# A single 1 at digit i (1..12): weight 2 at odd i (check digit 7), weight 1 at even i (check 8).
	every i in numbers.range(1, 12) {
		inputs.is_corporate_number(_one_at(i, 7 + ((i + 1) % 2)))
		not inputs.is_corporate_number(_one_at(i, 7 + (i % 2)))
		not inputs.is_corporate_number(_one_at(i, 9))
	}
}

# Thirteen digits: `check`, then twelve zeros except a 1 at position i.
_one_at(i, check) := concat("", [
	format_int(check, 10),
	substring("00000000000", 0, i - 1),
	"1",
	substring("00000000000", 0, 12 - i),
])

test_corporate_number_check_digit_of_a_multiple_of_nine if {
	# sum mod 9 == 0 gives check digit 9
	inputs.is_corporate_number("9000000000000")
	inputs.is_corporate_number("9000000000009")
}

# --- dates and timestamps --------------------------------------------------------------------------

test_is_date if {
	inputs.is_date("2026-04-01")
	inputs.is_date("2024-02-29")
	not inputs.is_date("2026-02-29")
	not inputs.is_date("2026-04-01T00:00:00Z")
	not inputs.is_date("2026-4-1")
	not inputs.is_date("x2026-04-01")
	not inputs.is_date("2026-04-011")
	not inputs.is_date(20260401)
}

test_timestamp_ns if {
	inputs.timestamp_ns("1970-01-01T00:00:00Z") == 0
	inputs.timestamp_ns("1970-01-01T09:00:00+09:00") == 0
	inputs.timestamp_ns("1970-01-01T00:00:01.5Z") == 1500000000
	not inputs.timestamp_ns("1970-01-01 00:00:00Z")
	not inputs.timestamp_ns("x1970-01-01T00:00:00Z")
	not inputs.timestamp_ns("1970-01-01T00:00:00Zx")
	not inputs.timestamp_ns("1970-01-01T00:00:00")
	not inputs.timestamp_ns("19700-01-01T00:00:00Z")
	not inputs.timestamp_ns(0)

	# Go's RFC 3339 parser alone would accept these; the pattern refuses them
	not inputs.timestamp_ns("1970-01-01T00:00:00,5Z")
	not inputs.timestamp_ns("1970-01-01T00:00:00.1234567891Z")
}

test_jst_offset_is_nine_hours if {
	inputs.jst_offset_ns == ((9 * 3600) * 1000) * 1000000
}

test_today_is_the_date_in_japan if {
	inputs.today == "2026-04-01" with input as {"now": "2026-03-31T15:00:00Z"}
	inputs.today == "2026-03-31" with input as {"now": "2026-03-31T14:59:59Z"}
	inputs.today == "2026-04-01" with input as {"now": "2026-04-01T00:00:00+09:00"}
}

# --- small helpers ---------------------------------------------------------------------------------

test_unset if {
	inputs.unset({}, "a")
	inputs.unset({"a": null}, "a")
	not inputs.unset({"a": ""}, "a")
	not inputs.unset({"a": false}, "a")
}

test_is_nonempty_string if {
	inputs.is_nonempty_string("a")
	not inputs.is_nonempty_string("")
	not inputs.is_nonempty_string(1)
	not inputs.is_nonempty_string(null)
}

test_string_array if {
	inputs.string_array([])
	inputs.string_array(["a", ""])
	not inputs.string_array(["a", 1])
	not inputs.string_array("a")
	not inputs.string_array({"k": "v"})
}

test_document_is_the_input_object_or_empty if {
	inputs.document == {"a": 1} with input as {"a": 1}
	inputs.document == {} with input as ["a"]
}

# --- problems: the shape of the input --------------------------------------------------------------

_problems(request) := problems if {
	problems := inputs.problems with input as request
}

_valid := fixtures.input_for("jgrants", "prime")

_set(path, value) := json.patch(_valid, [{"op": "add", "path": path, "value": value}])

test_valid_inputs_have_no_problems if {
	every tier in ["entry", "prime", "member", "provisional-prime"] {
		_problems(fixtures.input_for("jgrants", tier)) == set()
	}
	_problems(fixtures.delegated_input) == set()
	_problems(_set("/authn/phase", "identified")) == set()
	_problems(_set("/authn/phase", "complete")) == set()
	_problems(_set("/account/status", "suspended")) == set()
	_problems(_set("/authn/loa", 3)) == set()
}

test_input_must_be_an_object if {
	_problems(["a"]) == {
		"input must be an object",
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

test_each_required_field_is_reported_alone if {
	cases := {
		"/rp/client_id": "input.rp.client_id must be a non-empty string",
		"/account/id": "input.account.id must be a non-empty string",
		"/account/username": "input.account.username must be a non-empty string",
		"/account/tier": "input.account.tier must be a non-empty string",
		"/account/status": `input.account.status must be "active" or "suspended"`,
		"/authn/loa": "input.authn.loa must be an integer level of authentication",
		"/now": "input.now must be an RFC 3339 timestamp",
		"/decision_id": "input.decision_id must be a non-empty string",
	}
	every path, message in cases {
		_problems(_set(path, "")) == {message}
	}
}

test_account_must_be_an_object if {
	"input.account must be an object" in _problems(_set("/account", "prime-user"))
}

test_loa_must_be_an_integer if {
	_problems(_set("/authn/loa", 1.5)) == {"input.authn.loa must be an integer level of authentication"}
	_problems(_set("/authn/loa", "2")) == {"input.authn.loa must be an integer level of authentication"}
}

test_unknown_status_and_phase if {
	_problems(_set("/account/status", "deleted")) == {`input.account.status must be "active" or "suspended"`}
	_problems(_set("/authn/phase", "started")) == {`input.authn.phase must be absent, null, "identified" or "complete"`}
}

test_optional_fields_may_be_null_or_absent if {
	every key in ["valid_until", "corporate_number", "prime_username", "provisional_rps"] {
		_problems(_set(concat("/", ["", "account", key]), null)) == set()
		_problems(json.remove(_valid, [concat("/", ["account", key])])) == set()
	}
	_problems(json.remove(_valid, ["delegation"])) == set()
	_problems(_set("/authn/phase", null)) == set()
}

test_optional_fields_must_be_well_formed_when_set if {
	cases := {
		"valid_until": ["2026-02-30", "input.account.valid_until must be absent, null or a date YYYY-MM-DD"],
		"corporate_number": [
			concat("", [fixtures.corp_a, "5"]),
			"input.account.corporate_number must be absent, null or a valid 13-digit corporate number",
		],
		"prime_username": ["", "input.account.prime_username must be absent, null or a non-empty string"],
		"provisional_rps": [["it-subsidy", 1], "input.account.provisional_rps must be absent, null or an array of strings"],
	}
	every key, c in cases {
		_problems(_set(concat("/", ["", "account", key]), c[0])) == {c[1]}
	}
}

test_delegation_must_be_an_object_when_set if {
	_problems(_set("/delegation", "dlg-1")) == {"input.delegation must be absent, null or an object"}
}
