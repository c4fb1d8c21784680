# METADATA
# title: Delegation (委任) - may this account act for another company at this RP now?
# description: |
#   A Prime (the company's verified representative) can delegate named procedures at one relying
#   party to an outside professional, who then files in the company's name. Some procedures legally
#   require the professional to hold a licence (行政書士, 税理士, 社会保険労務士 ...).
#
#   The delegation in `input.delegation` is valid only when ALL of these hold at `input.now`:
#     - it is for this relying party (input.rp.client_id), which is registered;
#     - its delegate is the account signing in (input.account.username);
#     - not_before <= now <= not_after, and it is not revoked;
#     - it was granted by a Prime of the principal company: `input.grantor` (the granting account's
#       current record, looked up by Keycloak) has the username in granted_by, tier "prime", the
#       principal's corporate number, status "active" and a validity date not in the past;
#     - it names at least one procedure (an empty list is malformed_input), every one registered at
#       this RP;
#     - for every procedure that accepts licences, the delegate holds a licence on record
#       (`input.licences`) of one of the accepted kinds, not revoked and not expired.
#   Like bizid.access, the result needs both no deny reason and every condition positively met.
#
#   Used by bizid.access (a login carrying a delegation is refused unless it is valid) and by
#   bizid.release (the `delegation` claim is the `acting_for` record below).
#   Deny codes: no_delegation, unknown_delegation (the account holds no delegation with the
#   requested id), malformed_input, wrong_rp, unknown_rp, wrong_delegate, not_yet_valid,
#   expired, revoked, grantor_mismatch, grantor_not_prime, grantor_not_of_principal,
#   grantor_inactive, unknown_procedure, licence_required, no_decision.
# related_resources:
#   - ref: ../../../docs/policies.md
package bizid.delegation

import data.bizid.inputs
import data.bizid.registry

# METADATA
# title: The delegation decision
# description: |
#   {"valid": bool, "reasons": [{"code", "message"}], "acting_for": object or null}.
#   `acting_for` is set only when valid; it is what the relying party receives as the delegation
#   claim: {delegation_id, principal: {corporate_number[, corporate_name]}, procedures: [{id, name,
#   licences: [{kind, number}]}], not_before, not_after}.
# entrypoint: true
# scope: document
default decision := {
	"valid": false,
	"reasons": [{"code": "no_decision", "message": "the policy reached no decision"}],
	"acting_for": null,
}

decision := {"valid": valid, "reasons": reasons, "acting_for": acting_for}

# METADATA
# title: Valid only when well-formed, with no deny reason and every condition met
# scope: document
default valid := false

valid if {
	_present
	count(problems) == 0
	count(denials) == 0
	_every_condition_met
}

# METADATA
# title: Why the delegation is not valid (sorted; empty when valid)
# scope: document
default reasons := [{"code": "no_decision", "message": "the conditions for the delegation were not all established"}]

reasons := [_reason("no_delegation", "the input carries no delegation")] if {
	not _present
} else := [_reason("unknown_delegation", msg)] if {
	_not_on_record
	msg := sprintf("no delegation %q was granted to this account", [_delegation.id])
} else := sort({_reason("malformed_input", problem) | some problem in problems}) if {
	count(problems) > 0
} else := sort(denials) if {
	count(denials) > 0
} else := [] if {
	valid
}

# METADATA
# title: Who is acting for whom, for which procedures (null unless valid)
# scope: document
default acting_for := null

acting_for := {
	"delegation_id": _delegation.id,
	"principal": object.union(
		{"corporate_number": _delegation.principal_corporate_number},
		{"corporate_name": name | some name in [input.grantor.corporate_name]; is_string(name)},
	),
	"procedures": [_procedure_claim(registry.rps[_delegation.rp].procedures[id], _usable_licences) |
		some id in sort({p | some p in _delegation.procedures})
	],
	"not_before": _delegation.not_before,
	"not_after": _delegation.not_after,
} if {
	valid
}

_reason(code, message) := {"code": code, "message": message}

_delegation := input.delegation

_present if _delegation != null

# Keycloak found no record with the requested id among the signing-in account's delegations and sent
# only the id: the RP is told so, not which fields a record would have needed.
_not_on_record if _delegation == {"id": _delegation.id}

# A procedure as released to the RP, with the licences that qualify the delegate for it.
_procedure_claim(procedure, licences) := {
	"id": procedure.id,
	"name": procedure.name,
	"licences": sort({{"kind": licence.kind, "number": licence.number} |
		some licence in licences
		licence.kind in procedure.licences_accepted
	}),
}

# METADATA
# title: What is wrong with the shape of the delegation input (only checked when one is present)
# description: |
#   input.delegation: {id, principal_corporate_number (valid 法人番号), granted_by, delegate_username,
#   rp, procedures (non-empty array of strings), not_before, not_after (RFC 3339), revoked (boolean)};
#   input.grantor: {username, tier, corporate_number, status, valid_until (optional date),
#   corporate_name (optional)}; input.licences: absent, null or an array of {kind, number,
#   holder_username, not_after (RFC 3339, or null for a licence without an expiry date), revoked};
#   and input.now, input.rp.client_id, input.account.username.
# scope: document
problems contains "input.delegation must be an object" if {
	_present
	not is_object(_delegation)
}

problems contains "input.now must be an RFC 3339 timestamp" if {
	_present
	not inputs.now_ns
}

problems contains sprintf("input.%s must be a non-empty string", [concat(".", path)]) if {
	_present
	some path in [
		["rp", "client_id"],
		["account", "username"],
		["delegation", "id"],
		["delegation", "granted_by"],
		["delegation", "delegate_username"],
		["delegation", "rp"],
		["grantor", "username"],
		["grantor", "tier"],
	]
	not inputs.is_nonempty_string(object.get(inputs.document, path, null))
}

problems contains sprintf("input.%s must be a valid corporate number", [concat(".", path)]) if {
	_present
	some path in [["delegation", "principal_corporate_number"], ["grantor", "corporate_number"]]
	not inputs.is_corporate_number(object.get(inputs.document, path, null))
}

problems contains "input.delegation.procedures must be a non-empty array of strings" if {
	_present
	not _is_nonempty_string_array(object.get(inputs.document, ["delegation", "procedures"], null))
}

problems contains sprintf("input.delegation.%s must be an RFC 3339 timestamp", [key]) if {
	_present
	some key in ["not_before", "not_after"]
	not inputs.timestamp_ns(object.get(inputs.document, ["delegation", key], null))
}

problems contains "input.delegation.revoked must be a boolean" if {
	_present
	not is_boolean(object.get(inputs.document, ["delegation", "revoked"], null))
}

problems contains "input.grantor must be an object" if {
	_present
	not is_object(object.get(inputs.document, "grantor", null))
}

problems contains `input.grantor.status must be "active" or "suspended"` if {
	_present
	not object.get(inputs.document, ["grantor", "status"], null) in {"active", "suspended"}
}

problems contains "input.grantor.valid_until must be absent, null or a date YYYY-MM-DD" if {
	_present
	value := object.get(inputs.document, ["grantor", "valid_until"], null)
	value != null
	not inputs.is_date(value)
}

problems contains "input.grantor.corporate_name must be absent, null or a string" if {
	_present
	value := object.get(inputs.document, ["grantor", "corporate_name"], null)
	value != null
	not is_string(value)
}

problems contains "input.licences must be absent, null or an array" if {
	_present
	value := object.get(inputs.document, "licences", null)
	value != null
	not is_array(value)
}

problems contains sprintf("input.licences[%d] %s", [i, problem]) if {
	_present
	some i, licence in _licences
	some problem in _licence_problems(licence)
}

_is_nonempty_string_array(value) if {
	inputs.string_array(value)
	count(value) > 0
}

# The licences on record (none when absent or null).
_licences := input.licences if is_array(input.licences)

_licences := [] if object.get(inputs.document, "licences", null) == null

_licence_problems(licence) := {"must be an object"} if not is_object(licence)

_licence_problems(licence) := {problem |
	some problem in [
		_missing_string(licence, "kind"),
		_missing_string(licence, "number"),
		_missing_string(licence, "holder_username"),
		_bad_licence_expiry(licence),
		_bad_revoked(licence),
	]
	problem != ""
} if {
	is_object(licence)
}

_missing_string(obj, key) := sprintf("%s must be a non-empty string", [key]) if {
	not inputs.is_nonempty_string(object.get(obj, key, null))
} else := ""

_bad_licence_expiry(licence) := "" if {
	"not_after" in object.keys(licence)
	licence.not_after == null
} else := "" if {
	inputs.timestamp_ns(licence.not_after)
} else := "not_after must be an RFC 3339 timestamp or null"

_bad_revoked(licence) := "" if {
	is_boolean(object.get(licence, "revoked", null))
} else := "revoked must be a boolean"

# Licences the delegate may rely on now: theirs, with a number, not revoked, not expired. (A licence
# without a number is also malformed input; this keeps the positive side complete on its own.)
_usable_licences contains licence if {
	some licence in _licences
	inputs.is_nonempty_string(licence.number)
	licence.holder_username == _delegation.delegate_username
	licence.revoked == false
	_unexpired(licence.not_after, inputs.now_ns)
}

_unexpired(not_after, _) if not_after == null

_unexpired(not_after, now_ns) if now_ns <= inputs.timestamp_ns(not_after)

_rp := registry.rps[_delegation.rp]

# The validity window in nanoseconds, parsed once per decision (a deny rule and the positive side read it).
_not_before_ns := inputs.timestamp_ns(_delegation.not_before)

_not_after_ns := inputs.timestamp_ns(_delegation.not_after)

# Procedures of the delegation that this RP does not register.
_unknown_procedures contains id if {
	some id in _delegation.procedures
	not _rp.procedures[id]
}

# Procedures requiring a licence that the delegate does not hold.
_unlicensed_procedures contains id if {
	some id in _delegation.procedures
	accepted := _rp.procedures[id].licences_accepted
	count(accepted) > 0
	not _holds_one_of(accepted, _usable_licences)
}

_holds_one_of(kinds, licences) if {
	some licence in licences
	licence.kind in kinds
}

# METADATA
# title: Deny reasons for a well-formed delegation
# scope: document
denials contains _reason("wrong_rp", msg) if {
	_delegation.rp != input.rp.client_id
	msg := sprintf("the delegation is for %q, not %q", [_delegation.rp, input.rp.client_id])
}

denials contains _reason("unknown_rp", sprintf("relying party %q is not registered", [_delegation.rp])) if {
	_present
	not _rp
}

denials contains _reason("wrong_delegate", msg) if {
	_delegation.delegate_username != input.account.username
	msg := sprintf("the delegation names %q as delegate, not %q", [_delegation.delegate_username, input.account.username])
}

denials contains _reason("not_yet_valid", sprintf("the delegation starts at %s", [_delegation.not_before])) if {
	inputs.now_ns < _not_before_ns
}

denials contains _reason("expired", sprintf("the delegation ended at %s", [_delegation.not_after])) if {
	inputs.now_ns > _not_after_ns
}

denials contains _reason("revoked", "the delegation was revoked") if {
	_delegation.revoked == true
}

denials contains _reason("grantor_mismatch", msg) if {
	input.grantor.username != _delegation.granted_by
	msg := sprintf(
		"the grantor on record is %q, but the delegation was granted by %q",
		[input.grantor.username, _delegation.granted_by],
	)
}

denials contains _reason("grantor_not_prime", msg) if {
	input.grantor.tier != "prime"
	msg := sprintf("only a verified Prime may delegate; the grantor is %q", [input.grantor.tier])
}

denials contains _reason("grantor_not_of_principal", msg) if {
	input.grantor.corporate_number != _delegation.principal_corporate_number
	msg := sprintf(
		"the grantor belongs to %s, not to the principal %s",
		[input.grantor.corporate_number, _delegation.principal_corporate_number],
	)
}

denials contains _reason("grantor_inactive", "the grantor's account is suspended") if {
	input.grantor.status == "suspended"
}

denials contains _reason("grantor_inactive", msg) if {
	inputs.is_date(input.grantor.valid_until)
	input.grantor.valid_until < inputs.today
	msg := sprintf("the grantor's account expired on %s", [input.grantor.valid_until])
}

denials contains _reason("grantor_inactive", "the grantor's account has no validity date") if {
	_present
	object.get(inputs.document, ["grantor", "valid_until"], null) == null
}

denials contains _reason("unknown_procedure", sprintf("%q is not a procedure of %s", [id, _delegation.rp])) if {
	some id in _unknown_procedures
}

denials contains _reason("licence_required", msg) if {
	some id in _unlicensed_procedures
	kinds := _rp.procedures[id].licences_accepted
	msg := sprintf("%q requires the delegate to hold a valid licence of one of %v", [id, kinds])
}

# Every condition for a valid delegation, stated positively (see the package description).
_every_condition_met if {
	_delegation.rp == input.rp.client_id
	_rp
	_delegation.delegate_username == input.account.username
	_not_before_ns <= inputs.now_ns
	inputs.now_ns <= _not_after_ns
	_delegation.revoked == false
	_granted_by_active_prime
	count(_delegation.procedures) > 0
	count(_unknown_procedures) == 0
	count(_unlicensed_procedures) == 0
}

_granted_by_active_prime if {
	input.grantor.username == _delegation.granted_by
	input.grantor.tier == "prime"
	input.grantor.corporate_number == _delegation.principal_corporate_number
	input.grantor.status == "active"
	inputs.is_date(input.grantor.valid_until)
	input.grantor.valid_until >= inputs.today
}
