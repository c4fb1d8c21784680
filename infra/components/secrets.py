"""Secrets Manager secrets written in the primary region and replicated to the standby region.

Aurora global clusters cannot use RDS-managed master passwords, so the master password comes from Pulumi
secret config and is stored here, where the ECS tasks of either region read it (never through environment
config)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components.common import child


@dataclass(frozen=True)
class ReplicatedSecretArgs:
    description: str
    # JSON document; always a secret Output so it is encrypted in state and masked in logs.
    value: pulumi.Output[str]
    primary_region: str
    kms_key_arn: pulumi.Input[str]
    # standby region -> KMS key ARN in that region (the multi-region key's replica)
    replicas: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The `bizid:purpose` tag: policies/infra/iam.rego keeps the `aurora-master` secret away from the tasks.
    purpose: str | None = None


class ReplicatedSecret(pulumi.ComponentResource):
    """One secret, readable in every region of the stack."""

    arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReplicatedSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:ReplicatedSecret", name, None, opts)
        self._primary_region = args.primary_region
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            description=args.description,
            kms_key_id=args.kms_key_arn,
            recovery_window_in_days=30,
            replicas=[{"region": region, "kms_key_id": key} for region, key in args.replicas.items()],
            tags={"bizid:purpose": args.purpose} if args.purpose else None,
            opts=child(self),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-version", secret_id=secret.id, secret_string=args.value, opts=child(self)
        )
        self.arn = secret.arn
        self.register_outputs({"arn": self.arn})

    def arn_in(self, region: str) -> pulumi.Output[str]:
        """The ARN of the copy in `region`: a replica keeps the primary's name and suffix."""
        primary = f":{self._primary_region}:"
        return self.arn.apply(lambda arn: arn.replace(primary, f":{region}:"))
