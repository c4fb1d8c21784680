package infra.audit_test

import data.infra.audit

bucket(lock_enabled) := {"type": "aws:s3/bucket:Bucket", "name": "audit", "region": "ap-northeast-1", "inputs": {"objectLockEnabled": lock_enabled}, "state": {"id": "b1", "arn": "arn:b1"}}

lock(mode) := {"type": "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "name": "lock", "region": "ap-northeast-1", "inputs": {"bucket": "b1", "rule": {"defaultRetention": {"mode": mode, "days": 3653}}}, "state": {}}

versioning := {"type": "aws:s3/bucketVersioning:BucketVersioning", "name": "v", "region": "ap-northeast-1", "inputs": {"bucket": "b1", "versioningConfiguration": {"status": "Enabled"}}, "state": {}}

stream(prefix) := {"type": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "name": prefix, "region": "ap-northeast-1", "inputs": {"extendedS3Configuration": {"bucketArn": "arn:b1", "prefix": concat("/", [prefix, "x/"])}}, "state": {}}

complete := [bucket(true), lock("COMPLIANCE"), versioning, stream("keycloak-events"), stream("opa-decisions")]

test_locked_archive_passes if {
	count(audit.deny) == 0 with input as {"environment": "dev", "resources": complete}
}

test_governance_mode_denied if {
	resources := [bucket(true), lock("GOVERNANCE"), versioning, stream("keycloak-events"), stream("opa-decisions")]
	"audit: no compliance-mode Object Lock" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_lock_disabled_denied if {
	resources := [bucket(false), versioning, stream("keycloak-events"), stream("opa-decisions")]
	"audit: no compliance-mode Object Lock" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_missing_source_denied if {
	resources := [bucket(true), lock("COMPLIANCE"), versioning, stream("keycloak-events")]
	"audit: opa-decisions not shipped to the archive" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_standby_region_needs_its_archive if {
	"no audit bucket in ap-northeast-3" in audit.deny with input as {"environment": "prod", "resources": complete}
}
