# DNS fails over on the site writability signal (realm/site.py): the health check behind each failover record
# asks `/realms/<realm>/bizid-site/writable` and requires the body `"writable":true`, which a region answers only
# while its Keycloak runs on a database that takes writes. A Tokyo left on a read-only secondary after a
# failover then never passes again, and Route 53 cannot fail back to it.

# METADATA
# title: Failover signal
# description: "Route 53 failover health checks ask the site writability signal, not a page any site serves."
package infra.failover

import data.infra.lib

SIGNAL_PATH := `^/realms/[a-z][a-z0-9-]*/bizid-site/writable$`

MARKER := `"writable":true`

failover_checks := {rec.inputs.healthCheckId |
	some rec in lib.resources_of("aws:route53/record:Record")
	count(object.get(rec.inputs, "failoverRoutingPolicies", [])) > 0
}

deny contains sprintf("%s: failover health check asks %v, not the site writability signal (a read-only site would pass)", [hc.name, object.get(hc.inputs, "resourcePath", "")]) if {
	some hc in lib.resources_of("aws:route53/healthCheck:HealthCheck")
	hc.state.id in failover_checks
	not regex.match(SIGNAL_PATH, object.get(hc.inputs, "resourcePath", ""))
}

deny contains sprintf("%s: failover health check does not require %s in the body (HTTPS_STR_MATCH)", [hc.name, MARKER]) if {
	some hc in lib.resources_of("aws:route53/healthCheck:HealthCheck")
	hc.state.id in failover_checks
	not _matches_marker(hc)
}

_matches_marker(hc) if {
	hc.inputs.type == "HTTPS_STR_MATCH"
	hc.inputs.searchString == MARKER
}
