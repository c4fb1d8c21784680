# Part of bizid.access (its METADATA is in access.rego): may this Member use this relying party on its
# company's behalf?
#
# A Member (a tier with `issued_by_prime` in the registry) acts only where its Prime allowed it: the
# operator-only, multivalued attribute `member_permissions` lists RP client ids, or `rp/procedure` for
# one procedure at an RP (set with `bizid members permit`, by the Member's own current Prime). Keycloak
# sends it as `input.account.member_permissions` (an array; empty when unset). Fail closed: a Member
# with no permission for the RP (none at all included) is refused with member_not_permitted. The
# platform's own clients (the account console) are the Member's own account page, not a use on the
# company's behalf: no permission is needed there.
package bizid.access

import data.bizid.registry

_platform_client if registry.platform_clients[input.rp.client_id]

# The RP a permission entry is for: the whole entry, or the part before "/<procedure>".
_permission_rp(entry) := split(entry, "/")[0]

_member_permitted if {
	some entry in input.account.member_permissions
	_permission_rp(entry) == input.rp.client_id
}

denials contains _reason("member_not_permitted", msg) if {
	_issued_by_prime
	not _platform_client
	not _member_permitted
	msg := sprintf(
		"the Member's Prime %q has not permitted it to use %s",
		[input.account.prime_username, input.rp.client_id],
	)
}

# Stated positively (part of `_every_condition_met`).
_member_scope_met if not _issued_by_prime

_member_scope_met if _platform_client

_member_scope_met if _member_permitted
