# Part of bizid.access (its METADATA is in access.rego): may this Member use this relying party - and
# the procedure the RP named - on its company's behalf? And is the procedure named one the RP has?
#
# The RP names the procedure in the authorization request (`procedure=<id>`, docs/rp-guide.md);
# Keycloak sends it as `input.rp.procedure` (absent or null when none was named) and releases the
# procedure judged here as the `procedure` claim. Any account (every tier) is refused with
# unknown_procedure when the value is not one of the RP's registered procedures (registry
# `rps[rp].procedures`, from realm/definitions/rps): a misspelt, malformed or non-string value, or a
# procedure at an RP or platform client that declares none, fails closed.
#
# A Member (a tier with `issued_by_prime` in the registry) acts only where its Prime allowed it: the
# operator-only, multivalued attribute `member_permissions` lists RP client ids (every procedure of
# that RP), or `rp/procedure` for one procedure at an RP (set with `bizid members permit`, by the
# Member's own current Prime). Keycloak sends it as `input.account.member_permissions` (an array; empty
# when unset). Fail closed:
#   - no entry for the RP at all (none at all included): member_not_permitted;
#   - entries for single procedures of the RP only, and the RP named another procedure or none:
#     member_procedure_not_permitted. Without a named procedure only an RP-wide permission admits, so a
#     token without the `procedure` claim never stands for less than the whole RP.
# The platform's own clients (the account console) are the Member's own account page, not a use on the
# company's behalf: no permission is needed there.
package bizid.access

import data.bizid.inputs
import data.bizid.registry

_platform_client if registry.platform_clients[input.rp.client_id]

# The RP a permission entry is for: the whole entry, or the part before "/<procedure>".
_permission_rp(entry) := split(entry, "/")[0]

# --- the procedure named by the RP ------------------------------------------------------------------

_procedure_named if not inputs.unset(input.rp, "procedure")

# Defined only for a registered procedure of this RP (the registry's keys are strings: a non-string or
# unknown value finds nothing).
_procedure := input.rp.procedure if {
	registry.rps[input.rp.client_id].procedures[input.rp.procedure]
}

denials contains _reason("unknown_procedure", msg) if {
	_procedure_named
	not _procedure
	msg := sprintf("%v is not a registered procedure of %s", [input.rp.procedure, input.rp.client_id])
}

_procedure_known if not _procedure_named

_procedure_known if _procedure

# --- a Member's permissions ------------------------------------------------------------------------

# Some entry is for this RP (RP-wide or one of its procedures).
_member_has_rp if {
	some entry in input.account.member_permissions
	_permission_rp(entry) == input.rp.client_id
}

# Every procedure of the RP (and signing in without naming one).
_member_permitted if input.rp.client_id in input.account.member_permissions

# The one procedure named.
_member_permitted if {
	some entry in input.account.member_permissions
	entry == concat("/", [input.rp.client_id, _procedure])
}

denials contains _reason("member_not_permitted", msg) if {
	_issued_by_prime
	not _platform_client
	not _member_has_rp
	msg := sprintf(
		"the Member's Prime %q has not permitted it to use %s",
		[input.account.prime_username, input.rp.client_id],
	)
}

denials contains _reason("member_procedure_not_permitted", msg) if {
	_issued_by_prime
	not _platform_client
	_member_has_rp
	_procedure_known # an unknown procedure is reported as unknown_procedure alone
	not _member_permitted
	msg := sprintf(
		"the Member's Prime %q has permitted it only %v at %s, not %s",
		[input.account.prime_username, _member_procedures, input.rp.client_id, _asked],
	)
}

_member_procedures := sort([entry |
	some entry in input.account.member_permissions
	_permission_rp(entry) == input.rp.client_id
])

default _asked := "signing in without naming a procedure"

_asked := sprintf("procedure %q", [_procedure])

# Stated positively (part of `_every_condition_met`): the procedure is known, and a Member is
# permitted it (or the whole RP, or it is on its own account page).
_member_scope_met if {
	_procedure_known
	_member_scope_for_tier
}

_member_scope_for_tier if not _issued_by_prime

_member_scope_for_tier if _platform_client

_member_scope_for_tier if _member_permitted
