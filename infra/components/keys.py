"""Customer-managed KMS keys: one multi-region key, its primary in Tokyo and a replica in Osaka.

A multi-region key lets data encrypted in one region (Aurora storage, secrets, audit objects) be decrypted in
the other with the same key material, while each region still calls its own KMS endpoint."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import account_id, child, policy_document


@dataclass(frozen=True)
class StackKeyArgs:
    region: str
    description: str
    # None in the primary region (creates the multi-region primary); the primary's ARN in the standby region.
    primary_key_arn: pulumi.Input[str] | None = None


class StackKey(pulumi.ComponentResource):
    """The stack's data key in one region."""

    arn: pulumi.Output[str]
    key_id: pulumi.Output[str]

    def __init__(self, name: str, args: StackKeyArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:StackKey", name, None, opts)
        account = account_id(self)
        policy = policy_document(
            [
                {
                    "Sid": "AccountAdministersThroughIam",
                    "Effect": "Allow",
                    "Principal": {"AWS": pulumi.Output.concat("arn:aws:iam::", account, ":root")},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "CloudWatchLogsEncryptsLogGroups",
                    "Effect": "Allow",
                    "Principal": {"Service": f"logs.{args.region}.amazonaws.com"},
                    "Action": [
                        "kms:Encrypt*",
                        "kms:Decrypt*",
                        "kms:ReEncrypt*",
                        "kms:GenerateDataKey*",
                        "kms:Describe*",
                    ],
                    "Resource": "*",
                    "Condition": {
                        "ArnLike": {
                            "kms:EncryptionContext:aws:logs:arn": pulumi.Output.concat(
                                "arn:aws:logs:", args.region, ":", account, ":log-group:*"
                            )
                        }
                    },
                },
                {
                    "Sid": "CloudWatchAlarmsPublishToEncryptedTopics",
                    "Effect": "Allow",
                    "Principal": {"Service": "cloudwatch.amazonaws.com"},
                    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
            ]
        )
        if args.primary_key_arn is None:
            key = aws.kms.Key(
                f"{name}-key",
                description=args.description,
                multi_region=True,
                enable_key_rotation=True,
                deletion_window_in_days=30,
                policy=policy,
                opts=child(self),
            )
            self.arn, self.key_id = key.arn, key.key_id
        else:
            replica = aws.kms.ReplicaKey(
                f"{name}-key",
                description=args.description,
                primary_key_arn=args.primary_key_arn,
                deletion_window_in_days=30,
                policy=policy,
                opts=child(self),
            )
            self.arn, self.key_id = replica.arn, replica.key_id
        aws.kms.Alias(f"{name}-alias", name=f"alias/{name}", target_key_id=self.key_id, opts=child(self))
        self.register_outputs({"arn": self.arn})
