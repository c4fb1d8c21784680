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

# A bucket S3 Replication copies out of is a landing bucket; every other bucket is an archive and locked.
replications := lib.resources_of("aws:s3/bucketReplicationConfig:BucketReplicationConfig")

landing_ids := {r.inputs.bucket | some r in replications}

deny contains sprintf("%s: no compliance-mode Object Lock", [b.name]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	not b.state.id in landing_ids
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

streams := lib.resources_of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")

# Where a stream's objects end up: its bucket, and the locked bucket its landing bucket replicates to.
arrives(s) := {s.inputs.extendedS3Configuration.bucketArn} | {dest |
	some landing in lib.resources_of("aws:s3/bucket:Bucket")
	landing.state.arn == s.inputs.extendedS3Configuration.bucketArn
	some r in replications
	r.inputs.bucket == landing.state.id
	some rule in r.inputs.rules
	rule.status == "Enabled"
	dest := rule.destination.bucket
}

shipped(b) := {split(s.inputs.extendedS3Configuration.prefix, "/")[0] |
	some s in streams
	b.state.arn in arrives(s)
}

deny contains sprintf("%s: %s not shipped to the archive", [b.name, source]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	not b.state.id in landing_ids
	some source in ["keycloak-events", "opa-decisions"]
	not source in shipped(b)
}

# S3 refuses a PutObject into a bucket with default Object Lock retention unless it carries Content-MD5 or an
# x-amz-checksum header (S3 API Reference, PutObject); Firehose sends neither. It writes to a landing bucket.
deny contains sprintf("%s: Firehose writes straight into the Object Lock bucket %s: S3 refuses its PutObject (no Content-MD5 / x-amz-checksum)", [s.name, b.name]) if {
	some s in streams
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	b.state.arn == s.inputs.extendedS3Configuration.bucketArn
	b.inputs.objectLockEnabled == true
}

deny contains sprintf("%s: replicates to %v, which is not a compliance-locked bucket of the same region", [r.name, rule.destination.bucket]) if {
	some r in replications
	some rule in r.inputs.rules
	not _locked_destination(r, rule.destination.bucket)
}

_locked_destination(r, arn) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	b.state.arn == arn
	b.region == r.region
	locked(b)
}

deny contains sprintf("%s: replication rule %v must replicate (status Enabled), never delete markers, and publish metrics", [r.name, rule.id]) if {
	some r in replications
	some rule in r.inputs.rules
	not _sound_rule(rule)
}

_sound_rule(rule) if {
	rule.status == "Enabled"
	rule.deleteMarkerReplication.status == "Disabled"
	rule.destination.metrics.status == "Enabled"
}

deny contains sprintf("%s: landing bucket without an expiry (objects would stay unlocked forever)", [b.name]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	b.state.id in landing_ids
	not _expires(b)
}

_expires(b) if {
	some l in lib.resources_of("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")
	l.inputs.bucket == b.state.id
	some rule in l.inputs.rules
	rule.status == "Enabled"
	rule.expiration.days > 0
}

# CloudWatch Logs hands records to Firehose gzipped already (Firehose developer guide, "Writing to Amazon Data
# Firehose using CloudWatch Logs"); GZIP on the stream would compress them a second time.
deny contains sprintf("%s: gzips CloudWatch Logs records a second time (they arrive gzipped)", [s.name]) if {
	some s in streams
	some f in lib.resources_of("aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter")
	f.inputs.destinationArn == s.state.arn
	object.get(s.inputs.extendedS3Configuration, "compressionFormat", "UNCOMPRESSED") != "UNCOMPRESSED"
	not _decompressed(s)
}

_decompressed(s) if {
	some p in s.inputs.extendedS3Configuration.processingConfiguration.processors
	p.type == "Decompression"
}

# The operators read the archive back (`bizid audit trace|report monthly --target`, realm/archive_s3.py): the
# operator policy must let them list and get each archive bucket's Keycloak and OPA prefixes, and list a bucket
# only under a prefix (never the whole archive).
ARCHIVE_SOURCES := ["keycloak-events", "opa-decisions"]

operator_policies := [p |
	some p in lib.resources_of("aws:iam/policy:Policy")
	startswith(object.get(p.inputs, "name", ""), "bizid-")
	endswith(object.get(p.inputs, "name", ""), "-operator")
]

_document(p) := json.unmarshal(p.inputs.policy) if is_string(p.inputs.policy)

_document(p) := p.inputs.policy if not is_string(p.inputs.policy)

_as_array(x) := x if is_array(x)

_as_array(x) := [x] if not is_array(x)

operator_statements(p) := [st |
	some st in _as_array(_document(p).Statement)
	st.Effect == "Allow"
]

archives := [b |
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	not b.state.id in landing_ids
]

_reads(p, b, source) if {
	some st in operator_statements(p)
	"s3:GetObject" in _as_array(st.Action)
	concat("", [b.state.arn, "/", source, "/*"]) in _as_array(st.Resource)
}

_lists(p, b, source) if {
	some st in operator_statements(p)
	"s3:ListBucket" in _as_array(st.Action)
	b.state.arn in _as_array(st.Resource)
	concat("", [source, "/*"]) in st.Condition.StringLike["s3:prefix"]
}

deny contains sprintf("%s: the operators cannot read %s/ of %s (audit trace / report monthly --target)", [p.name, source, b.name]) if {
	some p in operator_policies
	some b in archives
	some source in ARCHIVE_SOURCES
	not _reads(p, b, source)
}

deny contains sprintf("%s: the operators cannot list %s/ of %s (audit trace / report monthly --target)", [p.name, source, b.name]) if {
	some p in operator_policies
	some b in archives
	some source in ARCHIVE_SOURCES
	not _lists(p, b, source)
}

deny contains sprintf("%s: s3:ListBucket without an s3:prefix condition: the operators would list the whole bucket", [p.name]) if {
	some p in operator_policies
	some st in operator_statements(p)
	"s3:ListBucket" in _as_array(st.Action)
	not st.Condition.StringLike["s3:prefix"]
}
