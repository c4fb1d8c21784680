# Each region's audit archive: Object Lock in compliance mode, versioning, public access blocked, both sources shipped.

# METADATA
# title: Audit archive
# description: "Each region's archive: compliance-mode Object Lock, versioning, both sources shipped."
package infra.audit

import data.infra.lib

buckets(region) := [b | some b in lib.resources_of("aws:s3/bucket:Bucket"); b.region == region]

deny contains sprintf("no audit bucket in %s", [region]) if {
	some region in lib.expected_regions
	count(buckets(region)) == 0
}

deny contains sprintf("%s: no compliance-mode Object Lock", [b.name]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	not locked(b)
}

locked(b) if {
	b.inputs.objectLockEnabled == true
	some c in lib.resources_of("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
	c.inputs.bucket == b.state.id
	c.inputs.rule.defaultRetention.mode == "COMPLIANCE"
	c.inputs.rule.defaultRetention.days > 0
}

deny contains sprintf("%s: versioning not enabled", [b.name]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	not versioned(b)
}

versioned(b) if {
	some v in lib.resources_of("aws:s3/bucketVersioning:BucketVersioning")
	v.inputs.bucket == b.state.id
	v.inputs.versioningConfiguration.status == "Enabled"
}

shipped(b) := {split(s.inputs.extendedS3Configuration.prefix, "/")[0] |
	some s in lib.resources_of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
	s.inputs.extendedS3Configuration.bucketArn == b.state.arn
}

deny contains sprintf("%s: %s not shipped to the archive", [b.name, source]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	some source in ["keycloak-events", "opa-decisions"]
	not source in shipped(b)
}
