# Running the service: alarms that reach someone, and Keycloak tasks that roll back, scale on CPU, carry the
# OPA sidecar and take their passwords only from Secrets Manager in their own region.

# METADATA
# title: Operations
# description: "Alarms notify an SNS topic; ECS services roll back and scale; tasks read secrets safely."
package infra.operations

import data.infra.lib

topics := {t.state.arn | some t in lib.resources_of("aws:sns/topic:Topic")}

alarms := lib.resources_of("aws:cloudwatch/metricAlarm:MetricAlarm")

alarm_metrics := {[a.region, a.inputs.metricName] | some a in alarms} | {[a.region, q.metric.metricName] |
	some a in alarms
	some q in object.get(a.inputs, "metricQueries", [])
}

required_metrics := {"HTTPCode_ELB_5XX_Count", "HTTPCode_Target_5XX_Count", "UnHealthyHostCount", "FailedLogins"}

deny contains sprintf("%s: notifies nobody", [a.name]) if {
	some a in alarms
	count({arn | some arn in object.get(a.inputs, "alarmActions", [])} & topics) == 0
}

deny contains sprintf("no %s alarm in %s", [metric, region]) if {
	some region in input.regions
	some metric in required_metrics
	not [region, metric] in alarm_metrics
}

deny contains "no replication lag alarm on the Osaka secondary" if {
	input.environment != "dev"
	not [lib.OSAKA, "AuroraGlobalDBReplicationLag"] in alarm_metrics
}

# Route 53 health checks reach on-call, in us-east-1 (the only region with Route 53 metrics), notifying a topic
# in that same region. An active site's check has an alarm of its own (HealthCheckStatus Minimum < 1). A
# standby site's check (behind a SECONDARY failover record) fails by design while it runs no tasks: an alarm
# of its own would fire for good, so it is covered by one alarm on MAX over all checks < 1 (no site passes).
standby_checks := {rec.inputs.healthCheckId |
	some rec in lib.resources_of("aws:route53/record:Record")
	some policy in object.get(rec.inputs, "failoverRoutingPolicies", [])
	policy.type == "SECONDARY"
}

deny contains sprintf("%s: no us-east-1 HealthCheckStatus alarm notifying a us-east-1 topic", [hc.name]) if {
	some hc in lib.resources_of("aws:route53/healthCheck:HealthCheck")
	not hc.state.id in standby_checks
	not _health_check_alarmed(hc)
}

deny contains sprintf("%s: standby health check not covered by a us-east-1 alarm on MAX over all checks < 1", [hc.name]) if {
	some hc in lib.resources_of("aws:route53/healthCheck:HealthCheck")
	hc.state.id in standby_checks
	not _none_healthy_alarmed(hc)
}

deny contains sprintf("%s: alarms on the standby's own health check, which fails while it stands by (always in alarm)", [a.name]) if {
	some a in alarms
	a.inputs.metricName == "HealthCheckStatus"
	a.inputs.dimensions.HealthCheckId in standby_checks
}

_health_check_alarmed(hc) if {
	some a in alarms
	a.inputs.metricName == "HealthCheckStatus"
	a.inputs.dimensions.HealthCheckId == hc.state.id
	a.inputs.namespace == "AWS/Route53"
	a.inputs.statistic == "Minimum"
	_fails_below_one(a)
}

_none_healthy_alarmed(hc) if {
	some a in alarms
	some q in a.inputs.metricQueries
	q.metric.metricName == "HealthCheckStatus"
	q.metric.namespace == "AWS/Route53"
	q.metric.dimensions.HealthCheckId == hc.state.id
	q.metric.stat == "Minimum"
	some e in a.inputs.metricQueries
	e.returnData == true
	startswith(e.expression, "MAX(")
	contains(e.expression, q.id)
	every c in lib.resources_of("aws:route53/healthCheck:HealthCheck") {
		some m in a.inputs.metricQueries
		m.metric.dimensions.HealthCheckId == c.state.id
		contains(e.expression, m.id)
	}
	_fails_below_one(a)
}

_fails_below_one(a) if {
	a.region == lib.ROUTE53_METRICS
	a.inputs.comparisonOperator == "LessThanThreshold"
	a.inputs.threshold == 1
	some t in lib.resources_of("aws:sns/topic:Topic")
	t.region == lib.ROUTE53_METRICS
	t.state.arn in a.inputs.alarmActions
}

deny contains sprintf("%s: no deployment circuit breaker with rollback", [s.name]) if {
	some s in lib.resources_of("aws:ecs/service:Service")
	breaker := object.get(s.inputs, "deploymentCircuitBreaker", {})
	not _on(breaker)
}

_on(breaker) if {
	breaker.enable == true
	breaker.rollback == true
}

deny contains sprintf("no CPU autoscaling in %s", [region]) if {
	some region in input.regions
	not _cpu_scaled(region)
}

_cpu_scaled(region) if {
	some p in lib.resources_of("aws:appautoscaling/policy:Policy")
	p.region == region
	spec := p.inputs.targetTrackingScalingPolicyConfiguration.predefinedMetricSpecification
	spec.predefinedMetricType == "ECSServiceAverageCPUUtilization"
}

# Every task but a scheduled job's (family bizid-<env>-reminders, policies/infra/jobs.rego) is Keycloak's.
tasks := [t |
	some t in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	not endswith(object.get(t.inputs, "family", ""), "-reminders")
]

containers(task) := {c.name: c | some c in json.unmarshal(task.inputs.containerDefinitions)}

deny contains sprintf("%s: containers %v, expected keycloak and opa", [t.name, sort(object.keys(containers(t)))]) if {
	some t in tasks
	object.keys(containers(t)) != {"keycloak", "opa"}
}

deny contains sprintf("%s: %s passed as plain environment", [t.name, v.name]) if {
	some t in tasks
	object.keys(containers(t)) == {"keycloak", "opa"}
	some c in containers(t)
	some v in object.get(c, "environment", [])
	_secret_like(v.name)
}

_secret_like(name) if {
	contains(name, "PASSWORD")

	# Keycloak's password-policy options configure the policy (e.g. the blocklist's Bloom filter); no credential.
	not startswith(name, "KC_SPI_PASSWORD_POLICY__")
}

_secret_like(name) if contains(name, "SECRET")

deny contains sprintf("%s: passwords not taken from Secrets Manager", [t.name]) if {
	some t in tasks
	object.keys(containers(t)) == {"keycloak", "opa"}
	names := {s.name | some s in object.get(containers(t).keycloak, "secrets", [])}
	count({"KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD"} - names) > 0
}

deny contains sprintf("%s: reads secrets from another region", [t.name]) if {
	some t in tasks
	object.keys(containers(t)) == {"keycloak", "opa"}
	some s in object.get(containers(t).keycloak, "secrets", [])
	split(sprintf("%v", [s.valueFrom]), ":")[3] != t.region
}

# A standby ALB without tasks answers every Route 53 health check with 503: the ALB's own 5xx count is an
# outage signal only while the region has healthy tasks (metric math IF(healthy > 0, elb5xx, 0)); with none,
# the Route 53 health-check alarm says it.
deny contains sprintf("%s: alarms on the ALB's own 5xx even with no task running (an idle standby's Route 53 checks keep it in alarm)", [a.name]) if {
	some a in alarms
	a.inputs.metricName == "HTTPCode_ELB_5XX_Count"
}

deny contains sprintf("%s: ALB 5xx alarm not gated on HealthyHostCount (IF(healthy > 0, ...))", [a.name]) if {
	some a in alarms
	queries := object.get(a.inputs, "metricQueries", [])
	some q in queries
	q.metric.metricName == "HTTPCode_ELB_5XX_Count"
	not _gated(queries, q.id)
}

_gated(queries, counted) if {
	some h in queries
	h.metric.metricName == "HealthyHostCount"
	some e in queries
	e.returnData == true
	regex.match(sprintf(`^IF\(\s*%s\s*>\s*0\s*,\s*%s\s*,\s*0\s*\)$`, [h.id, counted]), e.expression)
}

# Audit records that never reach the locked archive must reach on-call: per stream, Firehose's data freshness
# (it retries for 24 hours, then drops); per replication rule, S3's failed replications.
deny contains sprintf("%s: no DeliveryToS3.DataFreshness alarm (failed deliveries are dropped after 24 h)", [s.name]) if {
	some s in lib.resources_of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
	not _delivery_alarmed(s)
}

_delivery_alarmed(s) if {
	some a in alarms
	a.region == s.region
	a.inputs.namespace == "AWS/Firehose"
	a.inputs.metricName == "DeliveryToS3.DataFreshness"
	a.inputs.dimensions.DeliveryStreamName == s.state.name
}

deny contains sprintf("%s: no OperationsFailedReplication alarm on rule %v", [r.name, rule.id]) if {
	some r in lib.resources_of("aws:s3/bucketReplicationConfig:BucketReplicationConfig")
	some rule in r.inputs.rules
	not _replication_alarmed(r, rule)
}

_replication_alarmed(r, rule) if {
	some a in alarms
	a.region == r.region
	a.inputs.namespace == "AWS/S3"
	a.inputs.metricName == "OperationsFailedReplication"
	a.inputs.dimensions.SourceBucket == r.inputs.bucket
	a.inputs.dimensions.RuleId == rule.id
}
