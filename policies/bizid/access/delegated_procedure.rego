# Part of bizid.access (its METADATA is in access.rego): does the delegation a delegate signs in with
# cover the procedure the RP named?
#
# A Prime delegates named procedures at one RP (DOMAIN.md: "A Prime can delegate specific procedures";
# `bizid delegations grant --procedure`, bizid.delegation: a delegation always names at least one).
# No delegation is RP-wide, so a delegated sign-in (`delegation=<id>`) must name, with `procedure=<id>`
# (input.rp.procedure), one of the procedures of that delegation. Fail closed:
#   - a procedure of the RP that the delegation does not list: delegation_procedure_not_covered;
#   - no procedure named at all: delegation_procedure_not_covered as well. The `delegation` claim lists
#     what the delegation covers, but a token without the `procedure` claim stands for the whole RP
#     (docs/rp-guide.md), which a delegate never holds - the same rule as a Member with
#     procedure-only permissions (member.rego).
# An invalid delegation is reported as delegation_invalid alone and an unregistered procedure as
# unknown_procedure alone (member.rego): this rule only speaks about a valid delegation and a known (or no)
# procedure. The `procedure` claim released is then the one judged here (Keycloak's ProcedureClaim).
package bizid.access

import data.bizid.delegation

# The delegation lists the procedure named (undefined when none, or an unknown one, is named).
_delegation_covers if _procedure in input.delegation.procedures

denials contains _reason("delegation_procedure_not_covered", msg) if {
	delegation.valid == true
	_procedure_known # an unknown procedure is reported as unknown_procedure alone
	not _delegation_covers
	msg := sprintf(
		"delegation %q covers only %v at %s, not %s",
		[input.delegation.id, sort(input.delegation.procedures), input.rp.client_id, _asked],
	)
}
