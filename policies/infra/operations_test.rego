package infra.operations_test

import data.infra.operations

topic := {"type": "aws:sns/topic:Topic", "name": "t", "custom": true, "region": "ap-northeast-1", "inputs": {}, "state": {"arn": "arn:t"}}

alarm(metric, actions) := {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": metric, "custom": true, "region": "ap-northeast-1", "inputs": {"metricName": metric, "alarmActions": actions}, "state": {}}

service(breaker) := {"type": "aws:ecs/service:Service", "name": "svc", "custom": true, "region": "ap-northeast-1", "inputs": {"deploymentCircuitBreaker": breaker}, "state": {}}

scaling := {"type": "aws:appautoscaling/policy:Policy", "name": "cpu", "custom": true, "region": "ap-northeast-1", "inputs": {"targetTrackingScalingPolicyConfiguration": {"predefinedMetricSpecification": {"predefinedMetricType": "ECSServiceAverageCPUUtilization"}}}, "state": {}}

secret(name) := {"name": name, "valueFrom": "arn:aws:secretsmanager:ap-northeast-1:1:secret:x"}

task(keycloak) := {"type": "aws:ecs/taskDefinition:TaskDefinition", "name": "task", "custom": true, "region": "ap-northeast-1", "inputs": {"containerDefinitions": json.marshal([keycloak, {"name": "opa"}])}, "state": {}}

good_keycloak := {"name": "keycloak", "environment": [{"name": "KC_DB", "value": "postgres"}], "secrets": [secret("KC_DB_PASSWORD"), secret("KC_BOOTSTRAP_ADMIN_PASSWORD")]}

dev(resources) := {"environment": "dev", "regions": ["ap-northeast-1"], "resources": resources}

query(id, metric) := {"id": id, "metric": {"metricName": metric}, "returnData": false}

gated_5xx(expression) := {
	"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": "alb-5xx", "custom": true, "region": "ap-northeast-1", "inputs": {"alarmActions": ["arn:t"], "metricQueries": [
		query("elb5xx", "HTTPCode_ELB_5XX_Count"),
		query("healthy", "HealthyHostCount"),
		{"id": "serving", "expression": expression, "returnData": true},
	]},
	"state": {},
}

good := [
	topic,
	gated_5xx("IF(healthy > 0, elb5xx, 0)"), alarm("HTTPCode_Target_5XX_Count", ["arn:t"]),
	alarm("UnHealthyHostCount", ["arn:t"]), alarm("FailedLogins", ["arn:t"]),
	service({"enable": true, "rollback": true}), scaling, task(good_keycloak),
]

test_dev_operations_pass if {
	count(operations.deny) == 0 with input as dev(good)
}

test_alarm_without_topic_denied if {
	denied := operations.deny with input as dev(array.concat(good, [alarm("Extra", [])]))
	"Extra: notifies nobody" in denied
}

test_missing_alarm_denied if {
	fewer := [r | some r in good; object.get(r.inputs, "metricName", "") != "FailedLogins"]
	"no FailedLogins alarm in ap-northeast-1" in operations.deny with input as dev(fewer)
}

test_replication_lag_alarm_required_outside_dev if {
	denied := operations.deny with input as {"environment": "prod", "regions": ["ap-northeast-1"], "resources": good}
	"no replication lag alarm on the Osaka secondary" in denied
}

test_no_rollback_denied if {
	others := [r | some r in good; r.type != "aws:ecs/service:Service"]
	denied := operations.deny with input as dev(array.concat(others, [service({"enable": true})]))
	"svc: no deployment circuit breaker with rollback" in denied
}

test_no_cpu_scaling_denied if {
	others := [r | some r in good; r.type != "aws:appautoscaling/policy:Policy"]
	"no CPU autoscaling in ap-northeast-1" in operations.deny with input as dev(others)
}

test_password_policy_option_is_no_secret if {
	others := [r | some r in good; r.type != "aws:ecs/taskDefinition:TaskDefinition"]
	option := {"name": "KC_SPI_PASSWORD_POLICY__PASSWORD_BLACKLIST__FALSE_POSITIVE_PROBABILITY", "value": "1e-9"}
	tuned := {"name": "keycloak", "environment": [option], "secrets": [secret("KC_BOOTSTRAP_ADMIN_PASSWORD")]}
	denied := operations.deny with input as dev(array.concat(others, [task(tuned)]))
	not "task: KC_SPI_PASSWORD_POLICY__PASSWORD_BLACKLIST__FALSE_POSITIVE_PROBABILITY passed as plain environment" in denied
	leaky := {"name": "keycloak", "environment": [{"name": "KC_SPI_X_PASSWORD", "value": "x"}], "secrets": [secret("KC_BOOTSTRAP_ADMIN_PASSWORD")]}
	"task: KC_SPI_X_PASSWORD passed as plain environment" in operations.deny with input as dev(array.concat(others, [task(leaky)]))
}

test_plain_password_denied if {
	others := [r | some r in good; r.type != "aws:ecs/taskDefinition:TaskDefinition"]
	leaky := {"name": "keycloak", "environment": [{"name": "KC_DB_PASSWORD", "value": "x"}], "secrets": [secret("KC_BOOTSTRAP_ADMIN_PASSWORD")]}
	denied := operations.deny with input as dev(array.concat(others, [task(leaky)]))
	"task: KC_DB_PASSWORD passed as plain environment" in denied
	"task: passwords not taken from Secrets Manager" in denied
}

test_secret_from_another_region_denied if {
	others := [r | some r in good; r.type != "aws:ecs/taskDefinition:TaskDefinition"]
	remote := {"name": "keycloak", "secrets": [
		{"name": "KC_DB_PASSWORD", "valueFrom": "arn:aws:secretsmanager:ap-northeast-3:1:secret:x"},
		secret("KC_BOOTSTRAP_ADMIN_PASSWORD"),
	]}
	"task: reads secrets from another region" in operations.deny with input as dev(array.concat(others, [task(remote)]))
}

test_missing_sidecar_denied if {
	others := [r | some r in good; r.type != "aws:ecs/taskDefinition:TaskDefinition"]
	alone := {"type": "aws:ecs/taskDefinition:TaskDefinition", "name": "task", "custom": true, "region": "ap-northeast-1", "inputs": {"containerDefinitions": json.marshal([good_keycloak])}, "state": {}}
	"task: containers [\"keycloak\"], expected keycloak and opa" in operations.deny with input as dev(array.concat(others, [alone]))
}

health_check := {"type": "aws:route53/healthCheck:HealthCheck", "name": "hc-tokyo", "custom": true, "region": "ap-northeast-1", "inputs": {}, "state": {"id": "hc-1"}}

us_topic := object.union(topic, {"name": "us", "region": "us-east-1", "state": {"arn": "arn:us"}})

hc_alarm(region, actions) := {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": "hc", "custom": true, "region": region, "inputs": {"namespace": "AWS/Route53", "metricName": "HealthCheckStatus", "dimensions": {"HealthCheckId": "hc-1"}, "statistic": "Minimum", "comparisonOperator": "LessThanThreshold", "threshold": 1, "alarmActions": actions}, "state": {}}

missing := "hc-tokyo: no us-east-1 HealthCheckStatus alarm notifying a us-east-1 topic"

test_health_check_alarmed_in_us_east_1_passes if {
	count(operations.deny) == 0 with input as dev(array.concat(good, [health_check, us_topic, hc_alarm("us-east-1", ["arn:us"])]))
}

test_health_check_without_alarm_denied if {
	missing in operations.deny with input as dev(array.concat(good, [health_check, us_topic]))
}

test_health_check_alarm_outside_us_east_1_denied if {
	# Route 53 publishes no metrics in Tokyo: such an alarm would never fire.
	missing in operations.deny with input as dev(array.concat(good, [health_check, hc_alarm("ap-northeast-1", ["arn:t"])]))
}

test_health_check_alarm_to_a_tokyo_topic_denied if {
	# An alarm notifies only topics of its own region.
	missing in operations.deny with input as dev(array.concat(good, [health_check, us_topic, hc_alarm("us-east-1", ["arn:t"])]))
}

osaka_check := object.union(health_check, {"name": "hc-osaka", "state": {"id": "hc-2"}})

secondary_record := {"type": "aws:route53/record:Record", "name": "rec-osaka", "custom": true, "region": "ap-northeast-1", "inputs": {"healthCheckId": "hc-2", "failoverRoutingPolicies": [{"type": "SECONDARY"}]}, "state": {}}

hc_query(id, check) := {"id": id, "metric": {"namespace": "AWS/Route53", "metricName": "HealthCheckStatus", "dimensions": {"HealthCheckId": check}, "stat": "Minimum"}, "returnData": false}

none_healthy(expression) := {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": "none", "custom": true, "region": "us-east-1", "inputs": {"metricQueries": [hc_query("hc0", "hc-1"), hc_query("hc1", "hc-2"), {"id": "any", "expression": expression, "returnData": true}], "comparisonOperator": "LessThanThreshold", "threshold": 1, "alarmActions": ["arn:us"]}, "state": {}}

two_sites := array.concat(good, [health_check, osaka_check, secondary_record, us_topic, hc_alarm("us-east-1", ["arn:us"])])

standby_missing := "hc-osaka: standby health check not covered by a us-east-1 alarm on MAX over all checks < 1"

test_standby_covered_by_none_healthy_passes if {
	count(operations.deny) == 0 with input as dev(array.concat(two_sites, [none_healthy("MAX([hc0, hc1])")]))
}

test_standby_without_none_healthy_denied if {
	standby_missing in operations.deny with input as dev(two_sites)
}

test_none_healthy_must_take_every_check_denied if {
	standby_missing in operations.deny with input as dev(array.concat(two_sites, [none_healthy("MAX([hc1])")]))
}

test_none_healthy_must_be_max_denied if {
	standby_missing in operations.deny with input as dev(array.concat(two_sites, [none_healthy("MIN([hc0, hc1])")]))
}

test_standby_own_alarm_denied if {
	own := object.union(hc_alarm("us-east-1", ["arn:us"]), {"name": "hc-osaka-alarm", "inputs": {"dimensions": {"HealthCheckId": "hc-2"}}})
	denied := operations.deny with input as dev(array.concat(two_sites, [none_healthy("MAX([hc0, hc1])"), own]))
	"hc-osaka-alarm: alarms on the standby's own health check, which fails while it stands by (always in alarm)" in denied
}

test_ungated_alb_5xx_denied if {
	plain := [r | some r in good; r.name != "alb-5xx"]
	denied := operations.deny with input as dev(array.concat(plain, [alarm("HTTPCode_ELB_5XX_Count", ["arn:t"])]))
	"HTTPCode_ELB_5XX_Count: alarms on the ALB's own 5xx even with no task running (an idle standby's Route 53 checks keep it in alarm)" in denied
}

test_alb_5xx_gated_the_wrong_way_denied if {
	some expression in ["elb5xx", "IF(healthy > 0, 0, elb5xx)", "IF(elb5xx > 0, healthy, 0)"]
	others := [r | some r in good; r.name != "alb-5xx"]
	denied := operations.deny with input as dev(array.concat(others, [gated_5xx(expression)]))
	"alb-5xx: ALB 5xx alarm not gated on HealthyHostCount (IF(healthy > 0, ...))" in denied
}

stream := {"type": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "name": "s", "custom": true, "region": "ap-northeast-1", "inputs": {}, "state": {"name": "s-1"}}

freshness(name) := {"type": "aws:cloudwatch/metricAlarm:MetricAlarm", "name": "fresh", "custom": true, "region": "ap-northeast-1", "inputs": {"namespace": "AWS/Firehose", "metricName": "DeliveryToS3.DataFreshness", "dimensions": {"DeliveryStreamName": name}, "alarmActions": ["arn:t"]}, "state": {}}

test_stream_needs_a_freshness_alarm if {
	count(operations.deny) == 0 with input as dev(array.concat(good, [stream, freshness("s-1")]))
	"s: no DeliveryToS3.DataFreshness alarm (failed deliveries are dropped after 24 h)" in operations.deny with input as dev(array.concat(good, [stream, freshness("other")]))
}
