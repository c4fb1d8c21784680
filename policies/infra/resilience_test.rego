package infra.resilience_test

import data.infra.resilience

provider(region) := {"type": "pulumi:providers:aws", "name": region, "custom": true, "region": null, "inputs": {}, "state": {"region": region}}

global := {"type": "aws:rds/globalCluster:GlobalCluster", "name": "g", "custom": true, "region": "ap-northeast-1", "inputs": {"deletionProtection": true}, "state": {"id": "g"}}

member(region, extra) := {"type": "aws:rds/cluster:Cluster", "name": region, "custom": true, "region": region, "inputs": object.union({"globalClusterIdentifier": "g", "deletionProtection": true, "backupRetentionPeriod": 7}, extra), "state": {"id": concat("-", [region, "cluster"])}}

instance(region) := {"type": "aws:rds/clusterInstance:ClusterInstance", "name": concat("-", [region, "db"]), "custom": true, "region": region, "inputs": {"clusterIdentifier": concat("-", [region, "cluster"])}, "state": {}}

service(region) := {"type": "aws:ecs/service:Service", "name": concat("-", [region, "svc"]), "custom": true, "region": region, "inputs": {}, "state": {}}

alb(region) := {"type": "aws:lb/loadBalancer:LoadBalancer", "name": region, "custom": true, "region": region, "inputs": {"enableDeletionProtection": true}, "state": {"dnsName": concat(".", [region, "elb"])}}

check(region) := {"type": "aws:route53/healthCheck:HealthCheck", "name": "hc", "custom": true, "region": "ap-northeast-1", "inputs": {"fqdn": concat(".", [region, "elb"]), "type": "HTTPS"}, "state": {"id": concat("-", ["hc", region])}}

record(region, policy) := {"type": "aws:route53/record:Record", "name": policy, "custom": true, "region": "ap-northeast-1", "inputs": {"type": "A", "failoverRoutingPolicies": [{"type": policy}], "aliases": [{"name": concat(".", [region, "elb"])}], "healthCheckId": concat("-", ["hc", region])}, "state": {}}

two_regions := [
	provider("ap-northeast-1"), provider("ap-northeast-3"), provider("us-east-1"), global,
	member("ap-northeast-1", {"masterPassword": "[secret]"}), member("ap-northeast-3", {}),
	instance("ap-northeast-3"), service("ap-northeast-1"), service("ap-northeast-3"),
	alb("ap-northeast-1"), alb("ap-northeast-3"), check("ap-northeast-1"), check("ap-northeast-3"),
	record("ap-northeast-1", "PRIMARY"), record("ap-northeast-3", "SECONDARY"),
]

test_two_region_prod_passes if {
	count(resilience.deny) == 0 with input as {"environment": "prod", "resources": two_regions}
}

test_only_health_check_alarms_in_us_east_1 if {
	hc_alarm := {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": "hc-alarm", "custom": true, "region": "us-east-1", "inputs": {"namespace": "AWS/Route53"}, "state": {}}
	count(resilience.deny) == 0 with input as {"environment": "prod", "resources": array.concat(two_regions, [hc_alarm])}
	stray := object.union(service("us-east-1"), {"name": "stray"})
	denied := resilience.deny with input as {"environment": "prod", "resources": array.concat(two_regions, [stray])}
	"stray: only Route 53 health-check alarms belong in us-east-1" in denied
	other_alarm := object.union(hc_alarm, {"name": "alb", "inputs": {"namespace": "AWS/ApplicationELB"}})
	"alb: only Route 53 health-check alarms belong in us-east-1" in resilience.deny with input as {"environment": "prod", "resources": array.concat(two_regions, [other_alarm])}
}

metric_query(ns) := {"id": "m", "metric": {"namespace": ns, "metricName": "X"}}

test_metric_math_over_route53_only_in_us_east_1 if {
	math := {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": "none", "custom": true, "region": "us-east-1", "inputs": {"metricQueries": [metric_query("AWS/Route53"), {"id": "e", "expression": "MAX([m])"}]}, "state": {}}
	count(resilience.deny) == 0 with input as {"environment": "prod", "resources": array.concat(two_regions, [math])}
	mixed := object.union(math, {"inputs": {"metricQueries": [metric_query("AWS/Route53"), metric_query("AWS/ApplicationELB")]}})
	"none: only Route 53 health-check alarms belong in us-east-1" in resilience.deny with input as {"environment": "prod", "resources": array.concat(two_regions, [mixed])}
}

test_missing_standby_denied if {
	tokyo_only := [r | some r in two_regions; r.region != "ap-northeast-3"; r.state.region != "ap-northeast-3"]
	denied := resilience.deny with input as {"environment": "prod", "resources": tokyo_only}
	"no resources in ap-northeast-3" in denied
	"global cluster lacks its member in ap-northeast-3" in denied
}

test_failover_without_health_check_denied if {
	unchecked := [r | some r in two_regions; r.type != "aws:route53/healthCheck:HealthCheck"]
	denied := resilience.deny with input as {"environment": "staging", "resources": unchecked}
	count([m | some m in denied; startswith(m, "failover records")]) == 1
}

test_default_provider_denied if {
	stray := {"type": "aws:s3/bucket:Bucket", "name": "stray", "custom": true, "region": null, "provider": "urn:pulumi:prod::bizid::pulumi:providers:aws::default_7_51_1::id", "inputs": {}, "state": {}}
	"stray: declared under the default provider" in resilience.deny with input as {"environment": "prod", "resources": array.concat(two_regions, [stray])}
}

test_prod_needs_deletion_protection if {
	unprotected := [member("ap-northeast-1", {"masterPassword": "[secret]", "deletionProtection": false})]
	"ap-northeast-1: deletion protection off in prod" in resilience.deny with input as {"environment": "prod", "resources": array.concat(two_regions, unprotected)}
}

test_short_backups_denied_in_prod if {
	short := [object.union(r, {"inputs": {"backupRetentionPeriod": 1}}) | some r in two_regions; r.type == "aws:rds/cluster:Cluster"]
	others := [r | some r in two_regions; r.type != "aws:rds/cluster:Cluster"]
	denied := resilience.deny with input as {"environment": "prod", "resources": array.concat(others, short)}
	"ap-northeast-1: backups kept under 7 days" in denied
}

test_health_check_must_be_https if {
	plain := [object.union(r, {"inputs": {"type": "HTTP"}}) | some r in two_regions; r.type == "aws:route53/healthCheck:HealthCheck"]
	others := [r | some r in two_regions; r.type != "aws:route53/healthCheck:HealthCheck"]
	denied := resilience.deny with input as {"environment": "staging", "resources": array.concat(others, plain)}
	"PRIMARY: no HTTPS health check on its ALB" in denied
}

test_record_not_pointing_at_an_alb_denied if {
	stray := {"type": "aws:route53/record:Record", "name": "stray", "custom": true, "region": "ap-northeast-1", "inputs": {"type": "A", "aliases": [{"name": "elsewhere"}]}, "state": {}}
	denied := resilience.deny with input as {"environment": "staging", "resources": array.concat(two_regions, [stray])}
	"stray: not a failover alias to an ALB" in denied
}

test_dev_needs_one_a_record if {
	denied := resilience.deny with input as {"environment": "dev", "resources": []}
	"dev needs exactly one A record" in denied
}

test_osaka_secondary_needs_an_instance if {
	bare := [r | some r in two_regions; r.type != "aws:rds/clusterInstance:ClusterInstance"]
	"Osaka secondary has no instance to promote" in resilience.deny with input as {"environment": "prod", "resources": bare}
}

test_every_region_runs_keycloak if {
	one := [r | some r in two_regions; r.name != "ap-northeast-3-svc"]
	"no Keycloak service in ap-northeast-3" in resilience.deny with input as {"environment": "prod", "resources": one}
}

test_tokyo_password_must_be_secret if {
	plain := [object.union(r, {"inputs": {"masterPassword": "hunter2"}}) | some r in two_regions; r.type == "aws:rds/cluster:Cluster"; r.region == "ap-northeast-1"]
	others := [r | some r in two_regions; not _tokyo_cluster(r)]
	denied := resilience.deny with input as {"environment": "prod", "resources": array.concat(others, plain)}
	"the Tokyo writer's master password is not a secret" in denied
}

_tokyo_cluster(r) if {
	r.type == "aws:rds/cluster:Cluster"
	r.region == "ap-northeast-1"
}

test_one_global_cluster if {
	twice := array.concat(two_regions, [object.union(global, {"name": "g2"})])
	"2 global clusters, expected 1" in resilience.deny with input as {"environment": "prod", "resources": twice}
}
