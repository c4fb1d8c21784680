"""Secrets Manager secrets written in the primary region and replicated to the standby region.

Aurora global clusters cannot use RDS-managed master passwords, so the master password comes from Pulumi
secret config and is stored here, where the ECS tasks of either region read it (never through environment
config)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from infra.components.common import child


def realm_admin_secret_name(environment: str) -> str:
    """The secret of the realm reconciler's service-account client (realm/service_account.py): created
    empty by the stack, written once by `bizid realm bootstrap`, read by `bizid realm apply --target`."""
    return f"bizid-{environment}/realm-admin-client"


def operator_secret_name(environment: str) -> str:
    """The secret of the lifecycle commands' service-account client `bizid-operator`
    (realm/operator_account.py): created empty by the stack, written once by `bizid realm bootstrap`, read by
    `bizid accounts ... --target`."""
    return f"bizid-{environment}/operator-client"


def smtp_secret_name(environment: str) -> str:
    """The SES SMTP login of the realm's mail ({"username", "password"}): read by `bizid realm apply --target`
    (realm/definitions/targets/<env>.yaml `smtp.auth`)."""
    return f"bizid-{environment}/ses-smtp"


def rp_secret_prefix(environment: str) -> str:
    """Where `bizid realm apply --target` keeps each confidential RP's secret: `<prefix><client id>`."""
    return f"bizid-{environment}/rp-client/"


@dataclass(frozen=True)
class ReplicatedSecretArgs:
    description: str
    # JSON document; always a secret Output so it is encrypted in state and masked in logs. None: the stack
    # creates the secret without a value (a tool writes it, e.g. `bizid realm bootstrap`).
    value: pulumi.Output[str] | None
    primary_region: str
    kms_key_arn: pulumi.Input[str]
    # standby region -> KMS key ARN in that region (the multi-region key's replica)
    replicas: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # The `bizid:purpose` tag: policies/infra/iam.rego keeps the `aurora-master` secret away from the tasks.
    purpose: str | None = None
    # A fixed name that tools look up (exported by the stack); None: Pulumi's auto-name.
    secret_name: str | None = None
    recovery_window_days: int = 30


class ReplicatedSecret(pulumi.ComponentResource):
    """One secret, readable in every region of the stack."""

    arn: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(
        self, name: str, args: ReplicatedSecretArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:ReplicatedSecret", name, None, opts)
        self._primary_region = args.primary_region
        secret = aws.secretsmanager.Secret(
            f"{name}-secret",
            name=args.secret_name,
            description=args.description,
            kms_key_id=args.kms_key_arn,
            recovery_window_in_days=args.recovery_window_days,
            replicas=[{"region": region, "kms_key_id": key} for region, key in args.replicas.items()],
            tags={"bizid:purpose": args.purpose} if args.purpose else None,
            opts=child(self),
        )
        if args.value is not None:
            aws.secretsmanager.SecretVersion(
                f"{name}-version", secret_id=secret.id, secret_string=args.value, opts=child(self)
            )
        self.arn = secret.arn
        self.name = secret.name
        self.register_outputs({"arn": self.arn})

    def arn_in(self, region: str) -> pulumi.Output[str]:
        """The ARN of the copy in `region`: a replica keeps the primary's name and suffix."""
        primary = f":{self._primary_region}:"
        return self.arn.apply(lambda arn: arn.replace(primary, f":{region}:"))


@dataclass(frozen=True)
class SesSmtpLoginArgs:
    """An SMTP login for Amazon SES in `region`, allowed to send only as `from_address`'s domain."""

    region: str
    from_domain: str
    kms_key_arn: pulumi.Input[str]
    replicas: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    secret_name: str | None = None  # a fixed name the target files name (smtp_secret_name); None: auto-named


class SesSmtpLogin(pulumi.ComponentResource):
    """The realm's SMTP login at SES, kept in Secrets Manager for `bizid realm apply` to read.

    SES speaks SMTP with an IAM user's access key as the username and a password derived from its secret
    key (`ses_smtp_password_v4`, region-specific). The user may do nothing but send mail from the realm's
    domain. The secret holds {"username", "password"}, the shape realm/smtp.py reads; a target overlay
    names it in `realm.smtp.server.auth` (source aws-secretsmanager, secret: the `smtpSecretArn` output).
    """

    arn: pulumi.Output[str]

    def __init__(self, name: str, args: SesSmtpLoginArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:SesSmtpLogin", name, None, opts)
        user = aws.iam.User(f"{name}-user", path="/bizid/ses-smtp/", opts=child(self))
        aws.iam.UserPolicy(
            f"{name}-send",
            user=user.name,
            policy=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": "ses:SendRawEmail",
                            "Resource": "*",
                            "Condition": {
                                "StringLike": {"ses:FromAddress": f"*@{args.from_domain}"},
                                "StringEquals": {"aws:RequestedRegion": args.region},
                            },
                        }
                    ],
                }
            ),
            opts=child(self),
        )
        key = aws.iam.AccessKey(f"{name}-key", user=user.name, opts=child(self))
        document = pulumi.Output.json_dumps({"username": key.id, "password": key.ses_smtp_password_v4})
        secret = ReplicatedSecret(
            f"{name}-login",
            ReplicatedSecretArgs(
                "SES SMTP login of the realm's mail (verification and notifications)",
                pulumi.Output.secret(document),
                args.region,
                args.kms_key_arn,
                args.replicas,
                secret_name=args.secret_name,
            ),
            child(self),
        )
        self.arn = secret.arn
        self.name = secret.name
        self.register_outputs({"arn": self.arn})
