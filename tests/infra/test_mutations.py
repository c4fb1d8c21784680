"""The suite has teeth: remove encryption, the WAF, the secondary region or Object Lock and the checks fail.

Each mutation is applied twice: to the program (a transformation on its resource args, a component replaced,
or the config changed) and to a captured graph. The Rego rules in policies/infra/ (the one rule set) must then
report it.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest

import infra.stack
from infra.config import StackConfig, StackSecrets, load_stack_config
from infra.graph import Graph, run_program
from infra.stack import build_stack
from tests.infra.conftest import OSAKA, graph_of, keycloak_tasks
from tests.infra.test_policies import rego_deny

Program = Callable[[StackConfig, StackSecrets], dict[str, pulumi.Output[Any]]]


def with_transformation(types: set[str], change: Callable[[dict[str, Any]], None]) -> Program:
    """The real program with a stack transformation that edits the args of some resource types."""

    def transform(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
        if args.type_ not in types:
            return None
        props = dict(args.props)
        change(props)
        return pulumi.ResourceTransformationResult(props, args.opts)

    def program(config: StackConfig, secrets: StackSecrets) -> dict[str, pulumi.Output[Any]]:
        pulumi.runtime.register_stack_transformation(transform)
        return build_stack(config, secrets)

    return program


def _unencrypt(props: dict[str, Any]) -> None:
    props["storage_encrypted"] = False
    props["kms_key_id"] = None


def _unlock(props: dict[str, Any]) -> None:
    props["object_lock_enabled"] = False


# --- graph mutations
# -------------------------------------------------------------------------------------------


def drop_encryption(graph: Graph) -> None:
    for cluster in graph.of_type("aws:rds/cluster:Cluster") + graph.of_type(
        "aws:rds/globalCluster:GlobalCluster"
    ):
        cluster.inputs["storageEncrypted"] = False
        cluster.inputs.pop("kmsKeyId", None)


def drop_waf(graph: Graph) -> None:
    graph.resources = [r for r in graph.resources if not r.type.startswith("aws:wafv2/")]


def drop_standby(graph: Graph) -> None:
    graph.resources = [
        r
        for r in graph.resources
        if r.region != OSAKA and r.state.get("region") != OSAKA and "osaka" not in r.name
    ]


def drop_object_lock(graph: Graph) -> None:
    graph.resources = [r for r in graph.resources if "ObjectLockConfiguration" not in r.type]
    for bucket in graph.of_type("aws:s3/bucket:Bucket"):
        bucket.inputs["objectLockEnabled"] = False


def _edit_containers(graph: Graph, change: Callable[[dict[str, Any], dict[str, Any]], None]) -> None:
    for task in keycloak_tasks(graph):
        keycloak, opa = json.loads(task.inputs["containerDefinitions"])
        change(keycloak, opa)
        task.inputs["containerDefinitions"] = json.dumps([keycloak, opa])


def open_opa(graph: Graph) -> None:
    _edit_containers(graph, lambda keycloak, opa: opa["command"].remove("--authorization=basic"))


def plain_opa_token(graph: Graph) -> None:
    def change(keycloak: dict[str, Any], opa: dict[str, Any]) -> None:
        opa["secrets"] = []
        opa.setdefault("environment", []).append({"name": "BIZID_OPA_TOKEN", "value": "plain"})

    _edit_containers(graph, change)


def long_alb_name(graph: Graph) -> None:
    for lb in graph.of_type("aws:lb/loadBalancer:LoadBalancer"):
        lb.name = lb.name.replace("-alb", "-keycloak-alb")  # the pre-fix logical name: 36+ with the suffix


def shared_ecr_names(graph: Graph) -> None:
    for repo in graph.of_type("aws:ecr/repository:Repository"):
        repo.inputs["name"] = "bizid/" + str(repo.inputs["name"]).rsplit("/", 1)[-1]


def drop_health_check_alarms(graph: Graph) -> None:
    graph.resources = [r for r in graph.resources if r.inputs.get("namespace") != "AWS/Route53"]


def drop_aurora_log_groups(graph: Graph) -> None:
    graph.resources = [
        r for r in graph.resources if not str(r.inputs.get("name", "")).startswith("/aws/rds/")
    ]


GRAPH_MUTATIONS: dict[str, tuple[Callable[[Graph], None], str]] = {
    "alb-name": (long_alb_name, "AWS allows 32 for aws:lb/loadBalancer:LoadBalancer"),
    "ecr-shared": (shared_ecr_names, "does not carry the stack"),
    "health-check-alarm": (drop_health_check_alarms, "no us-east-1 HealthCheckStatus alarm"),
    "aurora-log-group": (drop_aurora_log_groups, "RDS would create /aws/rds/cluster/"),
    "opa-authorization": (open_opa, "OPA sidecar runs without --authorization=basic"),
    "opa-token-plain": (plain_opa_token, "opa gets BIZID_OPA_TOKEN as plain environment"),
    "encryption": (drop_encryption, "Aurora storage not encrypted"),
    "waf": (drop_waf, "no regional WAF web ACL associated"),
    "secondary-region": (drop_standby, "no resources in ap-northeast-3"),
    "object-lock": (drop_object_lock, "no compliance-mode Object Lock"),
}


@pytest.mark.parametrize("mutation", sorted(GRAPH_MUTATIONS))
def test_graph_mutation_is_caught(mutation: str, opa: Path, tmp_path: Path) -> None:
    mutate, rego_message = GRAPH_MUTATIONS[mutation]
    graph = copy.deepcopy(graph_of("prod"))
    assert rego_deny(opa, graph, tmp_path) == []
    mutate(graph)
    assert any(rego_message in m for m in rego_deny(opa, graph, tmp_path))


# --- program mutations
# -----------------------------------------------------------------------------------------


def test_program_without_database_encryption_is_caught(opa: Path, tmp_path: Path) -> None:
    program = with_transformation({"aws:rds/cluster:Cluster"}, _unencrypt)
    graph = run_program("prod", load_stack_config("prod"), program)
    assert any("Aurora storage not encrypted" in m for m in rego_deny(opa, graph, tmp_path))


def test_program_without_waf_is_caught(monkeypatch: pytest.MonkeyPatch, opa: Path, tmp_path: Path) -> None:
    monkeypatch.setattr(infra.stack, "EdgeProtection", lambda *args, **kwargs: None)
    graph = run_program("staging", load_stack_config("staging"))
    assert graph.of_type("aws:wafv2/webAcl:WebAcl") == []
    assert sum("no regional WAF web ACL" in m for m in rego_deny(opa, graph, tmp_path)) == 2  # one per ALB


def test_program_without_secondary_region_is_caught(opa: Path, tmp_path: Path) -> None:
    # Bypasses the config validator on purpose: the graph checks must catch it on their own.
    config = load_stack_config("prod").model_copy(update={"standby": None})
    graph = run_program("prod", config)
    assert "no resources in ap-northeast-3" in rego_deny(opa, graph, tmp_path)
    assert "global cluster lacks its member in ap-northeast-3" in rego_deny(opa, graph, tmp_path)


def test_program_without_object_lock_is_caught(opa: Path, tmp_path: Path) -> None:
    program = with_transformation({"aws:s3/bucket:Bucket"}, _unlock)
    graph = run_program("dev", load_stack_config("dev"), program)
    assert any("no compliance-mode Object Lock" in m for m in rego_deny(opa, graph, tmp_path))


def test_program_without_health_check_alarms_is_caught(
    monkeypatch: pytest.MonkeyPatch, opa: Path, tmp_path: Path
) -> None:
    monkeypatch.setattr(infra.stack, "HealthCheckAlarms", lambda *args, **kwargs: None)
    graph = run_program("staging", load_stack_config("staging"))
    denied = rego_deny(opa, graph, tmp_path)
    assert sum("no us-east-1 HealthCheckStatus alarm" in m for m in denied) == 1  # Tokyo, the active site
    assert sum("standby health check not covered" in m for m in denied) == 1  # Osaka


def test_standby_health_check_with_its_own_alarm_is_caught(
    monkeypatch: pytest.MonkeyPatch, opa: Path, tmp_path: Path
) -> None:
    # The alarm design before: one alarm per check, Osaka's included, in alarm for as long as Osaka stands by.
    from infra.components.monitoring import HealthCheckAlarmsArgs as original

    def every_check_alone(ids: Any, key: Any, subscribers: Any, standby: Any = ()) -> Any:
        return original(ids, key, subscribers)

    monkeypatch.setattr(infra.stack, "HealthCheckAlarmsArgs", every_check_alone)
    graph = run_program("staging", load_stack_config("staging"))
    denied = rego_deny(opa, graph, tmp_path)
    assert any("alarms on the standby's own health check" in m for m in denied)
    assert any("standby health check not covered" in m for m in denied)
