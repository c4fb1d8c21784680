package infra.encryption_test

import data.infra.encryption

key_tokyo := {"type": "aws:kms/key:Key", "name": "k", "region": "ap-northeast-1", "inputs": {"multiRegion": true, "enableKeyRotation": true}, "state": {"arn": "arn:key:tokyo", "keyId": "mrk-1"}}

cluster(encrypted, key) := {"type": "aws:rds/cluster:Cluster", "name": "db", "region": "ap-northeast-1", "inputs": {"storageEncrypted": encrypted, "kmsKeyId": key}, "state": {}}

test_cluster_on_stack_key_passes if {
	count(encryption.deny) == 0 with input as {"resources": [key_tokyo, cluster(true, "arn:key:tokyo")]}
}

test_unencrypted_cluster_denied if {
	"db: Aurora storage not encrypted" in encryption.deny with input as {"resources": [key_tokyo, cluster(false, "arn:key:tokyo")]}
}

test_cluster_on_foreign_key_denied if {
	"db: Aurora storage not on the stack key of ap-northeast-1" in encryption.deny with input as {"resources": [key_tokyo, cluster(true, "arn:aws-managed")]}
}

test_bucket_without_kms_denied if {
	bucket := {"type": "aws:s3/bucket:Bucket", "name": "audit", "region": "ap-northeast-1", "inputs": {}, "state": {"id": "b1"}}
	sse := {"type": "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration", "name": "sse", "region": "ap-northeast-1", "inputs": {"bucket": "b1", "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]}, "state": {}}
	"audit: bucket without default encryption on the stack key" in encryption.deny with input as {"resources": [key_tokyo, bucket, sse]}
}

test_secret_replica_must_use_replica_key if {
	secret := {"type": "aws:secretsmanager/secret:Secret", "name": "s", "region": "ap-northeast-1", "inputs": {"kmsKeyId": "arn:key:tokyo", "replicas": [{"region": "ap-northeast-3", "kmsKeyId": "arn:other"}]}, "state": {}}
	"s: secret replica in ap-northeast-3 not on the stack key" in encryption.deny with input as {"resources": [key_tokyo, secret]}
}

test_performance_insights_on_stack_key if {
	instance := {"type": "aws:rds/clusterInstance:ClusterInstance", "name": "i", "region": "ap-northeast-1", "inputs": {"performanceInsightsKmsKeyId": "arn:aws-managed"}, "state": {}}
	"i: performance insights not encrypted with the stack key" in encryption.deny with input as {"resources": [key_tokyo, instance]}
}

test_delivery_stream_encryption_enabled if {
	stream := {"type": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "name": "f", "region": "ap-northeast-1", "inputs": {"serverSideEncryption": {"enabled": false, "keyArn": "arn:key:tokyo"}}, "state": {}}
	denied := encryption.deny with input as {"resources": [key_tokyo, stream]}
	denied == {"f: delivery stream encryption not enabled"}
}

test_images_on_stack_key if {
	repo := {"type": "aws:ecr/repository:Repository", "name": "r", "region": "ap-northeast-1", "inputs": {"encryptionConfigurations": [{"encryptionType": "AES256"}]}, "state": {}}
	"r: images not encrypted with the stack key" in encryption.deny with input as {"resources": [key_tokyo, repo]}
}

test_cluster_without_key_denied if {
	bare := {"type": "aws:rds/cluster:Cluster", "name": "db", "region": "ap-northeast-1", "inputs": {"storageEncrypted": true}, "state": {}}
	"db: Aurora storage not on the stack key of ap-northeast-1" in encryption.deny with input as {"resources": [key_tokyo, bare]}
}

test_stream_without_encryption_block_denied if {
	stream := {"type": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream", "name": "f", "region": "ap-northeast-1", "inputs": {}, "state": {}}
	"f: delivery stream not encrypted with the stack key" in encryption.deny with input as {"resources": [key_tokyo, stream]}
}
