"""Keycloak (with the project's extension) and its OPA sidecar on ECS Fargate, behind a public ALB.

The ALB is the only thing in a public subnet that answers: it terminates TLS (443 only, modern policy) and
forwards to the tasks in private subnets. The management port (9000: health, metrics) is reached by the ALB's
health checks only and never routed from a listener; admin paths are refused at the ALB as well as by the WAF.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import pulumi
import pulumi_aws as aws

from infra.components.common import (
    ADMIN_PATH_PREFIXES,
    HTTPS_PORT,
    JGROUPS_PORTS,
    KEYCLOAK_HTTPS_PORT,
    KEYCLOAK_MANAGEMENT_PORT,
    OPA_PORT,
    POSTGRES_PORT,
    TLS_POLICY,
    account_id,
    assume_role_policy,
    child,
    ecr_pull_statements,
    keycloak_target_group,
    policy_document,
)
from infra.config import KeycloakConfig, ServiceSize
from policies import bundle as opa_bundle
from policies import opa_server
from realm import keycloak_options

CONTAINER = "keycloak"
SIDECAR = "opa"
OPA_TOKEN_ENV = "BIZID_OPA_TOKEN"
"""Read by Keycloak's OpaClient and OPA's system.authz; as in policies/opa_server.py (tested)."""
OPA_SECURITY_FLAGS = opa_server.SECURITY_FLAGS
"""Loopback is shared in the task: only Keycloak's token may ask, nobody may write."""
OPA_IMAGE_BUNDLE = PurePosixPath("/bundle") / opa_bundle.BUNDLE_FILE
OPA_IMAGE_VERIFICATION_KEY = PurePosixPath("/bundle") / opa_bundle.VERIFICATION_KEY_FILE
"""Where infra/images/opa/Dockerfile puts what `bizid bundle build` wrote to build/opa/ (tested)."""


def sidecar_command() -> list[str]:
    """The sidecar's arguments (the image's entrypoint is the `opa` binary): the command every bizid OPA
    runs, on the bundle and public key baked into the image; OPA refuses a bundle they do not verify."""
    command = opa_server.server_command(
        Path("/opa"),
        f"127.0.0.1:{OPA_PORT}",
        Path(OPA_IMAGE_BUNDLE),
        Path(OPA_IMAGE_VERIFICATION_KEY),
        decision_log=True,
    )
    return command[1:]


@dataclass(frozen=True)
class KeycloakServiceArgs:
    environment: str
    region: str
    role: str  # "primary" serves; "standby" waits for a failover
    settings: KeycloakConfig
    size: ServiceSize
    hostname: str
    keycloak_image: pulumi.Input[str]
    opa_image: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    app_subnet_ids: Sequence[pulumi.Input[str]]
    alb_security_group_id: pulumi.Input[str]
    app_security_group_id: pulumi.Input[str]
    certificate_arn: pulumi.Input[str]
    db_endpoint: pulumi.Input[str]
    db_name: str
    db_secret_arn: pulumi.Input[str]
    admin_secret_arn: pulumi.Input[str]
    opa_secret_arn: pulumi.Input[str]
    """Secret whose `password` is the OPA bearer token, given to both containers (never plain env)."""
    kms_key_arn: pulumi.Input[str]
    keycloak_log_group: pulumi.Input[str]
    opa_log_group: pulumi.Input[str]
    deletion_protection: bool
    short_name: str
    """Logical name of the ALB and target group (`<short_name>-alb`/`-tg`): the engine auto-names them as
    the logical name + '-' + 7 hex characters, and AWS allows 32 characters for both
    (policies/infra/naming.rego)."""
    log_retention_days: int
    """Of the Container Insights log group, which ECS would otherwise create unencrypted, kept forever."""
    image_repository_arns: Sequence[pulumi.Input[str]] = ()
    """The ECR repositories the task pulls from: the only ones its execution role may read."""
    admin_target_group_arn: pulumi.Input[str] | None = None
    """The internal admin ALB's target group (admin_path.py): the service registers its tasks there too."""
    admin_routes: Sequence[pulumi.Resource] = ()
    """That ALB's listener rules forwarding to it: ECS refuses a target group no load balancer forwards to, so
    the service waits for them."""


class KeycloakService(pulumi.ComponentResource):
    """ALB, target group, ECS cluster, task definition, service and CPU autoscaling of one region."""

    alb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    service: aws.ecs.Service
    cluster: aws.ecs.Cluster

    def __init__(
        self, name: str, args: KeycloakServiceArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:KeycloakService", name, None, opts)
        self.alb = aws.lb.LoadBalancer(
            f"{args.short_name}-alb",
            load_balancer_type="application",
            internal=False,
            security_groups=[args.alb_security_group_id],
            subnets=list(args.public_subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            idle_timeout=60,
            opts=child(self),
        )
        self.target_group = keycloak_target_group(f"{args.short_name}-tg", args.vpc_id, child(self))
        listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.alb.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=args.certificate_arn,
            default_actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            opts=child(self),
        )
        # Defence in depth behind the WAF rule: even without a web ACL the admin console is not served.
        aws.lb.ListenerRule(
            f"{name}-deny-admin",
            listener_arn=listener.arn,
            priority=1,
            conditions=[
                {
                    "path_pattern": {
                        "values": [p for prefix in ADMIN_PATH_PREFIXES for p in (prefix, f"{prefix}/*")]
                    }
                }
            ],
            actions=[
                {
                    "type": "fixed-response",
                    "fixed_response": {
                        "content_type": "text/plain",
                        "status_code": "404",
                        "message_body": "Not Found",
                    },
                }
            ],
            opts=child(self),
        )

        self.cluster = aws.ecs.Cluster(
            f"{name}-cluster",
            settings=[{"name": "containerInsights", "value": "enhanced"}],
            opts=child(self),
        )
        # Container Insights writes here once tasks run; the service (which starts them) waits for the group.
        insights_logs = aws.cloudwatch.LogGroup(
            f"{name}-insights-logs",
            name=pulumi.Output.concat("/aws/ecs/containerinsights/", self.cluster.name, "/performance"),
            kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child(self),
        )
        account = account_id(self)
        # ECS assumes both roles for the tasks of this account's clusters in this region only.
        ecs_trust = assume_role_policy(
            "ecs-tasks.amazonaws.com",
            account=account,
            source_arn=pulumi.Output.concat("arn:aws:ecs:", args.region, ":", account, ":*"),
        )
        execution_role = aws.iam.Role(
            f"{name}-execution-role", assume_role_policy=ecs_trust, opts=child(self)
        )
        # Instead of AmazonECSTaskExecutionRolePolicy (ECR and CloudWatch Logs on "*"): exactly what the task
        # definition needs. ecr:GetAuthorizationToken is the one action IAM only grants on "*" (it names no
        # repository; the ECR User Guide's "Private registry authentication" says so).
        statements: list[dict[str, Any]] = [
            {
                "Sid": "ReadTheTaskSecrets",
                "Effect": "Allow",
                "Action": "secretsmanager:GetSecretValue",
                "Resource": [args.db_secret_arn, args.admin_secret_arn, args.opa_secret_arn],
            },
            {"Sid": "DecryptThem", "Effect": "Allow", "Action": "kms:Decrypt", "Resource": args.kms_key_arn},
            {
                "Sid": "WriteTheTaskLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [
                    pulumi.Output.concat(
                        "arn:aws:logs:", args.region, ":", account, ":log-group:", group, ":log-stream:*"
                    )
                    for group in (args.keycloak_log_group, args.opa_log_group)
                ],
            },
        ]
        if args.image_repository_arns:
            statements += ecr_pull_statements("PullTheTaskImages", args.image_repository_arns)
        aws.iam.RolePolicy(
            f"{name}-execution-policy",
            role=execution_role.id,
            policy=policy_document(statements),
            opts=child(self),
        )
        # The tasks themselves call no AWS API; their role exists so none is inherited by accident.
        task_role = aws.iam.Role(f"{name}-task-role", assume_role_policy=ecs_trust, opts=child(self))

        containers = pulumi.Output.json_dumps(self._containers(args))
        task_definition = aws.ecs.TaskDefinition(
            f"{name}-task",
            family=f"bizid-{args.environment}-keycloak",
            cpu=str(args.settings.cpu),
            memory=str(args.settings.memory),
            network_mode="awsvpc",
            requires_compatibilities=["FARGATE"],
            runtime_platform={"operating_system_family": "LINUX", "cpu_architecture": "X86_64"},
            execution_role_arn=execution_role.arn,
            task_role_arn=task_role.arn,
            container_definitions=containers,
            opts=child(self),
        )
        target_groups: list[pulumi.Input[str]] = [self.target_group.arn]
        service_waits_for: list[pulumi.Resource] = [listener, insights_logs]
        if args.admin_target_group_arn is not None:
            target_groups.append(args.admin_target_group_arn)
        service_waits_for += args.admin_routes
        self.service = aws.ecs.Service(
            f"{name}-service",
            cluster=self.cluster.arn,
            task_definition=task_definition.arn,
            desired_count=args.size.desired_count,
            launch_type="FARGATE",
            platform_version="LATEST",
            network_configuration={
                "subnets": list(args.app_subnet_ids),
                "security_groups": [args.app_security_group_id],
                "assign_public_ip": False,
            },
            load_balancers=[
                {"target_group_arn": arn, "container_name": CONTAINER, "container_port": KEYCLOAK_HTTPS_PORT}
                for arn in target_groups
            ],
            deployment_circuit_breaker={"enable": True, "rollback": True},
            deployment_minimum_healthy_percent=100,
            deployment_maximum_percent=200,
            health_check_grace_period_seconds=180,
            propagate_tags="SERVICE",
            enable_execute_command=False,
            opts=child(self, depends_on=service_waits_for, ignore_changes=["desired_count"]),
        )
        scaling = aws.appautoscaling.Target(
            f"{name}-scaling",
            service_namespace="ecs",
            scalable_dimension="ecs:service:DesiredCount",
            resource_id=pulumi.Output.concat("service/", self.cluster.name, "/", self.service.name),
            min_capacity=args.size.min_count,
            max_capacity=args.size.max_count,
            opts=child(self),
        )
        aws.appautoscaling.Policy(
            f"{name}-cpu",
            policy_type="TargetTrackingScaling",
            service_namespace=scaling.service_namespace,
            scalable_dimension=scaling.scalable_dimension,
            resource_id=scaling.resource_id,
            target_tracking_scaling_policy_configuration={
                "predefined_metric_specification": {
                    "predefined_metric_type": "ECSServiceAverageCPUUtilization"
                },
                "target_value": float(args.settings.cpu_target_percent),
                "scale_out_cooldown": 60,
                "scale_in_cooldown": 300,
            },
            opts=child(self),
        )
        self.register_outputs({"alb_dns_name": self.alb.dns_name})

    @staticmethod
    def _containers(args: KeycloakServiceArgs) -> list[dict[str, Any]]:
        """Keycloak and its OPA sidecar; OPA listens on loopback only, shared inside the task."""

        def logs(group: pulumi.Input[str], prefix: str) -> dict[str, Any]:
            return {
                "logDriver": "awslogs",
                "options": {
                    "awslogs-group": group,
                    "awslogs-region": args.region,
                    "awslogs-stream-prefix": prefix,
                },
            }

        opa_token = {
            "name": OPA_TOKEN_ENV,
            "valueFrom": pulumi.Output.concat(args.opa_secret_arn, ":password::"),
        }
        # Tuning (worker threads, 503 shedding queue, database pool), cache stack, logging: the same source
        # as the local platform (realm/keycloak_options.py; tests/test_runtime_options.py compares them).
        env = {
            **keycloak_options.server_env(keycloak_options.ecs(args.settings.cpu)),
            "KC_DB_URL": pulumi.Output.concat(
                "jdbc:postgresql://",
                args.db_endpoint,
                f":{POSTGRES_PORT}/",
                args.db_name,
                "?sslmode=require",
            ),
            "KC_HOSTNAME": f"https://{args.hostname}",
            "KC_HTTPS_PORT": str(KEYCLOAK_HTTPS_PORT),
            "KC_HTTP_MANAGEMENT_PORT": str(KEYCLOAK_MANAGEMENT_PORT),
            "BIZID_OPA_URL": f"http://127.0.0.1:{OPA_PORT}",
            "BIZID_REALM": args.settings.realm,
            "BIZID_REGION": args.region,
            "BIZID_REGION_ROLE": args.role,
        }
        keycloak = {
            "name": CONTAINER,
            "image": args.keycloak_image,
            "essential": True,
            "command": ["start", "--optimized"],
            "user": "1000",
            "portMappings": [
                {"containerPort": port, "protocol": "tcp"}
                for port in (KEYCLOAK_HTTPS_PORT, KEYCLOAK_MANAGEMENT_PORT, *JGROUPS_PORTS)
            ],
            "environment": [{"name": k, "value": v} for k, v in sorted(env.items())],
            "secrets": [
                {
                    "name": "KC_DB_USERNAME",
                    "valueFrom": pulumi.Output.concat(args.db_secret_arn, ":username::"),
                },
                {
                    "name": "KC_DB_PASSWORD",
                    "valueFrom": pulumi.Output.concat(args.db_secret_arn, ":password::"),
                },
                {
                    "name": "KC_BOOTSTRAP_ADMIN_USERNAME",
                    "valueFrom": pulumi.Output.concat(args.admin_secret_arn, ":username::"),
                },
                {
                    "name": "KC_BOOTSTRAP_ADMIN_PASSWORD",
                    "valueFrom": pulumi.Output.concat(args.admin_secret_arn, ":password::"),
                },
                opa_token,
            ],
            # The static OPA image has no HTTP client for a container health check; the extension fails closed
            # until OPA answers, and Keycloak takes far longer to start than OPA does.
            "dependsOn": [{"containerName": SIDECAR, "condition": "START"}],
            "logConfiguration": logs(args.keycloak_log_group, "keycloak"),
        }
        opa = {
            "name": SIDECAR,
            # The same token: OPA's system.authz (policies/system/authz.rego) reads it from its environment.
            "secrets": [opa_token],
            "image": args.opa_image,
            "essential": True,
            "user": "1000",
            # The local platform's `opa run` (opa_server.server_command) on the image's signed bundle.
            "command": sidecar_command(),
            # The Go runtime settings of every bizid OPA (fewer collections: the decision p99).
            "environment": [{"name": k, "value": v} for k, v in sorted(opa_server.RUNTIME_ENV.items())],
            "readonlyRootFilesystem": True,
            "logConfiguration": logs(args.opa_log_group, "opa"),
        }
        return [keycloak, opa]
