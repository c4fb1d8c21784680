"""The security check over a captured resource graph that is not yet in Rego only; it returns its violations.

Everything else - regions and the global database, the WAF, DNS failover, deletion protection and backups,
encryption, the audit archive, the alarms and the Keycloak service - is checked once, by the Rego rules in
policies/infra/ (resilience, encryption, edge, audit, operations) over the same graph as JSON. Exposure is
checked by both (exposure.rego and `check_exposure`) until this one moves there too.
"""

from __future__ import annotations

from collections.abc import Callable

from infra.graph import Graph

Check = Callable[[Graph], list[str]]

TOKYO, OSAKA = "ap-northeast-1", "ap-northeast-3"
ANYWHERE = "0.0.0.0/0"


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
    "exposure": check_exposure,
}
