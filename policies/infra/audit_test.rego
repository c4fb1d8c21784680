package infra.audit_test

import data.infra.audit

bucket(lock_enabled) := {"type": "aws:s3/bucket:Bucket", "name": "audit", "region": "ap-northeast-1", "inputs": {"objectLockEnabled": lock_enabled}, "state": {"id": "b1", "arn": "arn:b1"}}

lock(mode) := {"type": "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration", "name": "lock", "region": "ap-northeast-1", "inputs": {"bucket": "b1", "rule": {"defaultRetention": {"mode": mode, "days": 3653}}}, "state": {}}

versioning := {"type": "aws:s3/bucketVersioning:BucketVersioning", "name": "v", "region": "ap-northeast-1", "inputs": {"bucket": "b1", "versioningConfiguration": {"status": "Enabled"}}, "state": {}}

stream_to(arn, prefix) := {"type": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "name": prefix, "region": "ap-northeast-1", "inputs": {"extendedS3Configuration": {"bucketArn": arn, "prefix": concat("/", [prefix, "x/"])}}, "state": {"arn": concat(":", ["arn:stream", prefix])}}

stream(prefix) := stream_to("arn:landing", prefix)

landing := {"type": "aws:s3/bucket:Bucket", "name": "landing", "region": "ap-northeast-1", "inputs": {}, "state": {"id": "l1", "arn": "arn:landing"}}

landing_versioning := object.union(versioning, {"name": "lv", "inputs": {"bucket": "l1"}})

expiry := {"type": "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "name": "e", "region": "ap-northeast-1", "inputs": {"bucket": "l1", "rules": [{"status": "Enabled", "expiration": {"days": 14}}]}, "state": {}}

rule(delete_markers) := {"id": "to-archive", "status": "Enabled", "deleteMarkerReplication": {"status": delete_markers}, "destination": {"bucket": "arn:b1", "metrics": {"status": "Enabled"}}}

replication(delete_markers) := {"type": "aws:s3/bucketReplicationConfig:BucketReplicationConfig", "name": "r", "region": "ap-northeast-1", "inputs": {"bucket": "l1", "rules": [rule(delete_markers)]}, "state": {}}

pipes := [landing, landing_versioning, expiry, replication("Disabled")]

complete := array.concat([bucket(true), lock("COMPLIANCE"), versioning, stream("keycloak-events"), stream("opa-decisions")], pipes)

test_locked_archive_passes if {
	count(audit.deny) == 0 with input as {"environment": "dev", "resources": complete}
}

test_governance_mode_denied if {
	resources := array.concat([bucket(true), lock("GOVERNANCE"), versioning, stream("keycloak-events"), stream("opa-decisions")], pipes)
	"audit: no compliance-mode Object Lock" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_lock_disabled_denied if {
	resources := array.concat([bucket(false), versioning, stream("keycloak-events"), stream("opa-decisions")], pipes)
	"audit: no compliance-mode Object Lock" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_missing_source_denied if {
	resources := array.concat([bucket(true), lock("COMPLIANCE"), versioning, stream("keycloak-events")], pipes)
	"audit: opa-decisions not shipped to the archive" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_standby_region_needs_its_archive if {
	"no audit bucket in ap-northeast-3" in audit.deny with input as {"environment": "prod", "resources": complete}
}

test_firehose_straight_into_the_lock_denied if {
	direct := array.concat([bucket(true), lock("COMPLIANCE"), versioning, stream_to("arn:b1", "keycloak-events"), stream("opa-decisions")], pipes)
	"keycloak-events: Firehose writes straight into the Object Lock bucket audit: S3 refuses its PutObject (no Content-MD5 / x-amz-checksum)" in audit.deny with input as {"environment": "dev", "resources": direct}
}

test_delete_marker_replication_denied if {
	resources := array.concat([bucket(true), lock("COMPLIANCE"), versioning, stream("keycloak-events"), stream("opa-decisions")], [landing, landing_versioning, expiry, replication("Enabled")])
	"r: replication rule to-archive must replicate (status Enabled), never delete markers, and publish metrics" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_landing_without_expiry_denied if {
	resources := [r | some r in complete; r.name != "e"]
	"landing: landing bucket without an expiry (objects would stay unlocked forever)" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_double_gzip_denied if {
	gzip := json.patch(stream("opa-decisions"), [{"op": "add", "path": "/inputs/extendedS3Configuration/compressionFormat", "value": "GZIP"}])
	filter := {"type": "aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter", "name": "f", "region": "ap-northeast-1", "inputs": {"destinationArn": "arn:stream:opa-decisions"}, "state": {}}
	resources := array.concat([r | some r in complete; r.name != "opa-decisions"], [gzip, filter])
	"opa-decisions: gzips CloudWatch Logs records a second time (they arrive gzipped)" in audit.deny with input as {"environment": "dev", "resources": resources}
}

operator_policy(statements) := {"type": "aws:iam/policy:Policy", "name": "operator", "region": "ap-northeast-1", "inputs": {"name": "bizid-dev-operator", "policy": json.marshal({"Version": "2012-10-17", "Statement": statements})}, "state": {}}

archive_list := {"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": ["arn:b1"], "Condition": {"StringLike": {"s3:prefix": ["keycloak-events/", "opa-decisions/", "keycloak-events/*", "opa-decisions/*"]}}}

archive_read := {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:b1/keycloak-events/*", "arn:b1/opa-decisions/*"]}

with_operator(statements) := array.concat(complete, [operator_policy(statements)])

test_operator_reading_the_archive_passes if {
	count(audit.deny) == 0 with input as {"environment": "dev", "resources": with_operator([archive_list, archive_read])}
}

test_operator_without_the_read_grant_denied if {
	resources := with_operator([archive_list, object.union(archive_read, {"Resource": ["arn:b1/keycloak-events/*"]})])
	"operator: the operators cannot read opa-decisions/ of audit (audit trace / report monthly --target)" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_operator_without_the_list_grant_denied if {
	resources := with_operator([archive_read])
	"operator: the operators cannot list keycloak-events/ of audit (audit trace / report monthly --target)" in audit.deny with input as {"environment": "dev", "resources": resources}
}

test_operator_listing_the_whole_bucket_denied if {
	resources := with_operator([archive_list, archive_read, {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:b1"}])
	"operator: s3:ListBucket without an s3:prefix condition: the operators would list the whole bucket" in audit.deny with input as {"environment": "dev", "resources": resources}
}
