"""Facts shared by several components: ports, policy documents, the account id. One source each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from realm import keycloak_options

# Keycloak serves HTTPS on 8443 behind the ALB; 9000 is its management interface (health, metrics), reached by
# the ALB's health checks only; 7800/57800 are Infinispan (JGroups) traffic between the tasks of one region.
KEYCLOAK_HTTPS_PORT = 8443
KEYCLOAK_MANAGEMENT_PORT = 9000
JGROUPS_PORTS = (
    keycloak_options.CLUSTER_TRANSPORT_PORT,
    keycloak_options.CLUSTER_TRANSPORT_PORT + keycloak_options.FAILURE_DETECTION_OFFSET,
)
POSTGRES_PORT = 5432
HTTPS_PORT = 443
OPA_PORT = 8181

# Paths that must never be served to the internet: the admin console and REST API, and the master realm.
ADMIN_PATH_PREFIXES = ("/admin", "/realms/master")
LOGIN_PATH_FRAGMENTS = ("/protocol/openid-connect/auth", "/login-actions/")
TOKEN_PATH_FRAGMENTS = ("/protocol/openid-connect/token",)

# Modern ALB TLS policy: TLS 1.3 and 1.2 with forward-secret AEAD ciphers only.
TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-Res-2021-06"


def child(parent: pulumi.Resource, **kwargs: Any) -> pulumi.ResourceOptions:
    """Options for a component's child: parented (so it inherits the regional provider) plus extras."""
    return pulumi.ResourceOptions(parent=parent, **kwargs)


def account_id(parent: pulumi.Resource) -> pulumi.Output[str]:
    """The AWS account the regional provider deploys into (never written into config)."""
    identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    return identity.account_id


def assume_role_policy(
    service: str, *, account: pulumi.Input[str], source_arn: pulumi.Input[str]
) -> pulumi.Output[str]:
    """Trust policy letting one AWS service assume a role, only on behalf of this account and of the named
    resources (`aws:SourceAccount`, `aws:SourceArn`; `*` allowed in the ARN): the confused-deputy guard of the
    IAM User Guide ("The confused deputy problem"). policies/infra/iam.rego requires both conditions."""
    return pulumi.Output.json_dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": service},
                    "Action": "sts:AssumeRole",
                    "Condition": {
                        "StringEquals": {"aws:SourceAccount": account},
                        "ArnLike": {"aws:SourceArn": source_arn},
                    },
                }
            ],
        }
    )


def policy_document(statements: Sequence[Mapping[str, Any]]) -> pulumi.Output[str]:
    """An IAM policy document; statements may hold Outputs (ARNs) anywhere."""
    return pulumi.Output.json_dumps({"Version": "2012-10-17", "Statement": list(statements)})


def ecr_pull_statements(sid: str, repository_arns: Sequence[Any]) -> list[dict[str, Any]]:
    """What an ECS execution role needs to pull images from these repositories, and nothing more: the three
    pull actions on them, plus the one ECR action IAM grants only on "*" (it names no repository)."""
    return [
        {
            "Sid": sid,
            "Effect": "Allow",
            "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            "Resource": list(repository_arns),
        },
        {"Sid": "SignInToEcr", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"},
    ]


def keycloak_target_group(
    name: str, vpc_id: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> aws.lb.TargetGroup:
    """Keycloak's tasks as load-balancer targets (the public ALB's and the internal admin path's): HTTPS to
    8443, in service only while `/health/ready` on the management port answers 200."""
    return aws.lb.TargetGroup(
        name,
        port=KEYCLOAK_HTTPS_PORT,
        protocol="HTTPS",
        target_type="ip",
        vpc_id=vpc_id,
        deregistration_delay=30,
        health_check={
            "enabled": True,
            "protocol": "HTTPS",
            "port": str(KEYCLOAK_MANAGEMENT_PORT),
            "path": "/health/ready",
            "matcher": "200",
            "interval": 15,
            "healthy_threshold": 2,
            "unhealthy_threshold": 3,
        },
        opts=opts,
    )
