"""Issue 11's defects, each with the graph rule that catches it (policies/infra) and a mutation proving it.

Every mutation puts one defect back, into a captured graph or into the program itself, and the Rego rules must
name it; the unmutated graphs pass (test_policies.py). Then what `pulumi preview` would show beyond single
resources: a second run of a stack yields the same graph, config secrets stay secret all the way, and no
resource needs a default provider.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

import infra.components.database
import infra.stack
from infra.config import STACKS, StackConfig, StackSecrets, load_stack_config
from infra.graph import Graph, graph_diff, mock_secrets, run_program
from infra.stack import build_stack
from realm import site
from tests.infra.conftest import OSAKA, TOKYO, graph_of, keycloak_tasks
from tests.infra.test_policies import rego_deny

# --- graph mutations: one defect each -------------------------------------------------------------------


def _health_checks(graph: Graph) -> list[Any]:
    return graph.of_type("aws:route53/healthCheck:HealthCheck")


def discovery_health_check(graph: Graph) -> None:
    """The pre-fix check: the discovery document, which a site on a read-only database still serves."""
    for hc in _health_checks(graph):
        hc.inputs["resourcePath"] = "/realms/bizid/.well-known/openid-configuration"


def status_only_health_check(graph: Graph) -> None:
    for hc in _health_checks(graph):
        hc.inputs["type"] = "HTTPS"
        hc.inputs.pop("searchString", None)


def ungated_alb_5xx(graph: Graph) -> None:
    """The pre-fix alarm: HTTPCode_ELB_5XX_Count as is, which Osaka's idle ALB keeps above the threshold."""
    for alarm in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        queries = alarm.inputs.get("metricQueries") or []
        if any(q.get("metric", {}).get("metricName") == "HTTPCode_ELB_5XX_Count" for q in queries):
            metric = next(
                q["metric"] for q in queries if q["metric"]["metricName"] == "HTTPCode_ELB_5XX_Count"
            )
            del alarm.inputs["metricQueries"]
            alarm.inputs.update(
                namespace=metric["namespace"],
                metricName=metric["metricName"],
                dimensions=metric["dimensions"],
                period=60,
                statistic="Sum",
            )


def gate_on_the_wrong_metric(graph: Graph) -> None:
    for alarm in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        for q in alarm.inputs.get("metricQueries") or []:
            if q.get("metric", {}).get("metricName") == "HealthyHostCount":
                q["metric"]["metricName"] = "RequestCount"


def double_gzip(graph: Graph) -> None:
    for stream in graph.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        stream.inputs["extendedS3Configuration"]["compressionFormat"] = "GZIP"


def firehose_into_the_lock(graph: Graph) -> None:
    """The pre-fix design: Firehose writes into the bucket with default Object Lock retention."""
    archives = {
        b.region: b.state["arn"]
        for b in graph.of_type("aws:s3/bucket:Bucket")
        if b.inputs.get("objectLockEnabled")
    }
    for stream in graph.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"):
        stream.inputs["extendedS3Configuration"]["bucketArn"] = archives[stream.region]


def replicate_delete_markers(graph: Graph) -> None:
    for config in graph.of_type("aws:s3/bucketReplicationConfig:BucketReplicationConfig"):
        config.inputs["rules"][0]["deleteMarkerReplication"]["status"] = "Enabled"


def _drop_alarms(namespace: str) -> Callable[[Graph], None]:
    def mutate(graph: Graph) -> None:
        graph.resources = [r for r in graph.resources if r.inputs.get("namespace") != namespace]

    return mutate


def managed_execution_policy(graph: Graph) -> None:
    role = next(r for r in graph.of_type("aws:iam/role:Role") if "execution-role" in r.name)
    attachment = copy.deepcopy(role)
    attachment.type = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
    attachment.name = role.name.replace("-role", "-managed")
    attachment.inputs = {
        "role": role.state["name"],
        "policyArn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy",
    }
    graph.resources.append(attachment)


def logs_on_star(graph: Graph) -> None:
    for policy in graph.of_type("aws:iam/rolePolicy:RolePolicy"):
        if "execution-policy" in policy.name:
            document = json.loads(policy.inputs["policy"])
            for statement in document["Statement"]:
                if statement.get("Sid") == "WriteTheTaskLogs":
                    statement["Resource"] = "*"
            policy.inputs["policy"] = json.dumps(document)


def unconditional_trust(graph: Graph) -> None:
    for role in graph.of_type("aws:iam/role:Role"):
        document = json.loads(role.inputs["assumeRolePolicy"])
        for statement in document["Statement"]:
            statement.pop("Condition", None)
        role.inputs["assumeRolePolicy"] = json.dumps(document)


def keycloak_as_master_user(graph: Graph) -> None:
    """The pre-fix task: Keycloak's database credentials from the Aurora master secret."""
    master = next(
        s.state["arn"]
        for s in graph.of_type("aws:secretsmanager/secret:Secret")
        if (s.inputs.get("tags") or {}).get("bizid:purpose") == "aurora-master"
    )
    for task in keycloak_tasks(graph):
        containers = json.loads(task.inputs["containerDefinitions"])
        for secret in containers[0]["secrets"]:
            if secret["name"] in ("KC_DB_USERNAME", "KC_DB_PASSWORD"):
                field = secret["valueFrom"].rsplit(":", 3)[1]
                secret["valueFrom"] = f"{master.replace(TOKYO, str(task.region))}:{field}::"
        task.inputs["containerDefinitions"] = json.dumps(containers)


def pinned_engine_version(graph: Graph) -> None:
    for r in graph.resources:
        r.options.pop("ignoreChanges", None)


def default_provider(graph: Graph) -> None:
    image = graph.of_type("docker-build:index:Image")[0]
    image.provider = "urn:pulumi:prod::bizid::pulumi:providers:docker-build::default_0_0_22::id"


GRAPH_DEFECTS: dict[str, tuple[Callable[[Graph], None], str]] = {
    "1.3-discovery-health-check": (discovery_health_check, "not the site writability signal"),
    "1.3-status-only-health-check": (status_only_health_check, 'does not require "writable":true'),
    "1.4-ungated-alb-5xx": (ungated_alb_5xx, "alarms on the ALB's own 5xx even with no task running"),
    "1.4-gate-on-wrong-metric": (gate_on_the_wrong_metric, "not gated on HealthyHostCount"),
    "1.5-double-gzip": (double_gzip, "gzips CloudWatch Logs records a second time"),
    "1.6-firehose-into-the-lock": (firehose_into_the_lock, "S3 refuses its PutObject"),
    "1.6-delete-markers": (replicate_delete_markers, "never delete markers"),
    "1.6-no-delivery-alarm": (_drop_alarms("AWS/Firehose"), "no DeliveryToS3.DataFreshness alarm"),
    "1.6-no-replication-alarm": (_drop_alarms("AWS/S3"), "no OperationsFailedReplication alarm"),
    "1.8-managed-policy": (managed_execution_policy, "AWS managed policy"),
    "1.8-logs-on-star": (logs_on_star, 'allows ["logs:CreateLogStream", "logs:PutLogEvents"] on "*"'),
    "1.8-trust-without-conditions": (unconditional_trust, "without aws:SourceAccount"),
    "1.8-keycloak-as-master": (keycloak_as_master_user, "from the Aurora master secret"),
    "1.9-pinned-engine-version": (pinned_engine_version, "pinned without ignore_changes"),
    "4-default-provider": (default_provider, "uses a default provider"),
}


@pytest.mark.parametrize("defect", sorted(GRAPH_DEFECTS))
def test_graph_defect_is_caught(defect: str, opa: Path, tmp_path: Path) -> None:
    mutate, message = GRAPH_DEFECTS[defect]
    graph = copy.deepcopy(graph_of("prod"))
    assert rego_deny(opa, graph, tmp_path) == []
    mutate(graph)
    found = rego_deny(opa, graph, tmp_path)
    assert any(message in m for m in found), found


# --- program mutations: the defect put back into the code -----------------------------------------------


def test_program_pinning_engine_version_is_caught(
    monkeypatch: pytest.MonkeyPatch, opa: Path, tmp_path: Path
) -> None:
    monkeypatch.setattr(infra.components.database, "ENGINE_MANAGED", ())
    graph = run_program("staging", load_stack_config("staging"))
    found = [m for m in rego_deny(opa, graph, tmp_path) if "pinned without ignore_changes" in m]
    # the global cluster, both clusters, and every instance
    assert len(found) == 1 + 2 + len(graph.of_type("aws:rds/clusterInstance:ClusterInstance")), found


def test_program_building_images_on_the_default_provider_is_caught(
    monkeypatch: pytest.MonkeyPatch, opa: Path, tmp_path: Path
) -> None:
    monkeypatch.setattr(infra.stack, "image_build_provider", lambda: None)
    graph = run_program("dev", load_stack_config("dev"))
    found = [m for m in rego_deny(opa, graph, tmp_path) if "uses a default provider" in m]
    assert len(found) == len(graph.of_type("docker-build:index:Image")) == 3, found  # keycloak, opa, ops


# --- the graph as a preview would see it ----------------------------------------------------------------


def test_health_checks_ask_the_site_writability_signal() -> None:
    for stack in ("staging", "prod"):
        config = load_stack_config(stack)
        for hc in _health_checks(graph_of(stack)):
            assert hc.inputs["resourcePath"] == site.writable_path(config.keycloak.realm)
            assert hc.inputs["searchString"] == site.WRITABLE_MARKER
    # The ALB still keeps tasks in service on readiness: a read-only site's tasks are not killed.
    for group in graph_of("prod").of_type("aws:lb/targetGroup:TargetGroup"):
        assert group.inputs["healthCheck"]["path"] == "/health/ready"


def test_keycloak_connects_as_its_own_database_user() -> None:
    graph = graph_of("prod")
    secrets = {s.state["arn"]: s for s in graph.of_type("aws:secretsmanager/secret:Secret")}
    purposes = {(s.inputs.get("tags") or {}).get("bizid:purpose") for s in secrets.values()}
    assert {"aurora-master", "keycloak-db"} <= purposes
    for task in keycloak_tasks(graph):
        keycloak = json.loads(task.inputs["containerDefinitions"])[0]
        sources = {s["name"]: s["valueFrom"] for s in keycloak["secrets"]}
        for name in ("KC_DB_USERNAME", "KC_DB_PASSWORD"):
            # a replica keeps the primary's name and suffix, the 7th field of the ARN
            (owner,) = [s for arn, s in secrets.items() if f":secret:{arn.split(':')[6]}:" in sources[name]]
            assert owner.inputs["tags"]["bizid:purpose"] == "keycloak-db", name


def test_osaka_alb_5xx_alarm_is_quiet_without_tasks() -> None:
    """The expression the alarm evaluates, applied to what Osaka's idle ALB reports: 0, not the 503s."""
    graph = graph_of("staging")
    (alarm,) = [
        a
        for a in graph.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
        if a.region == OSAKA and a.name.endswith("-alb-5xx")
    ]
    queries = {q["id"]: q for q in alarm.inputs["metricQueries"]}
    (result,) = [q for q in queries.values() if q.get("returnData")]
    condition, value, otherwise = result["expression"].removeprefix("IF(").removesuffix(")").split(",")
    gate, _, zero = condition.partition(">")
    assert queries[gate.strip()]["metric"]["metricName"] == "HealthyHostCount"
    assert queries[value.strip()]["metric"]["metricName"] == "HTTPCode_ELB_5XX_Count"
    assert (zero.strip(), otherwise.strip()) == ("0", "0")


@pytest.mark.parametrize("stack", STACKS)
def test_a_second_run_yields_the_same_graph(stack: str) -> None:
    """No diff from non-determinism: what a second `pulumi preview` right after `up` must show."""
    config = load_stack_config(stack)
    first = run_program(stack, config)
    second = run_program(stack, config)
    assert graph_diff(first, second) == []
    assert graph_diff(first, graph_of(stack)) == []


def test_a_non_deterministic_program_shows_a_diff() -> None:
    """graph_diff has teeth: a value that changes per run (a timestamp tag) is reported by URN and key."""

    def stamped(config: StackConfig, secrets: StackSecrets) -> dict[str, pulumi.Output[Any]]:
        def stamp(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
            if args.type_ != "aws:s3/bucket:Bucket":
                return None
            return pulumi.ResourceTransformationResult(
                {**args.props, "tags": {"deployed": str(time.time_ns())}}, args.opts
            )

        pulumi.runtime.register_stack_transformation(stamp)
        return build_stack(config, secrets)

    config = load_stack_config("dev")
    diff = graph_diff(run_program("dev", config, stamped), run_program("dev", config, stamped))
    assert diff and all("aws:s3/bucket:Bucket" in line and "tags" in line for line in diff), diff


@pytest.mark.parametrize("stack", STACKS)
def test_config_secrets_stay_secret(stack: str) -> None:
    """No config secret appears in clear anywhere in the graph: inputs, computed state or stack outputs."""
    dump = json.dumps(graph_of(stack).as_json())
    plain = _secret_values()
    assert len(plain) == len(vars(mock_secrets()))
    for value in plain:
        assert value not in dump, f"a config secret is in clear in the {stack} graph"
    assert '"[secret]"' in dump


def test_an_unsecreted_config_secret_is_caught() -> None:
    """The check has teeth: a program exporting a config secret it unwrapped shows it in clear."""

    def leaky(config: StackConfig, secrets: StackSecrets) -> dict[str, pulumi.Output[Any]]:
        outputs = build_stack(config, secrets)
        # (resource inputs the provider schema marks secret, e.g. masterPassword, the SDK re-wraps itself)
        return {**outputs, "dbPassword": pulumi.Output.unsecret(secrets.keycloak_db_password)}

    dump = json.dumps(run_program("prod", load_stack_config("prod"), leaky).as_json())
    assert "mock-keycloak-db-password" in dump


def _secret_values() -> list[str]:
    """The plaintexts behind the mock config secrets (infra.graph.mock_secrets)."""
    from infra import graph

    return list(graph.MOCK_SECRET_VALUES.values())


@pytest.mark.parametrize("stack", STACKS)
def test_stack_files_disable_the_default_provider_of_every_package(stack: str) -> None:
    """A resource left without a provider then fails the real preview too, not only the Rego rule."""
    import yaml

    from infra.config import INFRA_DIR

    document = yaml.safe_load((INFRA_DIR / f"Pulumi.{stack}.yaml").read_text())
    disabled = set(document["config"]["pulumi:disable-default-providers"])
    packages = {
        r.type.removeprefix("pulumi:providers:")
        for r in graph_of(stack).resources
        if r.type.startswith("pulumi:providers:")
    }
    assert packages == {"aws", "docker-build"}
    assert packages <= disabled


def test_runbook_b_switches_then_scales_osaka_then_fences_tokyo() -> None:
    """§1.2: Keycloak cannot start on Osaka's read-only secondary, so the switchover comes first; Tokyo is
    fenced last. The order is read from the commands and step titles of docs/runbook-failover.md, part B."""
    from infra.config import REPO_ROOT

    text = (REPO_ROOT / "docs" / "runbook-failover.md").read_text()
    part_b = text[text.index("## B. Planned switchover") : text.index("## C. Switching back")]
    drain = part_b.index("**Take Tokyo out of the record")  # before it turns read-only (drill-steps)
    switch = part_b.index("aws rds switchover-global-cluster --region $OSAKA")
    scale = part_b.index("**Scale Keycloak in Osaka.**")
    fence = part_b.index("**Fence Tokyo's service.**")
    assert drain < switch < scale < fence
    part_c1 = text[text.index("### C1.") : text.index("### C2.")]
    assert part_c1.index("switchover-global-cluster --region $TOKYO") < part_c1.index(
        "Bring Tokyo's service back"
    )


def test_config_requires_the_signal_and_keycloaks_own_user() -> None:
    from infra.config import ConfigError, parse_config, read_stack_file

    raw = read_stack_file("prod")
    raw["dns"] = {**raw["dns"], "healthCheckPath": "/realms/bizid/.well-known/openid-configuration"}
    with pytest.raises(ConfigError, match=r"dns\.healthCheckPath must be /realms/bizid/bizid-site/writable"):
        parse_config(raw)
    raw = read_stack_file("prod")
    raw["database"] = {**raw["database"], "keycloakUsername": raw["database"]["masterUsername"]}
    with pytest.raises(
        ConfigError, match=r"bizid:database: keycloakUsername must differ from masterUsername"
    ):
        parse_config(raw)
