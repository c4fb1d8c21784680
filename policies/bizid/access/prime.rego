# Part of bizid.access (its METADATA is in access.rego): is the Prime that issued this Member still an
# active Prime of its company?
#
# A Member (a tier with `issued_by_prime` in the registry) exists only because a Prime vouched for
# it, so it may sign in only while that Prime could still vouch: Keycloak looks up the account named
# in `account.prime_username` at every decision and sends its CURRENT record as `input.prime`
# ({username, found: false} when there is no such account). Suspending or expiring a Prime therefore
# locks out its Members at their next sign-in, and stops their claims at the next token or userinfo
# call (bizid.release asks bizid.access).
#
# Deny codes (only for a tier issued by a Prime): prime_missing (no prime_username), prime_not_found
# (no such account), prime_mismatch (the record is not the named account), prime_not_prime (the
# issuer's tier cannot create Members: Entry, Member, provisional Prime, unknown), prime_suspended,
# prime_missing_validity, prime_expired, prime_company_mismatch (the Member's corporate number is not
# its Prime's). As everywhere in bizid.access, `_issuer_met` states the same positively.
package bizid.access

import data.bizid.inputs
import data.bizid.registry

# The account's tier is issued by a Prime (Member).
_issued_by_prime if _tier.issued_by_prime == true

# The issuing Prime's record, when Keycloak found the account.
_prime := input.prime if input.prime.found == true

# A tier whose holders may issue Members (Prime).
_can_issue(tier) if registry.tiers[tier].can_create_members == true

_corporate_number(record) := object.get(record, "corporate_number", null)

denials contains _reason("prime_missing", msg) if {
	_issued_by_prime
	inputs.unset(input.account, "prime_username")
	msg := sprintf("a %s account must name the Prime that issued it (prime_username)", [input.account.tier])
}

denials contains _reason("prime_not_found", msg) if {
	_issued_by_prime
	not inputs.unset(input.account, "prime_username")
	not _prime
	msg := sprintf("the issuing Prime %q does not exist", [input.account.prime_username])
}

denials contains _reason("prime_mismatch", msg) if {
	_issued_by_prime
	_prime.username != input.account.prime_username
	msg := sprintf("the record sent is of %q, not of the issuing Prime %q", [_prime.username, input.account.prime_username])
}

denials contains _reason("prime_not_prime", msg) if {
	_issued_by_prime
	prime := _prime
	not _can_issue(prime.tier)
	msg := sprintf("the issuer %q is a %q account; only a Prime issues Members", [prime.username, prime.tier])
}

denials contains _reason("prime_suspended", sprintf("the issuing Prime %q is suspended", [_prime.username])) if {
	_issued_by_prime
	_prime.status == "suspended"
}

denials contains _reason("prime_missing_validity", msg) if {
	_issued_by_prime
	prime := _prime
	inputs.unset(prime, "valid_until")
	msg := sprintf("the issuing Prime %q has no validity date", [prime.username])
}

denials contains _reason("prime_expired", msg) if {
	_issued_by_prime
	inputs.is_date(_prime.valid_until)
	_prime.valid_until < inputs.today
	msg := sprintf("the issuing Prime %q was valid until %s", [_prime.username, _prime.valid_until])
}

denials contains _reason("prime_company_mismatch", msg) if {
	_issued_by_prime
	prime := _prime
	_corporate_number(prime) != _corporate_number(input.account)
	msg := sprintf(
		"the account's corporate number %v is not its Prime's %v",
		[_corporate_number(input.account), _corporate_number(prime)],
	)
}

# Every condition on the issuer, stated positively (part of `_every_condition_met`).
_issuer_met if not _issued_by_prime

# (The shape check makes valid_until a date or null; null never compares >= a date string.)
_issuer_met if {
	_prime.username == input.account.prime_username
	_can_issue(_prime.tier)
	_prime.status == "active"
	_prime.valid_until >= inputs.today
	_corporate_number(_prime) == _corporate_number(input.account)
}
