"""The daily reminders job: `bizid notify reminders` as an ECS task that EventBridge Scheduler starts.

Primary region only (Tokyo serves; a second schedule in Osaka would mail everyone twice). The ledger of the
reminders sent is a prefix of the primary's audit archive (`LEDGER_PREFIX`): S3 objects written once each
(realm/s3_store.py, realm/reminders.py `S3Ledger`), so it survives the task, keeps overlapping runs from
mailing twice and, under the archive's Object Lock, cannot be altered. Least privilege throughout:

- execution role (ECS, to start the task): pull the ops image, write the job's log group; it injects no
  secret, so it reads none;
- task role (the job): read and create objects under the ledger prefix only (list only that prefix), read the
  two secrets the command needs (the operator service-account client, the SES SMTP login), use the stack key
  for them and for the archive's SSE-KMS;
- scheduler role: ecs:RunTask on this task family only and only on the Keycloak cluster, iam:PassRole on the
  two roles only to ECS tasks; trusted by EventBridge Scheduler for this schedule of this account only.

The task runs in the Keycloak cluster on the app subnets (no public address) with its own security group:
no ingress; egress HTTPS (Keycloak's internal admin path, admin_path.py, which admits this group by name; S3,
Secrets Manager, ECR, CloudWatch Logs through the NAT gateway) and SMTP submission to SES (587). The job finds
the internal path through its target file's `admin_url` (realm/definitions/targets/<env>.yaml, baked into the
ops image; a test keeps it equal to the stack output `adminUrl`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.common import (
    HTTPS_PORT,
    account_id,
    assume_role_policy,
    child,
    ecr_pull_statements,
    policy_document,
)
from infra.components.secrets import operator_secret_name
from infra.config import RemindersConfig

CONTAINER = "reminders"
LEDGER_PREFIX = "reminders/"
"""The ledger's prefix in the primary's audit archive bucket."""
SMTP_SUBMISSION_PORT = 587
"""SES SMTP with STARTTLS (realm/definitions/targets/<env>.yaml `smtp.port`)."""
SCHEDULER_ACTIONS = ("ecs:RunTask", "iam:PassRole")


def family(environment: str) -> str:
    return f"bizid-{environment}-reminders"


def schedule_name(environment: str) -> str:
    return f"bizid-{environment}-reminders"


def ledger_uri(bucket: str) -> str:
    return f"s3://{bucket}/{LEDGER_PREFIX}"


def command(environment: str, bucket: str, days: int) -> list[str]:
    """The container's arguments (the image's entrypoint is `bizid`)."""
    return [
        "notify",
        "reminders",
        "--target",
        environment,
        "--ledger",
        ledger_uri(bucket),
        "--days",
        str(days),
    ]


@dataclass(frozen=True)
class RemindersJobArgs:
    environment: str
    region: str
    settings: RemindersConfig
    image: pulumi.Input[str]
    image_repository_arns: Sequence[pulumi.Input[str]]
    """The ECR repositories of the ops image: the only ones the execution role may pull from."""
    cluster_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    app_subnet_ids: Sequence[pulumi.Input[str]]
    kms_key_arn: pulumi.Input[str]
    ledger_bucket: pulumi.Input[str]
    """The primary's audit archive bucket (its name)."""
    smtp_secret_arn: pulumi.Input[str]
    log_retention_days: int


class RemindersJob(pulumi.ComponentResource):
    """Log group, roles, security group, task definition and schedule of the reminders job."""

    schedule: aws.scheduler.Schedule
    task_definition: aws.ecs.TaskDefinition
    log_group: aws.cloudwatch.LogGroup
    security_group: aws.ec2.SecurityGroup
    """The job's own group: what the internal admin ALB admits (admin_path.admit)."""

    def __init__(self, name: str, args: RemindersJobArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:RemindersJob", name, None, opts)
        env, region = args.environment, args.region
        account = account_id(self)
        bucket_arn = pulumi.Output.concat("arn:aws:s3:::", args.ledger_bucket)

        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/bizid/{env}/reminders",
            kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child(self),
        )
        ecs_trust = assume_role_policy(
            "ecs-tasks.amazonaws.com",
            account=account,
            source_arn=pulumi.Output.concat("arn:aws:ecs:", region, ":", account, ":*"),
        )
        execution_role = aws.iam.Role(
            f"{name}-execution-role", assume_role_policy=ecs_trust, opts=child(self)
        )
        execution: list[dict[str, Any]] = [
            {
                "Sid": "WriteTheJobLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": pulumi.Output.concat(self.log_group.arn, ":log-stream:*"),
            }
        ]
        if args.image_repository_arns:
            execution += ecr_pull_statements("PullTheOpsImage", args.image_repository_arns)
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=execution_role.id,
            policy=policy_document(execution),
            opts=child(self),
        )

        task_role = aws.iam.Role(f"{name}-task-role", assume_role_policy=ecs_trust, opts=child(self))
        operator_secret = pulumi.Output.concat(
            # Secrets Manager appends "-" and 6 random characters to a secret's name in its ARN.
            "arn:aws:secretsmanager:",
            region,
            ":",
            account,
            ":secret:",
            operator_secret_name(env),
            "-??????",
        )
        aws.iam.RolePolicy(
            f"{name}-task-policy",
            role=task_role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "ReadAndCreateLedgerObjects",
                        "Effect": "Allow",
                        "Action": ["s3:GetObject", "s3:PutObject"],
                        "Resource": pulumi.Output.concat(bucket_arn, "/", LEDGER_PREFIX, "*"),
                    },
                    {
                        "Sid": "ListTheLedgerOnly",
                        "Effect": "Allow",
                        "Action": "s3:ListBucket",
                        "Resource": bucket_arn,
                        "Condition": {"StringLike": {"s3:prefix": [LEDGER_PREFIX, f"{LEDGER_PREFIX}*"]}},
                    },
                    {
                        "Sid": "ReadTheCommandSecrets",
                        "Effect": "Allow",
                        "Action": "secretsmanager:GetSecretValue",
                        "Resource": [args.smtp_secret_arn, operator_secret],
                    },
                    {
                        # The secrets and the archive's SSE-KMS (bucket key) are on the stack key.
                        "Sid": "UseTheStackKey",
                        "Effect": "Allow",
                        "Action": ["kms:Decrypt", "kms:GenerateDataKey"],
                        "Resource": args.kms_key_arn,
                    },
                ]
            ),
            opts=child(self),
        )

        self.security_group = security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            vpc_id=args.vpc_id,
            description="Reminders job: no ingress; HTTPS to Keycloak and AWS APIs, SMTP submission to SES",
            ingress=[],
            egress=[
                {"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": ["0.0.0.0/0"]}
                for port in (HTTPS_PORT, SMTP_SUBMISSION_PORT)
            ],
            opts=child(self),
        )

        containers = pulumi.Output.json_dumps(
            [
                {
                    "name": CONTAINER,
                    "image": args.image,
                    "essential": True,
                    "command": pulumi.Output.from_input(args.ledger_bucket).apply(
                        lambda bucket: command(env, bucket, args.settings.days)
                    ),
                    "user": "1000",
                    "readonlyRootFilesystem": True,
                    "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
                    "environment": [
                        {"name": "AWS_DEFAULT_REGION", "value": region},
                        {"name": "AWS_REGION", "value": region},
                        {"name": "BIZID_STATE_DIR", "value": "/tmp/bizid"},
                    ],
                    "logConfiguration": {
                        "logDriver": "awslogs",
                        "options": {
                            "awslogs-group": self.log_group.name,
                            "awslogs-region": region,
                            "awslogs-stream-prefix": CONTAINER,
                        },
                    },
                }
            ]
        )
        self.task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=family(env),
            cpu=str(args.settings.cpu),
            memory=str(args.settings.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=containers,
            volumes=[{"name": "tmp"}],
            opts=child(self),
        )

        name_of_schedule = schedule_name(env)
        scheduler_role = aws.iam.Role(
            f"{name}-scheduler-role",
            assume_role_policy=assume_role_policy(
                "scheduler.amazonaws.com",
                account=account,
                source_arn=pulumi.Output.concat(
                    "arn:aws:scheduler:", region, ":", account, ":schedule/default/", name_of_schedule
                ),
            ),
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-scheduler-policy",
            role=scheduler_role.id,
            policy=policy_document(
                [
                    {
                        "Sid": "RunTheReminderTask",
                        "Effect": "Allow",
                        "Action": "ecs:RunTask",
                        "Resource": pulumi.Output.concat(
                            "arn:aws:ecs:", region, ":", account, ":task-definition/", family(env), ":*"
                        ),
                        "Condition": {"ArnEquals": {"ecs:cluster": args.cluster_arn}},
                    },
                    {
                        "Sid": "HandItsRolesToEcsTasks",
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": [execution_role.arn, task_role.arn],
                        "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
                    },
                ]
            ),
            opts=child(self),
        )
        self.schedule = aws.scheduler.Schedule(
            f"{name}-schedule",
            name=name_of_schedule,
            description="bizid notify reminders: validity and delegation expiry mail (docs/infra.md)",
            schedule_expression=args.settings.schedule,
            schedule_expression_timezone=args.settings.timezone,
            flexible_time_window={"mode": "OFF"},
            state="ENABLED",
            target={
                "arn": args.cluster_arn,
                "role_arn": scheduler_role.arn,
                "ecs_parameters": {
                    "task_definition_arn": self.task_definition.arn,
                    "launch_type": "FARGATE",
                    "task_count": 1,
                    "enable_execute_command": False,
                    "network_configuration": {
                        "subnets": list(args.app_subnet_ids),
                        "security_groups": [security_group.id],
                        "assign_public_ip": False,
                    },
                },
                # A missed start is retried within the hour; the run is idempotent (the ledger), so a late
                # or repeated one mails nothing twice.
                "retry_policy": {"maximum_retry_attempts": 3, "maximum_event_age_in_seconds": 3600},
            },
            opts=child(self),
        )
        self.register_outputs({"schedule": self.schedule.name})
