"""The whole deployment, built from a validated StackConfig: the seam between Pulumi config and resources.

`__main__.py` reads Pulumi config into a StackConfig and calls `build_stack`; the tests call `build_stack` the
same way under mocks. Everything regional is declared under an explicit provider for that region; nothing uses
the default provider (the stack files disable it)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.admin_path import (
    InternalAdminPath,
    InternalAdminPathArgs,
    admin_hostname,
    admin_url,
    admit,
    admit_operators,
)
from infra.components.audit import REPLICATION_RULE, AuditArchive, AuditArchiveArgs
from infra.components.database import AuroraCluster, AuroraClusterArgs, global_cluster
from infra.components.dns import Certificate, CertificateArgs, DnsTarget, FailoverDns, FailoverDnsArgs
from infra.components.edge import EdgeProtection, EdgeProtectionArgs
from infra.components.images import (
    Registry,
    RegistryArgs,
    ecr_repository_arn,
    image_build_provider,
    needs_registry,
    resolve_image,
)
from infra.components.keycloak_service import KeycloakService, KeycloakServiceArgs
from infra.components.keys import StackKey, StackKeyArgs
from infra.components.monitoring import (
    ROUTE53_METRICS_REGION,
    Alarms,
    AlarmsArgs,
    AuditSignals,
    HealthCheckAlarms,
    HealthCheckAlarmsArgs,
)
from infra.components.network import Network, NetworkArgs
from infra.components.operator_access import TRAIL_PREFIX, OperatorAccess, OperatorAccessArgs
from infra.components.reminders import RemindersJob, RemindersJobArgs, ledger_uri
from infra.components.secrets import (
    ReplicatedSecret,
    ReplicatedSecretArgs,
    SesSmtpLogin,
    SesSmtpLoginArgs,
    operator_secret_name,
    realm_admin_secret_name,
    rp_secret_prefix,
    smtp_secret_name,
)
from infra.config import PROJECT, RegionConfig, StackConfig, StackSecrets

MASTER_SECRET_PURPOSE = "aurora-master"


@dataclass(frozen=True)
class RegionalDeployment:
    """What a region contributes to the stack outputs and to the cross-region wiring."""

    config: RegionConfig
    role: str
    provider: aws.Provider
    service: KeycloakService
    database: AuroraCluster
    audit: AuditArchive
    admin_path: InternalAdminPath


def regional_provider(config: StackConfig, region: RegionConfig, role: str) -> aws.Provider:
    """The only way resources reach a region: one explicit provider per region, tagging all it creates."""
    return aws.Provider(
        region.label,
        region=region.region,
        default_tags={
            "tags": {
                "project": PROJECT,
                "environment": config.environment,
                "region-role": role,
                "managed-by": "pulumi",
            }
        },
    )


def route53_metrics_provider(config: StackConfig) -> aws.Provider:
    """us-east-1, for the Route 53 health-check alarms only: Route 53 publishes its metrics there alone."""
    return aws.Provider(
        "route53-metrics",
        region=ROUTE53_METRICS_REGION,
        default_tags={
            "tags": {
                "project": PROJECT,
                "environment": config.environment,
                "region-role": "route53-metrics",
                "managed-by": "pulumi",
            }
        },
    )


def build_stack(config: StackConfig, secrets: StackSecrets) -> dict[str, pulumi.Output[object]]:
    """Declare every resource of the stack; returns the values to export."""
    env = config.environment
    prefix = f"bizid-{env}"
    roles = {config.primary.region: "primary"}
    if config.standby is not None:
        roles[config.standby.region] = "standby"
    providers = {r.region: regional_provider(config, r, roles[r.region]) for r in config.regions}
    primary = config.primary
    on = {region: pulumi.ResourceOptions(provider=provider) for region, provider in providers.items()}

    # Keys: the multi-region primary in Tokyo, its replica in Osaka.
    keys = {
        primary.region: StackKey(
            f"{prefix}-{primary.label}", StackKeyArgs(primary.region, f"{prefix} data"), on[primary.region]
        )
    }
    if config.standby is not None:
        keys[config.standby.region] = StackKey(
            f"{prefix}-{config.standby.label}",
            StackKeyArgs(config.standby.region, f"{prefix} data", primary_key_arn=keys[primary.region].arn),
            on[config.standby.region],
        )
    replicas: dict[str, pulumi.Input[str]] = {
        r.region: keys[r.region].arn for r in config.regions if r is not primary
    }

    def secret(
        name: str, description: str, username: str, password: pulumi.Output[str], purpose: str | None = None
    ) -> ReplicatedSecret:
        document: pulumi.Output[str] = pulumi.Output.json_dumps({"username": username, "password": password})
        value: pulumi.Output[str] = pulumi.Output.secret(document)
        return ReplicatedSecret(
            f"{prefix}-{name}",
            ReplicatedSecretArgs(
                description, value, primary.region, keys[primary.region].arn, replicas, purpose=purpose
            ),
            on[primary.region],
        )

    # Operators only (the one-time grant step, docs/infra.md): no task and no role of the stack reads it.
    secret(
        "db-master",
        "Aurora master user: operators only (creates Keycloak's database user once)",
        config.database.master_username,
        secrets.db_master_password,
        purpose=MASTER_SECRET_PURPOSE,
    )
    db_secret = secret(
        "kc-db",
        "Keycloak's own database user (owner of the public schema, no other rights)",
        config.database.keycloak_username,
        secrets.keycloak_db_password,
        purpose="keycloak-db",
    )
    admin_secret = secret(
        "kc-admin", "Keycloak bootstrap administrator", "bootstrap-admin", secrets.keycloak_admin_password
    )
    opa_secret = secret(
        "opa-token",
        "Bearer token of Keycloak at its OPA sidecar (decisions only)",
        "keycloak",
        secrets.opa_token,
    )
    # The realm's mail (verification, notifications): an SES SMTP login in the primary region.
    smtp_login = SesSmtpLogin(
        f"{prefix}-ses-smtp",
        SesSmtpLoginArgs(
            primary.region,
            config.dns.zone_name,
            keys[primary.region].arn,
            replicas,
            secret_name=smtp_secret_name(env),
        ),
        on[primary.region],
    )

    # The realm reconciler's service-account secret: created empty, written by `bizid realm bootstrap`
    # (docs/infra.md, "Day one"); a fixed name, exported, that realm/definitions/targets/<env>.yaml names.
    realm_admin_secret = ReplicatedSecret(
        f"{prefix}-realm-admin",
        ReplicatedSecretArgs(
            "bizid realm reconciler: secret of the service-account client bizid-realm-admin (master realm)",
            None,
            primary.region,
            keys[primary.region].arn,
            replicas,
            secret_name=realm_admin_secret_name(env),
            recovery_window_days=30 if config.is_prod else 0,
        ),
        on[primary.region],
    )
    # The lifecycle commands' operator account (realm/operator_account.py): like the reconciler's, created
    # empty, written by `bizid realm bootstrap`; a separate secret: neither login can do the other's work.
    operator_secret = ReplicatedSecret(
        f"{prefix}-operator",
        ReplicatedSecretArgs(
            "bizid operators: secret of the service-account client bizid-operator (master realm)",
            None,
            primary.region,
            keys[primary.region].arn,
            replicas,
            secret_name=operator_secret_name(env),
            recovery_window_days=30 if config.is_prod else 0,
        ),
        on[primary.region],
    )

    # Images: pinned from config, or built once and pushed to every region's registry.
    image_sources = {
        "keycloak": config.keycloak.image,
        "opa": config.keycloak.opa_image,
        "ops": config.reminders.image,  # the scheduled jobs' image (bizid CLI): infra/images/ops
    }
    region_names = [r.region for r in config.regions]
    registries: dict[str, Registry] = (
        {
            r.region: Registry(
                f"{prefix}-{r.label}-registry",
                RegistryArgs(tuple(image_sources), keys[r.region].arn, env),
                on[r.region],
            )
            for r in config.regions
        }
        if needs_registry(image_sources)
        else {}
    )
    build_opts = pulumi.ResourceOptions(provider=image_build_provider()) if registries else on[primary.region]
    images = {
        repo: resolve_image(f"{prefix}-{repo}-image", repo, source, region_names, registries, env, build_opts)
        for repo, source in image_sources.items()
    }

    def pull_arns(region: str, repos: tuple[str, ...] = ("keycloak", "opa")) -> list[pulumi.Input[str]]:
        """The ECR repositories a task of a region pulls from: the stack's own, or those of pinned URIs."""
        arns: list[pulumi.Input[str]] = []
        for repo, source in image_sources.items():
            if repo not in repos:
                continue
            if source.uri is None:
                arns.append(registries[region].arns[repo])
            elif (arn := ecr_repository_arn(source.uri)) is not None:
                arns.append(arn)
        return arns

    zone = aws.route53.get_zone_output(
        name=config.dns.zone_name,
        private_zone=False,
        opts=pulumi.InvokeOutputOptions(provider=providers[primary.region]),
    )
    glob = global_cluster(f"{prefix}-global", config.database, on[primary.region])

    deployments: list[RegionalDeployment] = []
    reminders: RemindersJob | None = None
    validation_fqdns: list[pulumi.Output[str]] | None = None
    admin_validation_fqdns: list[pulumi.Output[str]] | None = None
    for region in config.regions:
        role = roles[region.region]
        label = f"{prefix}-{region.label}"
        key = keys[region.region]
        opts = on[region.region]
        network = Network(
            label,
            NetworkArgs(
                cidr=region.vpc_cidr,
                availability_zones=region.availability_zones,
                nat_gateways=region.nat_gateways,
                flow_log_kms_key_arn=key.arn,
                flow_log_retention_days=config.audit.log_retention_days,
                region=region.region,
            ),
            opts,
        )
        audit = AuditArchive(
            f"{label}-audit",
            AuditArchiveArgs(
                environment=env,
                region=region.region,
                kms_key_arn=key.arn,
                object_lock_days=config.audit.object_lock_days,
                log_retention_days=config.audit.log_retention_days,
                force_destroy=not config.is_prod,
            ),
            opts,
        )
        is_primary = role == "primary"
        database = AuroraCluster(
            f"{label}-db",
            AuroraClusterArgs(
                settings=config.database,
                global_cluster_id=glob.id,
                kms_key_arn=key.arn,
                subnet_ids=network.data_subnet_ids,
                security_group_id=network.db_security_group_id,
                instances=region.database_instances,
                master_password=secrets.db_master_password if is_primary else None,
                log_retention_days=config.audit.log_retention_days,
                depends_on=[] if is_primary else deployments[0].database.instances,
            ),
            opts,
        )
        certificate = Certificate(
            f"{label}-tls",
            CertificateArgs(config.dns.hostname, zone.zone_id, validation_fqdns),
            opts,
        )
        validation_fqdns = certificate.validation_fqdns
        # The internal admin path (admin_path.py): its own name and certificate, validated in the public zone
        # like the public name's (the same record for every region).
        admin_certificate = Certificate(
            f"{label}-admin-tls",
            CertificateArgs(admin_hostname(config.dns.hostname), zone.zone_id, admin_validation_fqdns),
            opts,
        )
        admin_validation_fqdns = admin_certificate.validation_fqdns
        admin_path = InternalAdminPath(
            f"{label}-admin",
            InternalAdminPathArgs(
                region=region.region,
                hostname=config.dns.hostname,
                realm=config.keycloak.realm,
                vpc_id=network.vpc_id,
                subnet_ids=network.app_subnet_ids,
                security_group_id=network.admin_alb_security_group_id,
                certificate_arn=admin_certificate.arn,
                short_name=label,
                deletion_protection=config.is_prod,
            ),
            opts,
        )
        if region.operator_prefix_list is not None:
            admit_operators(
                f"{label}-admin-from-operators",
                network.admin_alb_security_group_id,
                region.operator_prefix_list,
                opts,
            )
        service = KeycloakService(
            f"{label}-keycloak",
            KeycloakServiceArgs(
                environment=env,
                region=region.region,
                role=role,
                settings=config.keycloak,
                size=region.keycloak,
                hostname=config.dns.hostname,
                keycloak_image=images["keycloak"][region.region],
                opa_image=images["opa"][region.region],
                vpc_id=network.vpc_id,
                public_subnet_ids=network.public_subnet_ids,
                app_subnet_ids=network.app_subnet_ids,
                alb_security_group_id=network.alb_security_group_id,
                app_security_group_id=network.app_security_group_id,
                certificate_arn=certificate.arn,
                db_endpoint=database.endpoint,
                db_name=config.database.database_name,
                db_secret_arn=db_secret.arn_in(region.region),
                admin_secret_arn=admin_secret.arn_in(region.region),
                opa_secret_arn=opa_secret.arn_in(region.region),
                kms_key_arn=key.arn,
                keycloak_log_group=audit.keycloak_log_group,
                opa_log_group=audit.opa_log_group,
                deletion_protection=config.is_prod,
                short_name=label,
                log_retention_days=config.audit.log_retention_days,
                image_repository_arns=pull_arns(region.region),
                admin_target_group_arn=admin_path.target_group.arn,
                admin_routes=admin_path.forwarding_rules,
            ),
            opts,
        )
        if is_primary:
            # One schedule, in the region that serves: a second one would mail every reminder twice.
            reminders = RemindersJob(
                f"{label}-reminders",
                RemindersJobArgs(
                    environment=env,
                    region=region.region,
                    settings=config.reminders,
                    image=images["ops"][region.region],
                    image_repository_arns=pull_arns(region.region, ("ops",)),
                    cluster_arn=service.cluster.arn,
                    vpc_id=network.vpc_id,
                    app_subnet_ids=network.app_subnet_ids,
                    kms_key_arn=key.arn,
                    ledger_bucket=audit.bucket_name,
                    smtp_secret_arn=smtp_login.arn,
                    log_retention_days=config.audit.log_retention_days,
                ),
                opts,
            )
            # The job's security group is the one client of this region's internal admin ALB.
            admit(
                f"{label}-admin-from-reminders",
                network.admin_alb_security_group_id,
                reminders.security_group.id,
                "bizid notify reminders (scheduled ECS task)",
                opts,
            )
        EdgeProtection(
            f"{label}-waf",
            EdgeProtectionArgs(
                limits=config.edge,
                load_balancer_arn=service.alb.arn,
                kms_key_arn=key.arn,
                log_retention_days=config.audit.log_retention_days,
            ),
            opts,
        )
        Alarms(
            f"{label}-alarms",
            AlarmsArgs(
                thresholds=config.alarms,
                kms_key_id=key.key_id,
                alb_arn_suffix=service.alb.arn_suffix,
                target_group_arn_suffix=service.target_group.arn_suffix,
                keycloak_log_group=audit.keycloak_log_group,
                replica_cluster_identifier=None if is_primary else database.cluster_identifier,
                subscribers=config.alarms.emails,
                audit=AuditSignals(
                    delivery_stream_names=audit.stream_names,
                    landing_bucket=audit.landing_bucket_name,
                    archive_bucket=audit.bucket_name,
                    replication_rule=REPLICATION_RULE,
                ),
            ),
            opts,
        )
        deployments.append(
            RegionalDeployment(region, role, providers[region.region], service, database, audit, admin_path)
        )

    dns = FailoverDns(
        f"{prefix}-dns",
        FailoverDnsArgs(
            zone_id=zone.zone_id,
            hostname=config.dns.hostname,
            health_check_path=config.dns.health_check_path,
            targets=[
                DnsTarget(
                    d.config.label,
                    "PRIMARY" if d.role == "primary" else "SECONDARY",
                    d.service.alb.dns_name,
                    d.service.alb.zone_id,
                )
                for d in deployments
            ],
        ),
        on[primary.region],  # Route 53 is global; its calls go through the primary's provider
    )

    # The health checks' alarms live where Route 53's metrics are, with a key and topic of that region (no
    # data key material leaves Japan: this key encrypts alarm notifications only).
    metrics = pulumi.ResourceOptions(provider=route53_metrics_provider(config))
    metrics_key = StackKey(
        f"{prefix}-route53-metrics",
        StackKeyArgs(ROUTE53_METRICS_REGION, f"{prefix} Route 53 health-check alarm notifications"),
        metrics,
    )
    HealthCheckAlarms(
        f"{prefix}-dns-alarms",
        HealthCheckAlarmsArgs(
            dns.health_check_ids, metrics_key.key_id, config.alarms.emails, dns.standby_labels
        ),
        metrics,
    )

    # What an operator's role needs for `bizid accounts ... --target` (infra/components/operator_access.py).
    operator_access = OperatorAccess(
        f"{prefix}-operator-access",
        OperatorAccessArgs(
            environment=env,
            secret_arns=[operator_secret.arn, smtp_login.arn],
            secrets_key_arn=keys[primary.region].arn,
            secrets_region=primary.region,
            audit_buckets={d.config.region: d.audit.bucket_arn for d in deployments},
            audit_keys={d.config.region: keys[d.config.region].arn for d in deployments},
        ),
        on[primary.region],
    )

    outputs: dict[str, pulumi.Output[object]] = {
        "url": pulumi.Output.from_input(f"https://{config.dns.hostname}"),
        # The target files' admin_url: the internal admin path, resolvable inside the stack's VPCs only.
        "adminUrl": pulumi.Output.from_input(admin_url(config.dns.hostname)),
        "globalClusterId": glob.id,
        # What `bizid realm bootstrap|apply --target <env>` reads (realm/definitions/targets/<env>.yaml).
        "keycloakAdminSecretArn": admin_secret.arn,
        "realmAdminSecretName": realm_admin_secret.name,
        "rpSecretPrefix": pulumi.Output.from_input(rp_secret_prefix(env)),
    }
    for d in deployments:
        outputs[f"{d.config.label}AlbDnsName"] = d.service.alb.dns_name
        outputs[f"{d.config.label}AdminAlbDnsName"] = d.admin_path.alb.dns_name
        outputs[f"{d.config.label}DbEndpoint"] = d.database.endpoint
        outputs[f"{d.config.label}AuditBucket"] = d.audit.bucket_name
        outputs[f"{d.config.label}EcsService"] = pulumi.Output.concat(
            d.service.cluster.name, "/", d.service.service.name
        )
    if reminders is not None:
        outputs["remindersSchedule"] = reminders.schedule.name
        outputs["remindersLedger"] = deployments[0].audit.bucket_name.apply(ledger_uri)
    outputs["smtpSecretArn"] = smtp_login.arn
    outputs["smtpSecretName"] = smtp_login.name
    outputs["operatorSecretName"] = operator_secret.name  # target files: operator_account.secret
    outputs["operatorPolicyArn"] = operator_access.policy_arn  # attach to the operators' role
    outputs["operatorTrailPrefix"] = pulumi.Output.from_input(TRAIL_PREFIX)  # operator_trail.prefix
    return outputs
