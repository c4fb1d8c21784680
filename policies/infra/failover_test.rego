package infra.failover_test

import data.infra.failover

check(path, type, marker) := {"type": "aws:route53/healthCheck:HealthCheck", "name": "hc", "region": "ap-northeast-1", "inputs": {"resourcePath": path, "type": type, "searchString": marker}, "state": {"id": "hc-1"}}

record := {"type": "aws:route53/record:Record", "name": "rec", "region": "ap-northeast-1", "inputs": {"healthCheckId": "hc-1", "failoverRoutingPolicies": [{"type": "PRIMARY"}]}, "state": {}}

test_writability_signal_passes if {
	count(failover.deny) == 0 with input as {"resources": [record, check("/realms/bizid/bizid-site/writable", "HTTPS_STR_MATCH", `"writable":true`)]}
}

test_discovery_document_denied if {
	denied := failover.deny with input as {"resources": [record, check("/realms/bizid/.well-known/openid-configuration", "HTTPS_STR_MATCH", `"writable":true`)]}
	"hc: failover health check asks /realms/bizid/.well-known/openid-configuration, not the site writability signal (a read-only site would pass)" in denied
}

test_status_code_only_denied if {
	denied := failover.deny with input as {"resources": [record, check("/realms/bizid/bizid-site/writable", "HTTPS", "")]}
	`hc: failover health check does not require "writable":true in the body (HTTPS_STR_MATCH)` in denied
}

test_check_without_failover_record_ignored if {
	count(failover.deny) == 0 with input as {"resources": [check("/", "HTTPS", "")]}
}
