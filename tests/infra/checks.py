"""Security and resilience checks over a captured resource graph; each returns the violations it finds.

Returning violations (instead of asserting) lets the mutation tests prove each check fails when the property
it guards is removed. The Rego rules in policies/infra/ check the same properties over the same graph as JSON.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from infra.graph import PROVIDER_TYPE, SECRET_MARKER, Graph, Resource

Check = Callable[[Graph], list[str]]

TOKYO, OSAKA = "ap-northeast-1", "ap-northeast-3"
ANYWHERE = "0.0.0.0/0"


def _key_arns(graph: Graph, region: str | None) -> set[str]:
    keys = graph.of_type("aws:kms/key:Key") + graph.of_type("aws:kms/replicaKey:ReplicaKey")
    return {str(k.state["arn"]) for k in keys if k.region == region}


def _key_ids(graph: Graph, region: str | None) -> set[str]:
    keys = graph.of_type("aws:kms/key:Key") + graph.of_type("aws:kms/replicaKey:ReplicaKey")
    return {str(k.state["keyId"]) for k in keys if k.region == region}


def _by_attr(graph: Graph, typ: str, attr: str) -> dict[Any, Resource]:
    return {r.state.get(attr): r for r in graph.of_type(typ)}


def check_regions(graph: Graph) -> list[str]:
    """Both regions in two-region stacks, every AWS resource under an explicit regional provider."""
    problems = []
    expected = [TOKYO] if graph.environment == "dev" else [TOKYO, OSAKA]
    providers = {p.state.get("region") for p in graph.of_type(PROVIDER_TYPE)}
    if providers != set(expected):
        problems.append(f"regional providers {sorted(map(str, providers))}, expected {expected}")
    for resource in graph.cloud_resources():
        if not resource.type.startswith("aws:"):
            continue
        if resource.provider is None or "::pulumi:providers:aws::default" in resource.provider:
            problems.append(f"{resource.name}: declared under the default provider")
        elif resource.region not in expected:
            problems.append(f"{resource.name}: region {resource.region} not in {expected}")
    for region in expected:
        if not any(r.region == region for r in graph.cloud_resources()):
            problems.append(f"no resources in {region}")
    globals_ = graph.of_type("aws:rds/globalCluster:GlobalCluster")
    if len(globals_) != 1:
        return [*problems, f"{len(globals_)} global clusters, expected 1"]
    glob = globals_[0]
    if glob.region != TOKYO:
        problems.append("global cluster not declared under the Tokyo provider")
    members = [
        c
        for c in graph.of_type("aws:rds/cluster:Cluster")
        if c.inputs.get("globalClusterIdentifier") == glob.state["id"]
    ]
    writers = [c for c in members if c.region == TOKYO and c.inputs.get("masterPassword") == SECRET_MARKER]
    if len(writers) != 1:
        problems.append("global cluster lacks the Tokyo primary (with its secret master password)")
    if graph.environment != "dev":
        secondaries = [c for c in members if c.region == OSAKA and c.inputs.get("masterPassword") is None]
        if len(secondaries) != 1:
            problems.append("global cluster lacks the Osaka secondary")
        elif not any(
            i.inputs.get("clusterIdentifier") == secondaries[0].state["id"]
            for i in graph.of_type("aws:rds/clusterInstance:ClusterInstance")
        ):
            problems.append("Osaka secondary has no instance to promote")
    for region in expected:
        if not any(s.region == region for s in graph.of_type("aws:ecs/service:Service")):
            problems.append(f"no Keycloak service in {region}")
    return problems


def check_encryption(graph: Graph) -> list[str]:
    """Every data store encrypted with the stack's own KMS key of its region."""
    problems = []

    def keyed(resource: Resource, value: Any, what: str) -> None:
        if value not in _key_arns(graph, resource.region):
            problems.append(f"{resource.name}: {what} not encrypted with the stack key of {resource.region}")

    for glob in graph.of_type("aws:rds/globalCluster:GlobalCluster"):
        if glob.inputs.get("storageEncrypted") is not True:
            problems.append(f"{glob.name}: global cluster storage not encrypted")
    for cluster in graph.of_type("aws:rds/cluster:Cluster"):
        if cluster.inputs.get("storageEncrypted") is not True:
            problems.append(f"{cluster.name}: storage not encrypted")
        keyed(cluster, cluster.inputs.get("kmsKeyId"), "storage")
    for instance in graph.of_type("aws:rds/clusterInstance:ClusterInstance"):
        keyed(instance, instance.inputs.get("performanceInsightsKmsKeyId"), "performance insights")
    sse = {
        c.inputs.get("bucket"): c
        for c in graph.of_type(
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
        )
    }
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        config = sse.get(bucket.state["id"])
        rule = (config.inputs.get("rules") or [{}])[0] if config else {}
        default = rule.get("applyServerSideEncryptionByDefault", {})
        if default.get("sseAlgorithm") != "aws:kms":
            problems.append(f"{bucket.name}: no default KMS encryption")
        else:
            keyed(bucket, default.get("kmsMasterKeyId"), "objects")
    for group in graph.of_type("aws:cloudwatch/logGroup:LogGroup"):
        keyed(group, group.inputs.get("kmsKeyId"), "log group")
    for secret in graph.of_type("aws:secretsmanager/secret:Secret"):
        keyed(secret, secret.inputs.get("kmsKeyId"), "secret")
        for replica in secret.inputs.get("replicas") or []:
            if replica.get("kmsKeyId") not in _key_arns(graph, replica.get("region")):
                problems.append(f"{secret.name}: replica in {replica.get('region')} not on the stack key")
    for topic in graph.of_type("aws:sns/topic:Topic"):
        if topic.inputs.get("kmsMasterKeyId") not in _key_ids(graph, topic.region):
            problems.append(f"{topic.name}: topic not encrypted with the stack key")
    for stream in graph.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        sse_cfg = stream.inputs.get("serverSideEncryption") or {}
        if not sse_cfg.get("enabled"):
            problems.append(f"{stream.name}: stream not encrypted")
        keyed(stream, sse_cfg.get("keyArn"), "stream")
    for repo in graph.of_type("aws:ecr/repository:Repository"):
        configs = repo.inputs.get("encryptionConfigurations") or [{}]
        keyed(repo, configs[0].get("kmsKey"), "images")
    for key in graph.of_type("aws:kms/key:Key"):
        if not key.inputs.get("enableKeyRotation") or not key.inputs.get("multiRegion"):
            problems.append(f"{key.name}: key must be multi-region with rotation")
    return problems


def check_exposure(graph: Graph) -> list[str]:
    """Nothing that holds data is reachable from the internet; only the ALB answers, on 443, modern TLS."""
    problems = []
    alb_sgs = {
        sg
        for lb in graph.of_type("aws:lb/loadBalancer:LoadBalancer")
        for sg in lb.inputs.get("securityGroups", [])
    }
    for sg in graph.of_type("aws:ec2/securityGroup:SecurityGroup"):
        for rule in sg.inputs.get("ingress") or []:
            if ANYWHERE in (rule.get("cidrBlocks") or []) and not (
                sg.state["id"] in alb_sgs and rule.get("fromPort") == 443 and rule.get("toPort") == 443
            ):
                problems.append(
                    f"{sg.name}: open to the internet on {rule.get('fromPort')}-{rule.get('toPort')}"
                )
    db_sgs = {
        sg for c in graph.of_type("aws:rds/cluster:Cluster") for sg in c.inputs.get("vpcSecurityGroupIds", [])
    }
    for sg in graph.of_type("aws:ec2/securityGroup:SecurityGroup"):
        if sg.state["id"] in db_sgs:
            for rule in sg.inputs.get("ingress") or []:
                if rule.get("cidrBlocks") or not rule.get("securityGroups"):
                    problems.append(
                        f"{sg.name}: database reachable from addresses, not only from the app tier"
                    )
    for cluster in graph.of_type("aws:rds/cluster:Cluster"):
        if cluster.inputs.get("publiclyAccessible"):
            problems.append(f"{cluster.name}: publicly accessible")
    for instance in graph.of_type("aws:rds/clusterInstance:ClusterInstance"):
        if instance.inputs.get("publiclyAccessible") is not False:
            problems.append(f"{instance.name}: publicly accessible")
    for subnet in graph.of_type("aws:ec2/subnet:Subnet"):
        if subnet.inputs.get("mapPublicIpOnLaunch"):
            problems.append(f"{subnet.name}: gives public addresses")
    for service in graph.of_type("aws:ecs/service:Service"):
        if (service.inputs.get("networkConfiguration") or {}).get("assignPublicIp") is not False:
            problems.append(f"{service.name}: tasks get public addresses")
    for listener in graph.of_type("aws:lb/listener:Listener"):
        if listener.inputs.get("port") != 443 or listener.inputs.get("protocol") != "HTTPS":
            problems.append(f"{listener.name}: listener is not HTTPS on 443")
        if not str(listener.inputs.get("sslPolicy", "")).startswith("ELBSecurityPolicy-TLS13-"):
            problems.append(
                f"{listener.name}: TLS policy {listener.inputs.get('sslPolicy')} is not a TLS 1.3 policy"
            )
    for group in graph.of_type("aws:lb/targetGroup:TargetGroup"):
        check = group.inputs.get("healthCheck") or {}
        if check.get("port") != "9000" or check.get("protocol") != "HTTPS":
            problems.append(f"{group.name}: health check not on the management port over HTTPS")
        if group.inputs.get("port") == 9000:
            problems.append(f"{group.name}: routes traffic to the management port")
    for block in graph.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"):
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if not all(block.inputs.get(flag) is True for flag in flags):
            problems.append(f"{block.name}: public access not fully blocked")
    blocked = {
        b.inputs.get("bucket")
        for b in graph.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    }
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        if bucket.state["id"] not in blocked:
            problems.append(f"{bucket.name}: no public access block")
    return problems


def check_deletion_protection(graph: Graph) -> list[str]:
    """In prod, the database and the load balancers cannot be deleted by a stray `pulumi destroy`."""
    if graph.environment != "prod":
        return []
    problems = []
    for typ in ("aws:rds/globalCluster:GlobalCluster", "aws:rds/cluster:Cluster"):
        for resource in graph.of_type(typ):
            if resource.inputs.get("deletionProtection") is not True:
                problems.append(f"{resource.name}: deletion protection off")
    for lb in graph.of_type("aws:lb/loadBalancer:LoadBalancer"):
        if lb.inputs.get("enableDeletionProtection") is not True:
            problems.append(f"{lb.name}: deletion protection off")
    for cluster in graph.of_type("aws:rds/cluster:Cluster"):
        if cluster.inputs.get("backupRetentionPeriod", 0) < 7:
            problems.append(f"{cluster.name}: backups kept under 7 days")
    return problems


def _statement_paths(statement: dict[str, Any]) -> list[str]:
    """Search strings of the URI byte matches in a (possibly OR-combined) statement."""
    if "orStatement" in statement:
        return [p for s in statement["orStatement"]["statements"] for p in _statement_paths(s)]
    match = statement.get("byteMatchStatement")
    return [match["searchString"]] if match and "uriPath" in match.get("fieldToMatch", {}) else []


def check_edge(graph: Graph) -> list[str]:
    """Every ALB has a web ACL in its region with login/token rate rules, admin blocking and managed rules."""
    problems = []
    acls = _by_attr(graph, "aws:wafv2/webAcl:WebAcl", "arn")
    associations = {
        a.inputs.get("resourceArn"): a for a in graph.of_type("aws:wafv2/webAclAssociation:WebAclAssociation")
    }
    for lb in graph.of_type("aws:lb/loadBalancer:LoadBalancer"):
        association = associations.get(lb.state["arn"])
        acl = acls.get(association.inputs.get("webAclArn")) if association else None
        if acl is None:
            problems.append(f"{lb.name}: no WAF web ACL associated")
            continue
        if acl.region != lb.region or acl.inputs.get("scope") != "REGIONAL":
            problems.append(f"{lb.name}: web ACL not regional in {lb.region}")
        rules = acl.inputs.get("rules") or []
        rate_paths = [
            p
            for r in rules
            if "rateBasedStatement" in r["statement"] and "block" in (r.get("action") or {})
            for p in _statement_paths(r["statement"]["rateBasedStatement"].get("scopeDownStatement", {}))
        ]
        for needed in ("/protocol/openid-connect/auth", "/protocol/openid-connect/token"):
            if needed not in rate_paths:
                problems.append(f"{lb.name}: no blocking rate rule on {needed}")
        blocked = [
            p
            for r in rules
            if "block" in (r.get("action") or {}) and "rateBasedStatement" not in r["statement"]
            for p in _statement_paths(r["statement"])
        ]
        if "/admin" not in blocked:
            problems.append(f"{lb.name}: admin console not blocked")
        managed = {
            r["statement"]["managedRuleGroupStatement"]["name"]
            for r in rules
            if "managedRuleGroupStatement" in r["statement"]
        }
        if "AWSManagedRulesCommonRuleSet" not in managed:
            problems.append(f"{lb.name}: no AWS managed common rule set")
    return problems


def check_dns(graph: Graph) -> list[str]:
    """Failover records in both regions, each pointing at a region's ALB and carrying a health check on it."""
    problems = []
    albs = {lb.state["dnsName"]: lb for lb in graph.of_type("aws:lb/loadBalancer:LoadBalancer")}
    checks = {hc.state["id"]: hc for hc in graph.of_type("aws:route53/healthCheck:HealthCheck")}
    records = [r for r in graph.of_type("aws:route53/record:Record") if r.inputs.get("type") == "A"]
    if graph.environment == "dev":
        return [] if len(records) == 1 else ["dev needs exactly one A record"]
    seen: dict[str, str] = {}
    for record in records:
        policy = (record.inputs.get("failoverRoutingPolicies") or [{}])[0].get("type")
        alias = (record.inputs.get("aliases") or [{}])[0]
        alb = albs.get(alias.get("name"))
        check = checks.get(record.inputs.get("healthCheckId"))
        if alb is None or policy not in ("PRIMARY", "SECONDARY"):
            problems.append(f"{record.name}: not a failover alias to an ALB")
            continue
        if (
            check is None
            or check.inputs.get("fqdn") != alb.state["dnsName"]
            or check.inputs.get("type") != "HTTPS"
        ):
            problems.append(f"{record.name}: no HTTPS health check on its ALB")
        seen[policy] = str(alb.region)
    if seen != {"PRIMARY": TOKYO, "SECONDARY": OSAKA}:
        problems.append(f"failover records {seen}, expected PRIMARY in Tokyo and SECONDARY in Osaka")
    return problems


def check_audit(graph: Graph) -> list[str]:
    """Each region archives Keycloak events and OPA decisions in a bucket under compliance Object Lock."""
    problems = []
    locks = {
        c.inputs.get("bucket"): c
        for c in graph.of_type("aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration")
    }
    versioning = {
        v.inputs.get("bucket"): v for v in graph.of_type("aws:s3/bucketVersioning:BucketVersioning")
    }
    streams = graph.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    for region in graph.regions:
        buckets = [b for b in graph.of_type("aws:s3/bucket:Bucket") if b.region == region]
        if not buckets:
            problems.append(f"no audit bucket in {region}")
        for bucket in buckets:
            lock = locks.get(bucket.state["id"])
            retention = ((lock.inputs.get("rule") or {}).get("defaultRetention") or {}) if lock else {}
            if (
                bucket.inputs.get("objectLockEnabled") is not True
                or retention.get("mode") != "COMPLIANCE"
                or not retention.get("days")
            ):
                problems.append(f"{bucket.name}: no compliance-mode Object Lock")
            status = (
                versioning.get(bucket.state["id"]) or Resource("", "", "", True, None, None, {}, {})
            ).inputs
            if (status.get("versioningConfiguration") or {}).get("status") != "Enabled":
                problems.append(f"{bucket.name}: versioning not enabled")
            prefixes = {
                str((s.inputs.get("extendedS3Configuration") or {}).get("prefix", "")).split("/")[0]
                for s in streams
                if (s.inputs.get("extendedS3Configuration") or {}).get("bucketArn") == bucket.state["arn"]
            }
            if not {"keycloak-events", "opa-decisions"} <= prefixes:
                problems.append(f"{bucket.name}: Keycloak events and OPA decisions are not both shipped here")
    return problems


def check_alarms(graph: Graph) -> list[str]:
    """5xx, failed-login, unhealthy-host and (two regions) replication-lag alarms notify an SNS topic."""
    problems = []
    topics = {t.state["arn"] for t in graph.of_type("aws:sns/topic:Topic")}
    alarms = graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    for alarm in alarms:
        if not set(alarm.inputs.get("alarmActions") or []) & topics:
            problems.append(f"{alarm.name}: notifies nobody")
    metrics = {(a.region, a.inputs.get("metricName")) for a in alarms}
    for region in graph.regions:
        for metric in (
            "HTTPCode_ELB_5XX_Count",
            "HTTPCode_Target_5XX_Count",
            "UnHealthyHostCount",
            "FailedLogins",
        ):
            if (region, metric) not in metrics:
                problems.append(f"no {metric} alarm in {region}")
    if graph.environment != "dev" and (OSAKA, "AuroraGlobalDBReplicationLag") not in metrics:
        problems.append("no replication lag alarm on the Osaka secondary")
    return problems


def check_service(graph: Graph) -> list[str]:
    """Keycloak tasks: circuit breaker, CPU autoscaling, OPA sidecar, secrets only from Secrets Manager."""
    problems = []
    for service in graph.of_type("aws:ecs/service:Service"):
        breaker = service.inputs.get("deploymentCircuitBreaker") or {}
        if not (breaker.get("enable") and breaker.get("rollback")):
            problems.append(f"{service.name}: no deployment circuit breaker with rollback")
    policies = graph.of_type("aws:appautoscaling/policy:Policy")
    for region in graph.regions:
        if not any(
            p.region == region
            and p.inputs["targetTrackingScalingPolicyConfiguration"]["predefinedMetricSpecification"][
                "predefinedMetricType"
            ]
            == "ECSServiceAverageCPUUtilization"
            for p in policies
        ):
            problems.append(f"no CPU autoscaling in {region}")
    for task in graph.of_type("aws:ecs/taskDefinition:TaskDefinition"):
        containers = {c["name"]: c for c in json.loads(task.inputs["containerDefinitions"])}
        if set(containers) != {"keycloak", "opa"}:
            problems.append(f"{task.name}: containers {sorted(containers)}, expected keycloak and opa")
            continue
        for container in containers.values():
            for variable in container.get("environment", []):
                if "PASSWORD" in variable["name"] or "SECRET" in variable["name"]:
                    problems.append(f"{task.name}: {variable['name']} passed as plain environment")
        secret_names = {s["name"] for s in containers["keycloak"].get("secrets", [])}
        if not {"KC_DB_PASSWORD", "KC_BOOTSTRAP_ADMIN_PASSWORD"} <= secret_names:
            problems.append(f"{task.name}: passwords not taken from Secrets Manager")
        if any(
            str(s["valueFrom"]).split(":")[3] != task.region
            for c in containers.values()
            for s in c.get("secrets", [])
        ):
            problems.append(f"{task.name}: reads secrets from another region")
        problems += _opa_sidecar_problems(task.name, containers["keycloak"], containers["opa"])
    return problems


OPA_TOKEN = "BIZID_OPA_TOKEN"


def _opa_sidecar_problems(task: str, keycloak: dict[str, Any], opa: dict[str, Any]) -> list[str]:
    """OPA's REST API is shared by every container of the task: it must demand a token and apply system.authz,
    and Keycloak and OPA must both get that token from the same Secrets Manager secret, never as plain env."""
    problems = []
    command = opa.get("command") or []
    for flag in ("--authentication=token", "--authorization=basic"):
        if flag not in command:
            problems.append(
                f"{task}: the OPA sidecar runs without {flag} (any process in the task could write)"
            )
    sources = {}
    for name, container in (("keycloak", keycloak), ("opa", opa)):
        found = [s["valueFrom"] for s in container.get("secrets", []) if s["name"] == OPA_TOKEN]
        if not found:
            problems.append(f"{task}: {name} gets no {OPA_TOKEN} from Secrets Manager")
        else:
            sources[name] = found[0]
        if any(v["name"] == OPA_TOKEN for v in container.get("environment", [])):
            problems.append(f"{task}: {name} gets {OPA_TOKEN} as plain environment")
    if len(sources) == 2 and sources["keycloak"] != sources["opa"]:
        problems.append(f"{task}: Keycloak and OPA read {OPA_TOKEN} from different secrets")
    return problems


ALL_CHECKS: dict[str, Check] = {
    "regions": check_regions,
    "encryption": check_encryption,
    "exposure": check_exposure,
    "deletion_protection": check_deletion_protection,
    "edge": check_edge,
    "dns": check_dns,
    "audit": check_audit,
    "alarms": check_alarms,
    "service": check_service,
}
