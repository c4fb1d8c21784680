"""The real Pulumi program, run per stack under mocks: assertions over the whole resource graph."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from infra.components.monitoring import ROUTE53_METRICS_REGION
from infra.config import STACKS, load_stack_config
from infra.graph import PROVIDER_TYPE
from tests.infra.conftest import OSAKA, TOKYO, graph_of, keycloak_tasks
from tests.infra.test_policies import rego_deny


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_validate(stack: str) -> None:
    config = load_stack_config(stack)
    assert config.environment == stack
    assert [r.region for r in config.regions] == ([TOKYO] if stack == "dev" else [TOKYO, OSAKA])


def test_two_region_stacks_deploy_both_regions() -> None:
    # us-east-1 holds the Route 53 health-check alarms only (Route 53's metrics live there alone).
    for stack in ("staging", "prod"):
        graph = graph_of(stack)
        regions = {r.region for r in graph.cloud_resources() if r.type.startswith("aws:")}
        assert regions == {TOKYO, OSAKA, ROUTE53_METRICS_REGION}, stack
        providers = {p.name: p.state["region"] for p in graph.of_type(PROVIDER_TYPE)}
        assert providers == {"tokyo": TOKYO, "osaka": OSAKA, "route53-metrics": ROUTE53_METRICS_REGION}
    dev = {r.region for r in graph_of("dev").cloud_resources() if r.type.startswith("aws:")}
    assert dev == {TOKYO, ROUTE53_METRICS_REGION}


@pytest.mark.parametrize("stack", STACKS)
def test_every_health_check_alarms_to_a_us_east_1_topic(stack: str) -> None:
    """Tokyo's check alarms on its own; Osaka's (on standby, failing by design) only in the "no site passes"
    alarm, MAX over every check, so it does not stay in alarm while Osaka stands by."""
    graph = graph_of(stack)
    checks = {
        c.name.rsplit("-", 2)[-2]: c.state["id"] for c in graph.of_type("aws:route53/healthCheck:HealthCheck")
    }
    assert set(checks) == ({"tokyo"} if stack == "dev" else {"tokyo", "osaka"})
    topics = {t.state["arn"]: t for t in graph.of_type("aws:sns/topic:Topic")}
    route53 = [
        a
        for a in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.inputs.get("namespace") == "AWS/Route53"
        or any(
            q.get("metric", {}).get("namespace") == "AWS/Route53" for q in a.inputs.get("metricQueries", [])
        )
    ]
    own = {a.inputs["dimensions"]["HealthCheckId"]: a for a in route53 if "dimensions" in a.inputs}
    assert set(own) == {checks["tokyo"]}
    assert (own[checks["tokyo"]].inputs["metricName"], own[checks["tokyo"]].inputs["statistic"]) == (
        "HealthCheckStatus",
        "Minimum",
    )
    math = [a for a in route53 if "metricQueries" in a.inputs]
    if stack == "dev":
        assert math == []
    else:
        (none_healthy,) = math
        queries = none_healthy.inputs["metricQueries"]
        watched = {q["id"]: q["metric"]["dimensions"]["HealthCheckId"] for q in queries if "metric" in q}
        assert set(watched.values()) == set(checks.values())
        (expression,) = [q for q in queries if q.get("returnData")]
        assert expression["expression"] == f"MAX([{', '.join(sorted(watched))}])"
    for alarm in route53:
        assert alarm.region == ROUTE53_METRICS_REGION
        assert (alarm.inputs["comparisonOperator"], alarm.inputs["threshold"]) == ("LessThanThreshold", 1)
        assert alarm.inputs["treatMissingData"] == "breaching"
        (action,) = alarm.inputs["alarmActions"]
        assert topics[action].region == ROUTE53_METRICS_REGION
        assert topics[action].inputs["kmsMasterKeyId"]


def test_global_cluster_has_tokyo_primary_and_osaka_secondary() -> None:
    graph = graph_of("prod")
    (glob,) = graph.of_type("aws:rds/globalCluster:GlobalCluster")
    members = {c.region: c for c in graph.of_type("aws:rds/cluster:Cluster")}
    assert {c.inputs["globalClusterIdentifier"] for c in members.values()} == {glob.state["id"]}
    assert members[TOKYO].inputs["masterUsername"] == "bizid_master"  # Keycloak has its own user
    assert members[TOKYO].inputs["masterPassword"] == "[secret]"  # a secret all the way to the engine
    assert "masterPassword" not in members[OSAKA].inputs
    assert "manageMasterUserPassword" not in members[TOKYO].inputs  # unsupported for global clusters
    # Osaka joins after Tokyo has its writer instance, with the replica of the multi-region key.
    keys = {
        k.region: k.state
        for k in graph.of_type("aws:kms/key:Key") + graph.of_type("aws:kms/replicaKey:ReplicaKey")
    }
    assert members[OSAKA].inputs["kmsKeyId"] == keys[OSAKA]["arn"]
    assert keys[OSAKA]["keyId"] == keys[TOKYO]["keyId"]  # same multi-region key material


def test_standby_runs_reduced_size_and_primary_full_size() -> None:
    config = load_stack_config("prod")
    assert config.standby is not None
    services = {s.region: s for s in graph_of("prod").of_type("aws:ecs/service:Service")}
    targets = {t.region: t for t in graph_of("prod").of_type("aws:appautoscaling/target:Target")}
    assert services[TOKYO].inputs["desiredCount"] == config.primary.keycloak.desired_count
    assert services[OSAKA].inputs["desiredCount"] == config.standby.keycloak.desired_count
    assert targets[OSAKA].inputs["maxCapacity"] >= config.primary.keycloak.desired_count


def test_keycloak_task_uses_regional_database_secrets_and_images() -> None:
    graph = graph_of("prod")
    endpoints = {c.region: c.state["endpoint"] for c in graph.of_type("aws:rds/cluster:Cluster")}
    for task in keycloak_tasks(graph):
        keycloak, opa = json.loads(task.inputs["containerDefinitions"])
        env = {e["name"]: e["value"] for e in keycloak["environment"]}
        assert endpoints[str(task.region)] in env["KC_DB_URL"]
        assert f".dkr.ecr.{task.region}." in keycloak["image"] and "@sha256:" in keycloak["image"]
        assert f".dkr.ecr.{task.region}." in opa["image"]
        assert {9000, 8443} <= {p["containerPort"] for p in keycloak["portMappings"]}
        assert "--addr=127.0.0.1:8181" in opa["command"]  # the sidecar is reachable from its task only


def test_images_from_config_need_no_build() -> None:
    from infra.config import parse_config, read_stack_file
    from infra.graph import run_program

    raw = read_stack_file("prod")
    pinned = "registry.example.jp/bizid/keycloak@sha256:" + "a" * 64
    raw["keycloak"] = {
        **raw["keycloak"],
        "image": {"uri": pinned},
        "opaImage": {"uri": pinned.replace("keycloak", "opa")},
    }
    raw["reminders"] = {"image": {"uri": pinned.replace("keycloak", "ops")}}
    graph = run_program("prod", parse_config(raw))
    assert graph.of_type("docker-build:index:Image") == []
    assert graph.of_type("aws:ecr/repository:Repository") == []
    images = {json.loads(t.inputs["containerDefinitions"])[0]["image"] for t in keycloak_tasks(graph)}
    assert images == {pinned}


def test_invokes_go_through_regional_providers() -> None:
    for stack in STACKS:
        for invoke in graph_of(stack).invokes:
            assert invoke.region in (TOKYO, OSAKA, ROUTE53_METRICS_REGION), (stack, invoke.token)


def test_outputs_name_both_regions() -> None:
    outputs = graph_of("prod").outputs
    assert outputs["url"] == "https://id.bizid.example.jp"
    for label in ("tokyo", "osaka"):
        assert outputs[f"{label}AlbDnsName"].endswith(".elb.amazonaws.com")
        assert outputs[f"{label}DbEndpoint"].endswith(".rds.amazonaws.com")


def test_dev_is_single_region_and_destroyable() -> None:
    graph = graph_of("dev")
    assert [
        r for r in graph.of_type("aws:route53/record:Record") if r.inputs.get("failoverRoutingPolicies")
    ] == []
    assert all(not c.inputs["deletionProtection"] for c in graph.of_type("aws:rds/cluster:Cluster"))


def test_opa_sidecar_demands_keycloaks_token_from_secrets_manager(opa: Path, tmp_path: Path) -> None:
    from infra.components import keycloak_service
    from policies import opa_server

    # One name and one set of flags for the local OPA and the sidecar.
    assert keycloak_service.OPA_TOKEN_ENV == opa_server.DECIDE_TOKEN_ENV
    assert keycloak_service.OPA_SECURITY_FLAGS == opa_server.SECURITY_FLAGS
    graph = graph_of("prod")
    tasks = keycloak_tasks(graph)
    assert tasks
    for task in tasks:
        keycloak, sidecar = json.loads(task.inputs["containerDefinitions"])
        assert {"--authentication=token", "--authorization=basic"} <= set(sidecar["command"])
        token = {
            c["name"]: [s["valueFrom"] for s in c["secrets"] if s["name"] == "BIZID_OPA_TOKEN"]
            for c in (keycloak, sidecar)
        }
        assert token["keycloak"] == token["opa"] and len(token["opa"]) == 1
        assert f":{task.region}:" in token["opa"][0] and "opa-token" in token["opa"][0]
    assert rego_deny(opa, graph, tmp_path) == []


@pytest.mark.parametrize(
    "mutation",
    ["no-authentication", "no-authorization", "opa-without-token", "keycloak-token-as-plain-env"],
)
def test_opa_sidecar_mutations_are_caught(mutation: str, opa: Path, tmp_path: Path) -> None:
    graph = copy.deepcopy(graph_of("prod"))
    task = keycloak_tasks(graph)[0]
    keycloak, sidecar = json.loads(task.inputs["containerDefinitions"])
    if mutation == "no-authentication":
        sidecar["command"].remove("--authentication=token")
    elif mutation == "no-authorization":
        sidecar["command"].remove("--authorization=basic")
    elif mutation == "opa-without-token":
        sidecar["secrets"] = []
    else:
        keycloak["secrets"] = [s for s in keycloak["secrets"] if s["name"] != "BIZID_OPA_TOKEN"]
        keycloak["environment"].append({"name": "BIZID_OPA_TOKEN", "value": "plain"})
    task.inputs["containerDefinitions"] = json.dumps([keycloak, sidecar])
    assert any("OPA" in p or "BIZID_OPA_TOKEN" in p for p in rego_deny(opa, graph, tmp_path)), mutation


def test_stacks_in_one_account_never_share_an_ecr_repository() -> None:
    """All stacks deploy to one account: a (region, repository name) pair belongs to one stack only."""
    owners: dict[tuple[str | None, str], str] = {}
    for stack in STACKS:
        for repo in graph_of(stack).of_type("aws:ecr/repository:Repository"):
            key = (repo.region, str(repo.inputs["name"]))
            assert key not in owners, f"{key} is declared by {owners[key]} and {stack}"
            owners[key] = stack
            assert repo.inputs.get("forceDelete", False) is (stack == "dev"), repo.name
    assert owners, "no stack declares an ECR repository: the check above checked nothing"


# --- the realm's mail: an SES SMTP login in Secrets Manager (issue 13 §1) ---------------------------


@pytest.mark.parametrize("stack", STACKS)
def test_ses_smtp_login_is_a_replicated_secret_that_may_only_send_from_the_zone(stack: str) -> None:
    graph = graph_of(stack)
    config = load_stack_config(stack)
    (user,) = graph.of_type("aws:iam/user:User")
    (key,) = graph.of_type("aws:iam/accessKey:AccessKey")
    (policy,) = graph.of_type("aws:iam/userPolicy:UserPolicy")
    assert key.inputs["user"] == policy.inputs["user"] == user.state["name"]
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Effect"] == "Allow" and statement["Action"] == "ses:SendRawEmail"
    assert statement["Condition"]["StringLike"] == {"ses:FromAddress": f"*@{config.dns.zone_name}"}
    assert statement["Condition"]["StringEquals"] == {"aws:RequestedRegion": TOKYO}
    secrets = {s.state["arn"]: s for s in graph.of_type("aws:secretsmanager/secret:Secret")}
    login = secrets[graph.outputs["smtpSecretArn"]]
    assert login.region == TOKYO and login.inputs["kmsKeyId"]
    standby = {r["region"] for r in login.inputs.get("replicas") or []}
    assert standby == ({OSAKA} if config.standby is not None else set())
    versions = [
        v
        for v in graph.of_type("aws:secretsmanager/secretVersion:SecretVersion")
        if v.inputs["secretId"] == login.state["id"] or v.inputs["secretId"] == login.state["arn"]
    ]
    assert [v.inputs["secretString"] for v in versions] == ["[secret]"]  # the SMTP password never in clear
