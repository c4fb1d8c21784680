# Every data store is encrypted with the stack's own customer-managed key of its region.

# METADATA
# title: Encryption at rest
# description: "Every data store is encrypted with the stack's own KMS key of its region."
package infra.encryption

import data.infra.lib

deny contains sprintf("%s: Aurora storage not encrypted", [c.name]) if {
	some c in array.concat(lib.resources_of("aws:rds/cluster:Cluster"), lib.resources_of("aws:rds/globalCluster:GlobalCluster"))
	not c.inputs.storageEncrypted == true
}

deny contains sprintf("%s: Aurora storage not on the stack key of %s", [c.name, c.region]) if {
	some c in lib.resources_of("aws:rds/cluster:Cluster")
	not object.get(c.inputs, "kmsKeyId", "") in lib.key_arns(c.region)
}

deny contains sprintf("%s: bucket without default encryption on the stack key", [b.name]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	not bucket_encrypted(b)
}

bucket_encrypted(b) if {
	some c in lib.resources_of("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
	c.inputs.bucket == b.state.id
	some rule in c.inputs.rules
	rule.applyServerSideEncryptionByDefault.sseAlgorithm == "aws:kms"
	rule.applyServerSideEncryptionByDefault.kmsMasterKeyId in lib.key_arns(b.region)
}

deny contains sprintf("%s: %s not encrypted with the stack key", [r.name, r.type]) if {
	some t in ["aws:cloudwatch/logGroup:LogGroup", "aws:secretsmanager/secret:Secret"]
	some r in lib.resources_of(t)
	not object.get(r.inputs, "kmsKeyId", "") in lib.key_arns(r.region)
}

deny contains sprintf("%s: secret replica in %s not on the stack key", [s.name, replica.region]) if {
	some s in lib.resources_of("aws:secretsmanager/secret:Secret")
	some replica in s.inputs.replicas
	not object.get(replica, "kmsKeyId", "") in lib.key_arns(replica.region)
}

deny contains sprintf("%s: SNS topic not encrypted with the stack key", [t.name]) if {
	some t in lib.resources_of("aws:sns/topic:Topic")
	not object.get(t.inputs, "kmsMasterKeyId", "") in lib.key_ids(t.region)
}

deny contains sprintf("%s: delivery stream not encrypted with the stack key", [s.name]) if {
	some s in lib.resources_of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
	not object.get(s.inputs, ["serverSideEncryption", "keyArn"], "") in lib.key_arns(s.region)
}

deny contains sprintf("%s: key must be multi-region with rotation", [k.name]) if {
	some k in lib.resources_of("aws:kms/key:Key")
	not k.inputs.multiRegion == true
}

deny contains sprintf("%s: key must be multi-region with rotation", [k.name]) if {
	some k in lib.resources_of("aws:kms/key:Key")
	not k.inputs.enableKeyRotation == true
}

deny contains sprintf("%s: performance insights not encrypted with the stack key", [i.name]) if {
	some i in lib.resources_of("aws:rds/clusterInstance:ClusterInstance")
	not object.get(i.inputs, "performanceInsightsKmsKeyId", "") in lib.key_arns(i.region)
}

deny contains sprintf("%s: delivery stream encryption not enabled", [s.name]) if {
	some s in lib.resources_of("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
	not s.inputs.serverSideEncryption.enabled == true
}

deny contains sprintf("%s: images not encrypted with the stack key", [r.name]) if {
	some r in lib.resources_of("aws:ecr/repository:Repository")
	not _ecr_key(r) in lib.key_arns(r.region)
}

# A missing field is "" (never a stack key), so an absent key is reported rather than skipped.
_ecr_key(r) := r.inputs.encryptionConfigurations[0].kmsKey

_ecr_key(r) := "" if not r.inputs.encryptionConfigurations[0].kmsKey
