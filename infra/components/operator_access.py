"""What an operator's AWS role needs to run the lifecycle commands against this stack, and nothing more.

`bizid accounts|review|members|delegation|audit|report|notify ... --target <env>` (scripts/operating.py), run
by an operator from the private admin path, reads three things from AWS and writes one:

- the operator account's client secret (`bizid-<env>/operator-client`, realm/operator_account.py) and the
  SES SMTP login of the notification mail (`bizid-<env>/ses-smtp`): secretsmanager:GetSecretValue on
  exactly those two secrets, and kms:Decrypt on the stack key only through Secrets Manager;
- the operator audit trail (realm/operator_audit_s3.py) under `operator-trail/` in each region's audit
  archive bucket (Object Lock, compliance mode): s3:ListBucket on the bucket only for that prefix,
  s3:GetObject and s3:PutObject on objects under it, and kms:GenerateDataKey/Decrypt on the region's stack
  key only through S3 (the bucket's default encryption is SSE-KMS with a bucket key);
- the audit archive in the same buckets (`bizid audit trace|report monthly --target`, realm/archive_s3.py):
  read only, s3:ListBucket only for the `keycloak-events/` and `opa-decisions/` prefixes and s3:GetObject on
  objects under them (`archive_statements`); the same key grant decrypts them;
- the Entry -> Prime review queue (realm/review_queue_s3.py) under `review/` in the same buckets, shared by
  every operator's desk: its own statements, the same three actions on that prefix only (REVIEW_PREFIX).

Not granted: s3:DeleteObject(Version), s3:PutObjectRetention/LegalHold, s3:BypassGovernanceRetention, any
write to a secret, the reconciler's secret (`realm-admin-client`), the Aurora master secret, or anything on
"*". The stack creates this as a customer managed policy (`operatorPolicyArn`); the organisation attaches
it to the operators' role or IAM Identity Center permission set, which the stack does not own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import child, policy_document
from realm.archive_s3 import SOURCES as ARCHIVE_SOURCES
from realm.review_queue_s3 import REVIEW_PREFIX

TRAIL_PREFIX = "operator-trail/"
"""The trail's prefix in the audit bucket: the target files' `operator_trail.prefix` (its default)."""

SECRET_ACTIONS = ("secretsmanager:GetSecretValue",)
LIST_ACTIONS = ("s3:ListBucket",)
OBJECT_ACTIONS = ("s3:GetObject", "s3:PutObject")
KMS_ACTIONS = ("kms:Decrypt", "kms:GenerateDataKey")
ARCHIVE_OBJECT_ACTIONS = ("s3:GetObject",)


@dataclass(frozen=True)
class OperatorAccessArgs:
    environment: str
    secret_arns: Sequence[pulumi.Input[str]]
    """The operator account's secret and the SES SMTP login (primary region; replicas read the same name)."""
    secrets_key_arn: pulumi.Input[str]
    secrets_region: str
    audit_buckets: Mapping[str, pulumi.Input[str]]
    """region -> ARN of that region's audit archive bucket."""
    audit_keys: Mapping[str, pulumi.Input[str]]
    """region -> ARN of the stack key that encrypts that bucket."""
    prefix: str = TRAIL_PREFIX


def statements(args: OperatorAccessArgs) -> list[dict[str, object]]:
    result: list[dict[str, object]] = [
        {
            "Sid": "ReadOperatorSecrets",
            "Effect": "Allow",
            "Action": list(SECRET_ACTIONS),
            "Resource": list(args.secret_arns),
        },
        {
            "Sid": "DecryptSecretsThroughSecretsManager",
            "Effect": "Allow",
            "Action": ["kms:Decrypt"],
            "Resource": [args.secrets_key_arn],
            "Condition": {
                "StringEquals": {"kms:ViaService": f"secretsmanager.{args.secrets_region}.amazonaws.com"}
            },
        },
    ]
    for index, (region, bucket) in enumerate(sorted(args.audit_buckets.items())):
        result += [
            {
                "Sid": f"ListOperatorTrail{index}",
                "Effect": "Allow",
                "Action": list(LIST_ACTIONS),
                "Resource": [bucket],
                "Condition": {"StringLike": {"s3:prefix": [args.prefix, f"{args.prefix}*"]}},
            },
            {
                "Sid": f"ReadAppendOperatorTrail{index}",
                "Effect": "Allow",
                "Action": list(OBJECT_ACTIONS),
                "Resource": [pulumi.Output.concat(bucket, "/", args.prefix, "*")],
            },
            {
                "Sid": f"TrailKeyThroughS3{index}",
                "Effect": "Allow",
                "Action": list(KMS_ACTIONS),
                "Resource": [args.audit_keys[region]],
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ]
        result += archive_statements(index, bucket)
        result += review_queue_statements(index, bucket)
    return result


def archive_statements(index: int, bucket: pulumi.Input[str]) -> list[dict[str, object]]:
    """Read the archived Keycloak events and OPA decisions (Firehose's prefixes), nothing else there."""
    prefixes = [f"{source}/" for source in ARCHIVE_SOURCES]
    return [
        {
            "Sid": f"ListAuditArchive{index}",
            "Effect": "Allow",
            "Action": list(LIST_ACTIONS),
            "Resource": [bucket],
            "Condition": {"StringLike": {"s3:prefix": prefixes + [f"{p}*" for p in prefixes]}},
        },
        {
            "Sid": f"ReadAuditArchive{index}",
            "Effect": "Allow",
            "Action": list(ARCHIVE_OBJECT_ACTIONS),
            "Resource": [pulumi.Output.concat(bucket, "/", p, "*") for p in prefixes],
        },
    ]


def review_queue_statements(index: int, bucket: pulumi.Input[str]) -> list[dict[str, object]]:
    """The shared review queue: list under `review/` only, read and create objects there (append-once by
    conditional PUT; no delete). The bucket key is granted by the trail's KMS statement."""
    return [
        {
            "Sid": f"ListReviewQueue{index}",
            "Effect": "Allow",
            "Action": list(LIST_ACTIONS),
            "Resource": [bucket],
            "Condition": {"StringLike": {"s3:prefix": [REVIEW_PREFIX, f"{REVIEW_PREFIX}*"]}},
        },
        {
            "Sid": f"ReadAppendReviewQueue{index}",
            "Effect": "Allow",
            "Action": list(OBJECT_ACTIONS),
            "Resource": [pulumi.Output.concat(bucket, "/", REVIEW_PREFIX, "*")],
        },
    ]


class OperatorAccess(pulumi.ComponentResource):
    """The customer managed policy `bizid-<env>-operator` (module docstring)."""

    policy_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: OperatorAccessArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:OperatorAccess", name, None, opts)
        policy = aws.iam.Policy(
            f"{name}-policy",
            name=f"bizid-{args.environment}-operator",
            path="/bizid/",
            description="bizid operators: lifecycle commands --target (operator account secret, SES login, "
            "append-only operator audit trail)",
            policy=policy_document(statements(args)),
            opts=child(self),
        )
        self.policy_arn = policy.arn
        self.register_outputs({"policyArn": self.policy_arn})
