"""The audit trail: Keycloak events and OPA decision logs archived to S3 under Object Lock (compliance mode).

Both containers log JSON to CloudWatch Logs; subscription filters select the audit records (Keycloak's event
logger, OPA's decision log). CloudWatch Logs hands them to Firehose already gzipped, so Firehose stores them
as they come (`UNCOMPRESSED`, `.gz` objects: compressing again would gzip them twice).

Firehose cannot write into a bucket with default Object Lock retention: S3 refuses such a PutObject without a
Content-MD5 or x-amz-checksum header, and Firehose sends none. So Firehose writes to a landing bucket
(versioned, encrypted, objects expire after LANDING_DAYS), and S3 Replication copies each to the archive,
whose default retention in compliance mode then applies: nobody, not even the account root, can delete or
overwrite an archived object before its retention ends. Failed deliveries and failed replications alarm
(`Alarms`). Each region has its own archive so auditing continues in Osaka when Tokyo is lost."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import account_id, assume_role_policy, child, policy_document
from realm.archive_s3 import KEYCLOAK_EVENTS, OPA_DECISIONS

# CloudWatch Logs filter patterns for the JSON lines of each source.
KEYCLOAK_EVENTS_PATTERN = '{ $.loggerName = "org.keycloak.events" }'
OPA_DECISIONS_PATTERN = '{ $.msg = "Decision Log" }'
# Days an object stays in the landing bucket: replication takes minutes; the rest is time to fix a failed one.
LANDING_DAYS = 14
REPLICATION_RULE = "to-archive"
SOURCES = (KEYCLOAK_EVENTS, OPA_DECISIONS)  # the prefixes `bizid audit trace --target` reads back


@dataclass(frozen=True)
class AuditArchiveArgs:
    environment: str
    region: str
    kms_key_arn: pulumi.Input[str]
    object_lock_days: int
    log_retention_days: int
    force_destroy: bool


class AuditArchive(pulumi.ComponentResource):
    """Log groups of the Keycloak task, the landing and the locked archive bucket, and the pipes between."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    landing_bucket_name: pulumi.Output[str]
    keycloak_log_group: pulumi.Output[str]
    opa_log_group: pulumi.Output[str]
    stream_names: list[pulumi.Output[str]]

    def __init__(self, name: str, args: AuditArchiveArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:AuditArchive", name, None, opts)
        account = account_id(self)
        bucket, bucket_versioning = self._bucket(f"{name}", f"bizid-{args.environment}-audit-", args)
        aws.s3.BucketObjectLockConfiguration(
            f"{name}-object-lock",
            bucket=bucket.id,
            object_lock_enabled="Enabled",
            rule={"default_retention": {"mode": "COMPLIANCE", "days": args.object_lock_days}},
            opts=child(self, depends_on=[bucket_versioning]),
        )
        landing, landing_versioning = self._bucket(
            f"{name}-landing", f"bizid-{args.environment}-audit-landing-", args
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-landing-expiry",
            bucket=landing.id,
            rules=[
                {
                    "id": "expire-after-replication",
                    "status": "Enabled",
                    "filter": {},
                    "expiration": {"days": LANDING_DAYS},
                    "noncurrent_version_expiration": {"noncurrent_days": 1},
                    "abort_incomplete_multipart_upload": {"days_after_initiation": 1},
                }
            ],
            opts=child(self, depends_on=[landing_versioning]),
        )

        replication_role = aws.iam.Role(
            f"{name}-replication-role",
            assume_role_policy=assume_role_policy(
                "s3.amazonaws.com", account=account, source_arn=landing.arn
            ),
            opts=child(self),
        )
        replication_policy = aws.iam.RolePolicy(
            f"{name}-replication-policy",
            role=replication_role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                        "Resource": landing.arn,
                    },
                    {
                        # Retention and legal hold: S3 Replication reads them for a locked destination.
                        "Effect": "Allow",
                        "Action": [
                            "s3:GetObjectVersionForReplication",
                            "s3:GetObjectVersionAcl",
                            "s3:GetObjectVersionTagging",
                            "s3:GetObjectRetention",
                            "s3:GetObjectLegalHold",
                        ],
                        "Resource": pulumi.Output.concat(landing.arn, "/*"),
                    },
                    {
                        # No s3:ReplicateDelete: the landing bucket's expiry never reaches the archive.
                        "Effect": "Allow",
                        "Action": ["s3:ReplicateObject", "s3:ReplicateTags"],
                        "Resource": pulumi.Output.concat(bucket.arn, "/*"),
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"],
                        "Resource": args.kms_key_arn,
                    },
                ]
            ),
            opts=child(self),
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-replication",
            role=replication_role.arn,
            bucket=landing.id,
            rules=[
                {
                    "id": REPLICATION_RULE,
                    "status": "Enabled",
                    "priority": 1,
                    "filter": {},
                    "delete_marker_replication": {"status": "Disabled"},
                    "source_selection_criteria": {"sse_kms_encrypted_objects": {"status": "Enabled"}},
                    "destination": {
                        "bucket": bucket.arn,
                        "encryption_configuration": {"replica_kms_key_id": args.kms_key_arn},
                        # OperationsFailedReplication, alarmed in Alarms.
                        "metrics": {"status": "Enabled", "event_threshold": {"minutes": 15}},
                    },
                }
            ],
            opts=child(self, depends_on=[landing_versioning, bucket_versioning, replication_policy]),
        )

        keycloak_logs = aws.cloudwatch.LogGroup(
            f"{name}-keycloak-logs",
            name=f"/bizid/{args.environment}/keycloak",
            kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child(self),
        )
        opa_logs = aws.cloudwatch.LogGroup(
            f"{name}-opa-logs",
            name=f"/bizid/{args.environment}/opa",
            kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child(self),
        )

        firehose_role = aws.iam.Role(
            f"{name}-firehose-role",
            assume_role_policy=assume_role_policy(
                "firehose.amazonaws.com",
                account=account,
                source_arn=pulumi.Output.concat(
                    "arn:aws:firehose:", args.region, ":", account, f":deliverystream/{name}-*"
                ),
            ),
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-firehose-policy",
            role=firehose_role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "s3:AbortMultipartUpload",
                            "s3:GetBucketLocation",
                            "s3:ListBucket",
                            "s3:ListBucketMultipartUploads",
                            "s3:PutObject",
                        ],
                        "Resource": [landing.arn, pulumi.Output.concat(landing.arn, "/*")],
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
                        "Resource": args.kms_key_arn,
                    },
                ]
            ),
            opts=child(self),
        )
        logs_role = aws.iam.Role(
            f"{name}-logs-role",
            assume_role_policy=assume_role_policy(
                f"logs.{args.region}.amazonaws.com",
                account=account,
                source_arn=pulumi.Output.concat("arn:aws:logs:", args.region, ":", account, ":*"),
            ),
            opts=child(self),
        )

        sources = (
            (KEYCLOAK_EVENTS, keycloak_logs, KEYCLOAK_EVENTS_PATTERN),
            (OPA_DECISIONS, opa_logs, OPA_DECISIONS_PATTERN),
        )
        streams = {
            source: aws.kinesis.FirehoseDeliveryStream(
                f"{name}-{source}",
                destination="extended_s3",
                server_side_encryption={
                    "enabled": True,
                    "key_type": "CUSTOMER_MANAGED_CMK",
                    "key_arn": args.kms_key_arn,
                },
                extended_s3_configuration={
                    "role_arn": firehose_role.arn,
                    "bucket_arn": landing.arn,
                    "prefix": f"{source}/!{{timestamp:yyyy/MM/dd}}/",
                    "error_output_prefix": (
                        f"errors/{source}/!{{firehose:error-output-type}}/!{{timestamp:yyyy/MM/dd}}/"
                    ),
                    "buffering_interval": 300,
                    "buffering_size": 5,
                    # CloudWatch Logs delivers gzip already; the objects are that gzip, named for it.
                    "compression_format": "UNCOMPRESSED",
                    "file_extension": ".gz",
                    "kms_key_arn": args.kms_key_arn,
                },
                opts=child(self),
            )
            for source, _, _ in sources
        }
        # CloudWatch Logs checks it may write to the stream when the filter is created: policy first.
        logs_policy = aws.iam.RolePolicy(
            f"{name}-logs-policy",
            role=logs_role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["firehose:PutRecord", "firehose:PutRecordBatch"],
                        "Resource": [stream.arn for stream in streams.values()],
                    }
                ]
            ),
            opts=child(self),
        )
        for source, log_group, pattern in sources:
            aws.cloudwatch.LogSubscriptionFilter(
                f"{name}-{source}-filter",
                log_group=log_group.name,
                filter_pattern=pattern,
                destination_arn=streams[source].arn,
                role_arn=logs_role.arn,
                opts=child(self, depends_on=[logs_policy]),
            )
        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn  # the operator audit trail's home (infra/components/operator_access.py)
        self.landing_bucket_name = landing.bucket
        self.keycloak_log_group = keycloak_logs.name
        self.opa_log_group = opa_logs.name
        self.stream_names = [stream.name for stream in streams.values()]
        self.register_outputs({"bucket": self.bucket_name})

    def _bucket(
        self, name: str, prefix: str, args: AuditArchiveArgs
    ) -> tuple[aws.s3.Bucket, aws.s3.BucketVersioning]:
        """A private, versioned, KMS-encrypted, TLS-only bucket; Object Lock enabled only for the archive."""
        locked = not prefix.endswith("-landing-")
        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket_prefix=prefix,
            object_lock_enabled=True if locked else None,
            force_destroy=args.force_destroy,
            opts=child(self),
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule={"object_ownership": "BucketOwnerEnforced"},
            opts=child(self),
        )
        aws.s3.BucketPublicAccessBlock(
            f"{name}-no-public",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child(self),
        )
        versioning = aws.s3.BucketVersioning(
            f"{name}-versioning",
            bucket=bucket.id,
            versioning_configuration={"status": "Enabled"},
            opts=child(self),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-encryption",
            bucket=bucket.id,
            rules=[
                {
                    "apply_server_side_encryption_by_default": {
                        "sse_algorithm": "aws:kms",
                        "kms_master_key_id": args.kms_key_arn,
                    },
                    "bucket_key_enabled": True,
                }
            ],
            opts=child(self),
        )
        aws.s3.BucketPolicy(
            f"{name}-tls-only",
            bucket=bucket.id,
            policy=policy_document(
                [
                    {
                        "Sid": "DenyInsecureTransport",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:*",
                        "Resource": [bucket.arn, pulumi.Output.concat(bucket.arn, "/*")],
                        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                    }
                ]
            ),
            opts=child(self),
        )
        return bucket, versioning
