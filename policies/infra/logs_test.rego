package infra.logs_test

import data.infra.logs

key := {"type": "aws:kms/key:Key", "name": "k", "custom": true, "region": "ap-northeast-1", "inputs": {}, "state": {"arn": "arn:key"}}

aurora := {"type": "aws:rds/cluster:Cluster", "name": "db", "custom": true, "region": "ap-northeast-1", "inputs": {"enabledCloudwatchLogsExports": ["postgresql"]}, "state": {"clusterIdentifier": "bizid-prod-tokyo-db"}}

ecs := {"type": "aws:ecs/cluster:Cluster", "name": "ecs", "custom": true, "region": "ap-northeast-1", "inputs": {"settings": [{"name": "containerInsights", "value": "enhanced"}]}, "state": {"name": "kc-1234567"}}

group(name, extra) := {"type": "aws:cloudwatch/logGroup:LogGroup", "name": name, "custom": true, "region": "ap-northeast-1", "inputs": object.union({"name": name, "kmsKeyId": "arn:key", "retentionInDays": 365}, extra), "state": {}}

pg := "/aws/rds/cluster/bizid-prod-tokyo-db/postgresql"

insights := "/aws/ecs/containerinsights/kc-1234567/performance"

test_owned_log_groups_pass if {
	count(logs.deny) == 0 with input as {"resources": [key, aurora, ecs, group(pg, {}), group(insights, {})]}
}

test_missing_aurora_log_group_denied if {
	denied := logs.deny with input as {"resources": [key, aurora, ecs, group(insights, {})]}
	"db: RDS would create /aws/rds/cluster/bizid-prod-tokyo-db/postgresql itself (unencrypted, no retention)" in denied
}

test_missing_insights_log_group_denied if {
	denied := logs.deny with input as {"resources": [key, aurora, ecs, group(pg, {})]}
	"ecs: ECS would create /aws/ecs/containerinsights/kc-1234567/performance itself (unencrypted, no retention)" in denied
}

test_unencrypted_owned_group_does_not_count if {
	count(logs.deny) == 1 with input as {"resources": [key, aurora, ecs, group(pg, {"kmsKeyId": "arn:aws-managed"}), group(insights, {})]}
}

test_log_group_without_retention_denied if {
	"x: log group kept forever (no retentionInDays)" in logs.deny with input as {"resources": [group("x", {"retentionInDays": 0})]}
}
