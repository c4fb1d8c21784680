package infra.naming_test

import data.infra.naming

res(t, name, inputs) := {"type": t, "name": name, "custom": true, "region": "ap-northeast-1", "inputs": inputs, "state": {}}

alb := "aws:lb/loadBalancer:LoadBalancer"

test_short_auto_named_alb_passes if {
	count(naming.deny) == 0 with input as {"resources": [res(alb, "bizid-staging-osaka-alb", {})]}
}

test_auto_name_counts_the_engine_suffix if {
	# 25 characters + "-" + 7 hex = 33 > 32: the defect every stack's first preview hit.
	some msg in naming.deny with input as {"resources": [res(alb, "bizid-staging-osaka-kc-alb", {})]}
	contains(msg, "AWS allows 32")
}

test_explicit_name_is_checked_not_the_logical_one if {
	count(naming.deny) == 0 with input as {"resources": [res(alb, "a-very-long-logical-name-for-the-alb", {"name": "short"})]}
	some msg in naming.deny with input as {"resources": [res(alb, "alb", {"name": "-bad-"})]}
	contains(msg, "characters AWS does not allow")
}

test_name_prefix_limit if {
	count(naming.deny) == 0 with input as {"resources": [res("aws:lb/targetGroup:TargetGroup", "tg", {"namePrefix": "kc-"})]}
	some msg in naming.deny with input as {"resources": [res("aws:lb/targetGroup:TargetGroup", "tg", {"namePrefix": "keycloak"})]}
	contains(msg, "namePrefix")
}

test_bucket_rules if {
	count(naming.deny) == 0 with input as {"resources": [res("aws:s3/bucket:Bucket", "b", {"bucketPrefix": "bizid-prod-audit-"})]}
	count(naming.deny) == 1 with input as {"resources": [res("aws:s3/bucket:Bucket", "b", {"bucket": "Bizid_Audit"})]}
	count(naming.deny) == 1 with input as {"resources": [res("aws:s3/bucket:Bucket", "b", {"bucketPrefix": "bizid-production-audit-archive-prefix-"})]}
}

test_rds_identifier_starts_with_a_letter if {
	count(naming.deny) == 0 with input as {"resources": [res("aws:rds/cluster:Cluster", "c", {"clusterIdentifier": "bizid-prod-tokyo-db"})]}
	count(naming.deny) == 1 with input as {"resources": [res("aws:rds/cluster:Cluster", "c", {"clusterIdentifier": "1bizid--db"})]}
}

test_kms_alias_needs_explicit_alias_prefix if {
	count(naming.deny) == 1 with input as {"resources": [res("aws:kms/alias:Alias", "a", {"name": "bizid-prod"})]}
	count(naming.deny) == 1 with input as {"resources": [res("aws:kms/alias:Alias", "a", {})]}
}

test_iam_role_limit_is_64 if {
	long := concat("", ["r" | some _ in numbers.range(1, 57)])
	count(naming.deny) == 1 with input as {"resources": [res("aws:iam/role:Role", long, {})]}
	count(naming.deny) == 0 with input as {"resources": [res("aws:iam/role:Role", substring(long, 0, 56), {})]}
}

test_unclassified_type_is_reported if {
	some msg in naming.deny with input as {"resources": [res("aws:ec2/launchTemplate:LaunchTemplate", "lt", {})]}
	contains(msg, "no AWS name rule")
	count(naming.deny) == 0 with input as {"resources": [res("aws:route53/healthCheck:HealthCheck", "hc", {})]}
}
