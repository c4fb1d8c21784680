# METADATA
# title: What OPA's decision log may keep
# description: |
#   OPA evaluates `data.system.log.mask` on every decision-log event before it is written, with the
#   event as `input` (`input.input` is the query's input, `input.result` its answer). The log is the
#   audit trail of every decision, so it keeps what explains one: the decision id, the RP, the
#   authentication level, the decision time, the granted scopes, each record's tier, status and
#   validity, the delegation's RP, procedures and period, and the reason codes. Personal data
#   (usernames, names, e-mail, phone, address, corporate numbers and names, licence numbers) are
#   dropped: fields are kept by name (an allowlist), so a field added to the input later is masked
#   until it is listed here. The account's Keycloak id stays: it is a pseudonym that lets an
#   operator with access to Keycloak find the account, and nobody else.
#
#   Released claim values are replaced by their names; a reason whose message quotes an account or
#   a company keeps its code and loses the message.
package system.log

# Top-level input fields kept as they are.
_kept_top := {"rp", "authn", "now", "decision_id", "scopes"}

# Fields kept inside any other input object (account, grantor, delegation, licences, ...).
_kept_fields := {
	"id", "tier", "status", "valid_until", "provisional_rps", "emailVerified",
	"rp", "procedures", "not_before", "not_after", "revoked", "kind",
}

# Reason codes whose messages quote a username or a corporate number (access, delegation, and the
# issuing-Prime codes of bizid.access's prime.rego).
_identifying_codes := {
	"wrong_delegate", "grantor_mismatch", "grantor_not_of_principal", "delegation_invalid",
	"prime_not_found", "prime_mismatch", "prime_not_prime", "prime_suspended",
	"prime_missing_validity", "prime_expired", "prime_company_mismatch",
}

_masked_message := "(masked in the decision log: names an account or a company)"

# METADATA
# title: The masks applied to one decision-log event
# description: JSON pointers to drop, and upserts that replace a value by its non-personal part.
# entrypoint: true
mask contains {"op": "upsert", "path": concat("/", ["", "input", key]), "value": _scrub(value)} if {
	some key, value in input.input
	not key in _kept_top
	_scrubbable(value)
}

mask contains concat("/", ["", "input", key]) if {
	some key, value in input.input
	not key in _kept_top
	not _scrubbable(value)
	value != null
}

mask contains {"op": "upsert", "path": "/result/claims", "value": sort(object.keys(input.result.claims))} if {
	is_object(input.result.claims)
}

mask contains {"op": "upsert", "path": "/result/acting_for", "value": _scrub(input.result.acting_for)} if {
	is_object(input.result.acting_for)
}

mask contains {"op": "upsert", "path": "/result/reasons", "value": [_reason(r) | some r in input.result.reasons]} if {
	is_array(input.result.reasons)
	some r in input.result.reasons
	_identifying(r)
}

_scrubbable(value) if is_object(value)

_scrubbable(value) if {
	is_array(value)
	every item in value {
		is_object(item)
	}
}

_scrub(value) := object.filter(value, _kept_fields) if is_object(value)

_scrub(value) := [object.filter(item, _kept_fields) | some item in value] if is_array(value)

_identifying(reason) if {
	is_object(reason)
	reason.code in _identifying_codes
}

_reason(reason) := {"code": reason.code, "message": _masked_message} if _identifying(reason)

_reason(reason) := reason if not _identifying(reason)
