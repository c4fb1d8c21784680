"""Aurora PostgreSQL: one global cluster, a writer cluster in Tokyo and a read-only secondary in Osaka.

Keycloak's multi-site mode needs synchronous replication, which Aurora offers only inside a region (across its
AZs). Between regions the global database replicates asynchronously (typically under a second), which is what
sets the RPO of a regional failover. Managed master passwords are not supported for global clusters, so the
password is passed in from Pulumi secret config."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import POSTGRES_PORT, child
from infra.config import DatabaseConfig

ENGINE = aws.rds.EngineType.AURORA_POSTGRESQL
# With minor upgrades on, AWS moves the running version past the configured one; the pulumi-aws GlobalCluster
# docs ask to ignore engine_version on the global cluster, its clusters and instances, or the next plan tries
# to "downgrade" and fails. A major upgrade is a deliberate change made outside this ignore (docs/infra.md).
ENGINE_MANAGED = ("engine_version",)


@dataclass(frozen=True)
class AuroraClusterArgs:
    settings: DatabaseConfig
    global_cluster_id: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    security_group_id: pulumi.Input[str]
    instances: int
    # Only the primary cluster carries credentials; a secondary inherits them through replication.
    master_password: pulumi.Output[str] | None
    # Of the log group RDS would otherwise create itself (unencrypted, kept forever) for the exported logs.
    log_retention_days: int
    # The secondary may join only once the primary has a writer instance.
    depends_on: Sequence[pulumi.Resource] = ()


class AuroraCluster(pulumi.ComponentResource):
    """One regional member of the global database."""

    cluster: aws.rds.Cluster
    instances: list[aws.rds.ClusterInstance]
    endpoint: pulumi.Output[str]
    cluster_identifier: pulumi.Output[str]

    def __init__(
        self, name: str, args: AuroraClusterArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:AuroraCluster", name, None, opts)
        db = args.settings
        primary = args.master_password is not None
        subnet_group = aws.rds.SubnetGroup(
            f"{name}-subnets", subnet_ids=list(args.subnet_ids), opts=child(self)
        )
        parameters = aws.rds.ClusterParameterGroup(
            f"{name}-params",
            family=db.parameter_group_family,
            description="bizid: TLS required, connections and DDL logged",
            parameters=[
                {"name": "rds.force_ssl", "value": "1"},
                {"name": "log_connections", "value": "1"},
                {"name": "log_disconnections", "value": "1"},
                {"name": "log_statement", "value": "ddl"},
            ],
            opts=child(self),
        )
        # RDS creates /aws/rds/cluster/<id>/postgresql on first export, unencrypted, kept forever; the stack
        # owns it instead, on the stack key, and creates it before the cluster can write to it.
        postgresql_logs = aws.cloudwatch.LogGroup(
            f"{name}-postgresql-logs",
            name=f"/aws/rds/cluster/{name}/postgresql",
            kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child(self),
        )
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            cluster_identifier=name,
            global_cluster_identifier=args.global_cluster_id,
            engine=ENGINE,
            engine_version=db.engine_version,
            database_name=db.database_name if primary else None,
            master_username=db.master_username if primary else None,
            master_password=args.master_password,
            storage_encrypted=True,
            kms_key_id=args.kms_key_arn,
            db_subnet_group_name=subnet_group.name,
            vpc_security_group_ids=[args.security_group_id],
            db_cluster_parameter_group_name=parameters.name,
            port=POSTGRES_PORT,
            backup_retention_period=db.backup_retention_days,
            preferred_backup_window="17:00-18:00",  # 02:00-03:00 JST, the quietest hour
            copy_tags_to_snapshot=True,
            deletion_protection=db.deletion_protection,
            skip_final_snapshot=not db.deletion_protection,
            final_snapshot_identifier=f"{name}-final" if db.deletion_protection else None,
            enabled_cloudwatch_logs_exports=["postgresql"],
            iam_database_authentication_enabled=True,
            opts=child(
                self,
                depends_on=[*args.depends_on, postgresql_logs],
                # After a switchover or failover AWS rewrites these; the runbook reconciles config instead.
                # engine_version: AWS applies minor upgrades itself (pulumi-aws GlobalCluster guidance).
                ignore_changes=[
                    "replication_source_identifier",
                    "global_cluster_identifier",
                    *ENGINE_MANAGED,
                ],
            ),
        )
        self.instances = [
            aws.rds.ClusterInstance(
                f"{name}-{i}",
                identifier=f"{name}-{i}",
                cluster_identifier=self.cluster.id,
                engine=ENGINE,
                engine_version=db.engine_version,
                instance_class=db.instance_class,
                db_subnet_group_name=subnet_group.name,
                publicly_accessible=False,
                performance_insights_enabled=True,
                performance_insights_kms_key_id=args.kms_key_arn,
                auto_minor_version_upgrade=True,
                promotion_tier=i,
                opts=child(self, ignore_changes=list(ENGINE_MANAGED)),
            )
            for i in range(args.instances)
        ]
        self.endpoint = self.cluster.endpoint
        self.cluster_identifier = self.cluster.cluster_identifier
        self.register_outputs({"endpoint": self.endpoint})


def global_cluster(
    name: str, settings: DatabaseConfig, opts: pulumi.ResourceOptions
) -> aws.rds.GlobalCluster:
    """The global cluster that ties the regional clusters together (declared under the primary's provider)."""
    return aws.rds.GlobalCluster(
        name,
        global_cluster_identifier=name,
        engine=ENGINE,
        engine_version=settings.engine_version,
        database_name=settings.database_name,
        storage_encrypted=True,
        deletion_protection=settings.deletion_protection,
        force_destroy=False,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(ignore_changes=list(ENGINE_MANAGED))),
    )
