# Two regions where the environment needs them, explicit regional providers, the global database spanning both,
# DNS failover on health-checked ALBs, and deletion protection in prod.

# METADATA
# title: Two-region resilience
# description: "Both regions under explicit providers, the global database, DNS failover, deletion protection."
package infra.resilience

import data.infra.lib

provider_regions := {p.state.region | some p in lib.resources_of("pulumi:providers:aws")}

expected_provider_regions := lib.expected_regions | {lib.ROUTE53_METRICS}

deny contains sprintf("regional providers %v, expected %v", [provider_regions, expected_provider_regions]) if {
	provider_regions != expected_provider_regions
}

# Nothing but the health-check alarms and what they need may live in us-east-1 (data stays in Japan).
route53_metrics_types := {
	"aws:cloudwatch/metricAlarm:MetricAlarm",
	"aws:sns/topic:Topic",
	"aws:sns/topicSubscription:TopicSubscription",
	"aws:kms/key:Key",
	"aws:kms/alias:Alias",
}

deny contains sprintf("%s: only Route 53 health-check alarms belong in %s", [r.name, lib.ROUTE53_METRICS]) if {
	some r in input.resources
	r.custom
	r.region == lib.ROUTE53_METRICS
	not _route53_metrics_resource(r)
}

_route53_metrics_resource(r) if {
	r.type in route53_metrics_types
	r.type != "aws:cloudwatch/metricAlarm:MetricAlarm"
}

_route53_metrics_resource(r) if {
	r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
	r.inputs.namespace == "AWS/Route53"
}

# A metric-math alarm over Route 53 metrics only (the "no site passes" alarm).
_route53_metrics_resource(r) if {
	r.type == "aws:cloudwatch/metricAlarm:MetricAlarm"
	metrics := [q.metric | some q in r.inputs.metricQueries; q.metric]
	count(metrics) > 0
	every m in metrics {
		m.namespace == "AWS/Route53"
	}
}

deny contains sprintf("no resources in %s", [region]) if {
	some region in lib.expected_regions
	count([r | some r in input.resources; r.custom; r.region == region]) == 0
}

deny contains sprintf("%s: not under an explicit regional provider", [r.name]) if {
	some r in input.resources
	r.custom
	startswith(r.type, "aws:")
	not r.region in expected_provider_regions
}

deny contains sprintf("%s: declared under the default provider", [r.name]) if {
	some r in input.resources
	r.custom
	startswith(r.type, "aws:")
	contains(object.get(r, "provider", ""), "::pulumi:providers:aws::default")
}

global_id := g.state.id if {
	some g in lib.resources_of("aws:rds/globalCluster:GlobalCluster")
	g.region == lib.TOKYO
}

members(region) := [c |
	some c in lib.resources_of("aws:rds/cluster:Cluster")
	c.inputs.globalClusterIdentifier == global_id
	c.region == region
]

deny contains "no global cluster under the Tokyo provider" if not global_id

deny contains sprintf("global cluster lacks its member in %s", [region]) if {
	some region in lib.expected_regions
	count(members(region)) != 1
}

deny contains "the Tokyo member of the global cluster is not the writer (no master credentials)" if {
	some c in members(lib.TOKYO)
	not c.inputs.masterPassword
}

failover_records := {policy.type: lb.region |
	some rec in lib.resources_of("aws:route53/record:Record")
	some policy in rec.inputs.failoverRoutingPolicies
	some alias in rec.inputs.aliases
	some lb in lib.resources_of("aws:lb/loadBalancer:LoadBalancer")
	lb.state.dnsName == alias.name
	some hc in lib.resources_of("aws:route53/healthCheck:HealthCheck")
	hc.state.id == rec.inputs.healthCheckId
	hc.inputs.fqdn == lb.state.dnsName
}

deny contains sprintf("failover records %v: need a health-checked PRIMARY in Tokyo and SECONDARY in Osaka", [failover_records]) if {
	input.environment != "dev"
	failover_records != {"PRIMARY": lib.TOKYO, "SECONDARY": lib.OSAKA}
}

deny contains sprintf("%s: deletion protection off in prod", [r.name]) if {
	input.environment == "prod"
	some t in ["aws:rds/globalCluster:GlobalCluster", "aws:rds/cluster:Cluster"]
	some r in lib.resources_of(t)
	not r.inputs.deletionProtection == true
}

deny contains sprintf("%s: deletion protection off in prod", [lb.name]) if {
	input.environment == "prod"
	some lb in lib.resources_of("aws:lb/loadBalancer:LoadBalancer")
	not lb.inputs.enableDeletionProtection == true
}

deny contains sprintf("%s: backups kept under 7 days", [c.name]) if {
	input.environment == "prod"
	some c in lib.resources_of("aws:rds/cluster:Cluster")
	object.get(c.inputs, "backupRetentionPeriod", 0) < 7
}

# Private hosted zones (the internal admin name, admin_path.rego) answer inside a VPC only: not failover records.
private_zone_ids := {z.state.zoneId |
	some z in lib.resources_of("aws:route53/zone:Zone")
	count(object.get(z.inputs, "vpcs", [])) > 0
}

# The public name's records.
a_records := [r |
	some r in lib.resources_of("aws:route53/record:Record")
	r.inputs.type == "A"
	not object.get(r.inputs, "zoneId", "") in private_zone_ids
]

deny contains "dev needs exactly one A record" if {
	input.environment == "dev"
	count(a_records) != 1
}

deny contains sprintf("%s: not a failover alias to an ALB", [rec.name]) if {
	input.environment != "dev"
	some rec in a_records
	not _failover_alias(rec)
}

_failover_alias(rec) if {
	rec.inputs.failoverRoutingPolicies[0].type in {"PRIMARY", "SECONDARY"}
	some lb in lib.resources_of("aws:lb/loadBalancer:LoadBalancer")
	lb.state.dnsName == rec.inputs.aliases[0].name
}

deny contains sprintf("%s: no HTTPS health check on its ALB", [rec.name]) if {
	input.environment != "dev"
	some rec in a_records
	_failover_alias(rec)
	not _https_checked(rec)
}

_https_checked(rec) if {
	some hc in lib.resources_of("aws:route53/healthCheck:HealthCheck")
	hc.state.id == rec.inputs.healthCheckId
	hc.inputs.fqdn == rec.inputs.aliases[0].name
	hc.inputs.type in {"HTTPS", "HTTPS_STR_MATCH"}
}

global_clusters := lib.resources_of("aws:rds/globalCluster:GlobalCluster")

deny contains sprintf("%d global clusters, expected 1", [count(global_clusters)]) if {
	count(global_clusters) != 1
}

deny contains "the Tokyo writer's master password is not a secret" if {
	some c in members(lib.TOKYO)
	c.inputs.masterPassword
	c.inputs.masterPassword != "[secret]"
}

deny contains "the Osaka member of the global cluster has master credentials (it must be the secondary)" if {
	input.environment != "dev"
	some c in members(lib.OSAKA)
	c.inputs.masterPassword
}

deny contains "Osaka secondary has no instance to promote" if {
	input.environment != "dev"
	some c in members(lib.OSAKA)
	not _has_instance(c)
}

_has_instance(cluster) if {
	some i in lib.resources_of("aws:rds/clusterInstance:ClusterInstance")
	i.inputs.clusterIdentifier == cluster.state.id
}

deny contains sprintf("no Keycloak service in %s", [region]) if {
	some region in lib.expected_regions
	not _service_in(region)
}

_service_in(region) if {
	some s in lib.resources_of("aws:ecs/service:Service")
	s.region == region
}

# Every resource, of any package (image builds too), is declared under an explicit provider: the stack files
# disable the default providers, so one that needed a default provider would fail `pulumi preview`.
deny contains sprintf("%s: %s uses a default provider (%s)", [r.name, r.type, r.provider]) if {
	some r in input.resources
	r.custom
	not startswith(r.type, "pulumi:providers:")
	_default_provider(object.get(r, "provider", ""))
}

_default_provider(ref) if contains(ref, "::default")

_default_provider(ref) if ref == ""

_default_provider(ref) if ref == null
