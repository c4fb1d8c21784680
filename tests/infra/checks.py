"""Security checks over a captured resource graph that are not yet in Rego; each returns its violations.

Returning violations (instead of asserting) lets the mutation tests prove each check fails when the property
it guards is removed. Everything else - regions and the global database, the WAF, DNS failover, deletion
protection and backups, the audit archive, the alarms and the Keycloak service - is checked once, by the Rego
rules in policies/infra/ (resilience, edge, audit, operations) over the same graph as JSON; encryption and
exposure are checked by both until they move there too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infra.graph import Graph, Resource

Check = Callable[[Graph], list[str]]

TOKYO, OSAKA = "ap-northeast-1", "ap-northeast-3"
ANYWHERE = "0.0.0.0/0"


def _key_arns(graph: Graph, region: str | None) -> set[str]:
    keys = graph.of_type("aws:kms/key:Key") + graph.of_type("aws:kms/replicaKey:ReplicaKey")
    return {str(k.state["arn"]) for k in keys if k.region == region}


def _key_ids(graph: Graph, region: str | None) -> set[str]:
    keys = graph.of_type("aws:kms/key:Key") + graph.of_type("aws:kms/replicaKey:ReplicaKey")
    return {str(k.state["keyId"]) for k in keys if k.region == region}


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


ALL_CHECKS: dict[str, Check] = {
    "encryption": check_encryption,
    "exposure": check_exposure,
}
