# METADATA
# title: Shape of the policy input, and the clock
# description: |
#   One input document serves all three decisions (access, release, delegation); its shape is in
#   docs/policies.md. This package only checks that shape and derives the current time from it.
#   It never decides anything by itself: `bizid.access` and `bizid.release` refuse whenever
#   `problems` is non-empty, so a missing or ill-typed field can never lead to an allow or to a
#   released claim.
#
#   Time comes from `input.now` (RFC 3339, set by Keycloak), not from OPA's clock, so a decision can
#   be replayed exactly from the decision log. Calendar dates (`valid_until`) are days in Japan
#   Standard Time (UTC+9, no daylight saving).
# related_resources:
#   - ref: https://www.rfc-editor.org/rfc/rfc3339
#     description: timestamps in `now`, `not_before`, `not_after`
package bizid.inputs

# METADATA
# title: Offset of Japan Standard Time from UTC, in nanoseconds
# description: JST is UTC+9 all year. A fixed offset avoids depending on the host's time zone database.
jst_offset_ns := ((9 * 60) * 60) * 1000000000

# METADATA
# title: Nanoseconds since the epoch of an RFC 3339 timestamp
# description: Undefined unless `value` is a string in strict RFC 3339 form (date, `T`, time, zone).
timestamp_ns(value) := time.parse_rfc3339_ns(value) if {
	is_string(value)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})$`, value)
}

# METADATA
# title: Is `value` a calendar date written YYYY-MM-DD?
# description: The format is checked first, then that the date exists (no 2024-02-30).
is_date(value) if {
	is_string(value)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`, value)
	is_number(time.parse_ns("2006-01-02", value))
}

# METADATA
# title: Is `value` a corporate number (法人番号) with a correct check digit?
# description: |
#   13 digits; the first is the National Tax Agency check digit of the other twelve: counting those
#   twelve from the right (n = 1..12), weight 2 for even n and 1 for odd n; check = 9 - (sum mod 9).
#   Digit i (1..12, from the left) has n = 13 - i, so it weighs 2 exactly when i is odd (`odd` below).
is_corporate_number(value) if {
	is_string(value)
	regex.match(`^[0-9]{13}$`, value)
	d := [to_number(c) | some c in split(value, "")]

	# Spelled out rather than summed over numbers.range: the same arithmetic without a comprehension
	# and a helper call per digit (it runs for every corporate number of every decision; docs/tuning.md).
	odd := ((d[1] + d[3]) + (d[5] + d[7])) + (d[9] + d[11])
	even := ((d[2] + d[4]) + (d[6] + d[8])) + (d[10] + d[12])
	d[0] == 9 - (((2 * odd) + even) % 9)
}

# METADATA
# title: Is `key` of `obj` absent or null?
# description: Optional attributes (an unset Keycloak attribute) are sent as null or left out.
unset(obj, key) if object.get(obj, key, null) == null

# METADATA
# title: Is `value` a string with at least one character?
is_nonempty_string(value) if {
	is_string(value)
	value != ""
}

# METADATA
# title: Is `value` an array of strings?
string_array(value) if {
	is_array(value)
	every item in value {
		is_string(item)
	}
}

# METADATA
# title: The decision time in nanoseconds since the epoch, from `input.now`
now_ns := timestamp_ns(input.now)

# METADATA
# title: Today's date (YYYY-MM-DD) in Japan Standard Time, from `input.now`
today := time.format([now_ns + jst_offset_ns, "UTC", "2006-01-02"])

# METADATA
# title: The input as an object ({} when it is not one)
# description: |
#   Field checks read through `document` with object.get(document, path, null), never through a bare
#   `input.a.b` inside a negation. OPA evaluates `not f(input.a.b)` as undefined - not true - when
#   input.a.b is missing (the argument is evaluated before the negation), which would silently skip
#   the check: exactly the fail-open mistake a shape check exists to prevent.
default document := {}

document := input if is_object(input)

# METADATA
# title: What is wrong with the shape of the input (empty when it is well-formed)
# description: |
#   Checks every field the access decision reads. Each entry is a message naming the field, e.g.
#   "input.account.tier must be a non-empty string". Required: rp.client_id, account.id,
#   account.username, account.tier, account.status ("active" or "suspended"), authn.loa (an
#   integer), now (RFC 3339), decision_id. Optional (absent or null, else well-formed):
#   authn.phase ("identified" or "complete", default "complete"),
#   account.valid_until (YYYY-MM-DD), account.corporate_number (13 digits, valid check digit),
#   account.prime_username (string), account.provisional_rps (array of strings),
#   account.member_permissions (array of strings: RP client ids or rp/procedure),
#   delegation (object; checked in detail by bizid.delegation),
#   prime (the issuing Prime's current record, looked up by Keycloak when account.prime_username is set:
#   {username, found: false} when there is no such account, else {username, found: true, tier, status,
#   valid_until (date or null), corporate_number (valid or null)}).
# scope: document
problems contains "input must be an object" if not _input_is_object

problems contains "input.rp.client_id must be a non-empty string" if {
	not is_nonempty_string(object.get(document, ["rp", "client_id"], null))
}

problems contains "input.account must be an object" if not is_object(object.get(document, ["account"], null))

problems contains sprintf("input.account.%s must be a non-empty string", [key]) if {
	some key in ["id", "username", "tier"]
	not is_nonempty_string(object.get(document, ["account", key], null))
}

problems contains `input.account.status must be "active" or "suspended"` if {
	not object.get(document, ["account", "status"], null) in {"active", "suspended"}
}

problems contains "input.account.valid_until must be absent, null or a date YYYY-MM-DD" if {
	value := object.get(document, ["account", "valid_until"], null)
	value != null
	not is_date(value)
}

problems contains "input.account.corporate_number must be absent, null or a valid 13-digit corporate number" if {
	value := object.get(document, ["account", "corporate_number"], null)
	value != null
	not is_corporate_number(value)
}

problems contains "input.account.prime_username must be absent, null or a non-empty string" if {
	value := object.get(document, ["account", "prime_username"], null)
	value != null
	not is_nonempty_string(value)
}

problems contains "input.account.provisional_rps must be absent, null or an array of strings" if {
	value := object.get(document, ["account", "provisional_rps"], null)
	value != null
	not string_array(value)
}

problems contains "input.account.member_permissions must be absent, null or an array of strings" if {
	value := object.get(document, ["account", "member_permissions"], null)
	value != null
	not string_array(value)
}

problems contains "input.authn.loa must be an integer level of authentication" if {
	not _integer(object.get(document, ["authn", "loa"], null))
}

problems contains `input.authn.phase must be absent, null, "identified" or "complete"` if {
	value := object.get(document, ["authn", "phase"], null)
	value != null
	not value in {"identified", "complete"}
}

problems contains "input.now must be an RFC 3339 timestamp" if not now_ns

problems contains "input.decision_id must be a non-empty string" if {
	not is_nonempty_string(object.get(document, ["decision_id"], null))
}

problems contains "input.delegation must be absent, null or an object" if {
	value := object.get(document, ["delegation"], null)
	value != null
	not is_object(value)
}

problems contains "input.prime must be absent, null or an object" if {
	value := object.get(document, ["prime"], null)
	value != null
	not is_object(value)
}

problems contains "input.prime.username must be a non-empty string" if {
	is_object(object.get(document, ["prime"], null))
	not is_nonempty_string(object.get(document, ["prime", "username"], null))
}

problems contains "input.prime.found must be a boolean" if {
	is_object(object.get(document, ["prime"], null))
	not is_boolean(object.get(document, ["prime", "found"], null))
}

problems contains "input.prime.tier must be a non-empty string" if {
	_prime_found
	not is_nonempty_string(object.get(document, ["prime", "tier"], null))
}

problems contains `input.prime.status must be "active" or "suspended"` if {
	_prime_found
	not object.get(document, ["prime", "status"], null) in {"active", "suspended"}
}

problems contains "input.prime.valid_until must be absent, null or a date YYYY-MM-DD" if {
	value := object.get(document, ["prime", "valid_until"], null)
	value != null
	not is_date(value)
}

problems contains "input.prime.corporate_number must be absent, null or a valid 13-digit corporate number" if {
	value := object.get(document, ["prime", "corporate_number"], null)
	value != null
	not is_corporate_number(value)
}

_prime_found if object.get(document, ["prime", "found"], null) == true

_input_is_object if is_object(input)

_integer(value) if {
	is_number(value)
	value == floor(value)
}
