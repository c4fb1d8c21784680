# METADATA
# title: Access - may this account sign in to this relying party now?
# description: |
#   Asked by Keycloak's `bizid-access` authenticator (right after the password step, and as the last
#   step of every browser login; see authn.phase below), at
#   POST /v1/data/bizid/access/decision. Keycloak lets the login finish only when the answer is
#   exactly {"allow": true, ...}; any other answer, an error or no answer is a refusal.
#
#   The account is allowed only when BOTH hold:
#     1. no deny reason applies (the `denials` below, each with a machine-readable code), and
#     2. every condition for an allow is positively established (`_every_condition_met`).
#   The two lists say the same thing from opposite sides on purpose: a deny rule that silently fails
#   to match (a missing field, a registry gap) cannot turn into an allow, because the positive side
#   will not be met either.
#
#   Deny codes: malformed_input, unknown_rp, unknown_tier, tier_not_accepted, acr_too_low,
#   account_suspended, missing_validity, account_expired, provisional_rp_not_allowed,
#   delegation_invalid; for a Member, the prime_* codes of prime.rego (its issuing Prime's current
#   record) and member_not_permitted of member.rego (its Prime's per-RP permissions); and no_decision when no specific reason was found yet the allow was not established.
#   member.rego adds unknown_procedure (any tier: the procedure the RP named is not registered) and
#   member_procedure_not_permitted (a Member not permitted the procedure named, or naming none).
#   delegated_procedure.rego adds delegation_procedure_not_covered (a valid delegation that does not
#   list the procedure named, or a delegated sign-in naming none).
#   Inputs are described in bizid.inputs and docs/policies.md.
# related_resources:
#   - ref: ../../../docs/policies.md
package bizid.access

import data.bizid.delegation
import data.bizid.inputs
import data.bizid.registry

# METADATA
# title: The access decision (the entrypoint Keycloak queries)
# description: |
#   {"allow": bool, "reasons": [{"code", "message"}]}. `reasons` is empty exactly when `allow` is
#   true. The default only applies if evaluation produced nothing at all; it refuses.
# entrypoint: true
# scope: document
default decision := {"allow": false, "reasons": [{"code": "no_decision", "message": "the policy reached no decision"}]}

decision := {"allow": allow, "reasons": reasons}

# METADATA
# title: Allow only a well-formed input with no deny reason and every condition met
# scope: document
default allow := false

allow if {
	count(inputs.problems) == 0
	count(denials) == 0
	_every_condition_met
}

# METADATA
# title: Why the account is refused (sorted; empty when allowed)
# description: |
#   A malformed input is reported only as malformed_input, one entry per problem: nothing else can
#   be judged reliably from it. The first reason is what the RP reads (error_description), so
#   acr_too_low comes after every other reason: signing in again with a second factor cannot help
#   while anything else applies (an Entry account registered from jgrants is tier_not_accepted).
# scope: document
default reasons := [{"code": "no_decision", "message": "the conditions for access were not all established"}]

reasons := sort({_reason("malformed_input", problem) | some problem in inputs.problems}) if {
	count(inputs.problems) > 0
} else := array.concat(
	sort({r | some r in denials; r.code != "acr_too_low"}),
	sort({r | some r in denials; r.code == "acr_too_low"}),
) if {
	count(denials) > 0
} else := [] if {
	allow
}

_reason(code, message) := {"code": code, "message": message}

_rp := registry.rps[input.rp.client_id]

# The platform's own clients (realm/definitions/platform-clients.yaml, e.g. the account console) are
# judged like RPs; the loader keeps their client ids apart from the RPs'.
_rp := registry.platform_clients[input.rp.client_id]

# A platform client that a provisional Prime may use whatever RPs its account names (its own account page).
_any_provisional if _rp.any_provisional == true

_tier := registry.tiers[input.account.tier]

# The level of authentication required: the higher of the RP's and the tier's minimum acr.
_required_loa := max([registry.acr_loa[_rp.min_acr], registry.acr_loa[_tier.min_acr]])

_delegation_present if input.delegation != null

# (bizid.delegation's `valid` and `reasons` are read directly, not through its `decision` document: that
# would also build `acting_for`, the claim only bizid.release needs. The same values: `decision` is
# always the object of the three; docs/tuning.md "Policy decisions: levers".)

# METADATA
# title: Deny reasons for a well-formed input
# description: Each entry is {"code", "message"}; see the package description for the codes.
# scope: document
denials contains _reason("unknown_rp", sprintf("relying party %q is not registered", [input.rp.client_id])) if {
	not _rp
}

denials contains _reason("unknown_tier", sprintf("account tier %q is not defined", [input.account.tier])) if {
	not _tier
}

denials contains _reason("tier_not_accepted", msg) if {
	rp := _rp
	_tier
	not input.account.tier in rp.accepted_tiers
	msg := sprintf("%s accepts only %v; this account is %q", [rp.client_id, rp.accepted_tiers, input.account.tier])
}

# METADATA
# title: Whether the level of authentication is judged in this call
# description: |
#   Keycloak asks twice: with authn.phase "identified" right after the password step, so an account
#   that will be refused anyway (wrong tier, expired, suspended, wrong RP) is told so before it is
#   asked for a second factor; and at the end of the flow ("complete", the default), where every
#   rule applies. The early call can only refuse sooner: an allow there admits nobody, because the
#   final call still has to allow.
_judge_loa if object.get(input, ["authn", "phase"], "complete") in {"complete", null}

denials contains _reason("acr_too_low", msg) if {
	_judge_loa
	input.authn.loa < _required_loa
	msg := sprintf("level of authentication %v is below the required %v", [input.authn.loa, _required_loa])
}

denials contains _reason("account_suspended", "the account is suspended") if {
	input.account.status == "suspended"
}

denials contains _reason("missing_validity", msg) if {
	_tier.valid_until_required == true
	inputs.unset(input.account, "valid_until")
	msg := sprintf("a %s account must have valid_until", [input.account.tier])
}

denials contains _reason("account_expired", msg) if {
	inputs.is_date(input.account.valid_until)
	input.account.valid_until < inputs.today
	msg := sprintf("the account was valid until %s (today is %s, JST)", [input.account.valid_until, inputs.today])
}

denials contains _reason("provisional_rp_not_allowed", msg) if {
	_tier.rp_scoped == true
	not _any_provisional
	not inputs.unset(input.account, "provisional_rps")
	not input.rp.client_id in input.account.provisional_rps
	msg := sprintf("a %s account may sign in only to %v", [input.account.tier, input.account.provisional_rps])
}

denials contains _reason("provisional_rp_not_allowed", msg) if {
	_tier.rp_scoped == true
	not _any_provisional
	inputs.unset(input.account, "provisional_rps")
	msg := sprintf("a %s account names no relying party it may sign in to", [input.account.tier])
}

denials contains _reason("delegation_invalid", sprintf("%s: %s", [reason.code, reason.message])) if {
	_delegation_present
	some reason in delegation.reasons
}

# Every condition for an allow, stated positively (see the package description).
_every_condition_met if {
	input.account.tier in _rp.accepted_tiers
	_loa_met
	input.account.status == "active"
	_valid_today
	_rp_scope_met
	_delegation_met
	_issuer_met
	_member_scope_met
}

_loa_met if not _judge_loa

_loa_met if input.authn.loa >= _required_loa

# An account without a validity date is fine only for a tier that does not require one.
_valid_today if {
	_tier.valid_until_required == false
	inputs.unset(input.account, "valid_until")
}

_valid_today if {
	inputs.is_date(input.account.valid_until)
	input.account.valid_until >= inputs.today
}

_rp_scope_met if _tier.rp_scoped == false

_rp_scope_met if {
	_tier.rp_scoped == true
	input.rp.client_id in input.account.provisional_rps
}

_rp_scope_met if _any_provisional

_delegation_met if not _delegation_present

_delegation_met if {
	_delegation_present
	delegation.valid == true
	_delegation_covers # delegated_procedure.rego: the procedure named is one the delegation lists
}
