"""The reminders job on AWS (infra/components/reminders.py) under the mocks: one schedule in the primary
region, starting the job's task on the Keycloak cluster, every role as narrow as docs/infra.md says, and the
Rego rules (policies/infra/jobs.rego) catching each way of getting it wrong."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from infra.components import reminders
from infra.config import STACKS, load_stack_config
from infra.graph import ACCOUNT_ID, Graph, Resource
from tests.infra.conftest import OSAKA, TOKYO, graph_of, keycloak_tasks
from tests.infra.test_policies import rego_deny

SCHEDULE = "aws:scheduler/schedule:Schedule"
TASK = "aws:ecs/taskDefinition:TaskDefinition"
ROLE = "aws:iam/role:Role"
POLICY = "aws:iam/rolePolicy:RolePolicy"


def _one(graph: Graph, typ: str, suffix: str) -> Resource:
    (found,) = [r for r in graph.of_type(typ) if r.name.endswith(suffix)]
    return found


def _job_task(graph: Graph) -> Resource:
    (task,) = [t for t in graph.of_type(TASK) if t.inputs["family"].endswith("-reminders")]
    return task


def _policy(graph: Graph, role: Resource) -> list[dict[str, Any]]:
    (policy,) = [p for p in graph.of_type(POLICY) if p.inputs["role"] == role.state["id"]]
    statements: list[dict[str, Any]] = json.loads(policy.inputs["policy"])["Statement"]
    return statements


def _role_by_arn(graph: Graph, arn: str) -> Resource:
    (role,) = [r for r in graph.of_type(ROLE) if r.state["arn"] == arn]
    return role


def _archive(graph: Graph, region: str) -> Resource:
    (bucket,) = [
        b
        for b in graph.of_type("aws:s3/bucket:Bucket")
        if b.region == region and b.inputs.get("objectLockEnabled")
    ]
    return bucket


@pytest.mark.parametrize("stack", STACKS)
def test_one_schedule_in_the_primary_at_nine_in_tokyo(stack: str) -> None:
    graph = graph_of(stack)
    (schedule,) = graph.of_type(SCHEDULE)
    assert schedule.region == TOKYO
    assert schedule.inputs["name"] == f"bizid-{stack}-reminders" and len(schedule.inputs["name"]) <= 64
    assert schedule.inputs["scheduleExpression"] == "cron(0 9 * * ? *)"
    assert schedule.inputs["scheduleExpressionTimezone"] == "Asia/Tokyo"
    assert schedule.inputs["flexibleTimeWindow"] == {"mode": "OFF"}
    assert schedule.inputs["state"] == "ENABLED"
    assert not [r for r in graph.cloud_resources() if "reminders" in r.name and r.region != TOKYO]
    assert graph.outputs["remindersSchedule"] == f"bizid-{stack}-reminders"


@pytest.mark.parametrize("stack", STACKS)
def test_the_schedule_starts_the_job_on_the_keycloak_cluster_in_the_app_subnets(stack: str) -> None:
    graph = graph_of(stack)
    (schedule,) = graph.of_type(SCHEDULE)
    target = schedule.inputs["target"]
    (cluster,) = [c for c in graph.of_type("aws:ecs/cluster:Cluster") if c.region == TOKYO]
    assert target["arn"] == cluster.state["arn"]
    ecs = target["ecsParameters"]
    assert ecs["taskDefinitionArn"] == _job_task(graph).state["arn"]
    assert ecs["launchType"] == "FARGATE" and ecs["taskCount"] == 1
    app_subnets = {
        s.state["id"]
        for s in graph.of_type("aws:ec2/subnet:Subnet")
        if s.region == TOKYO and s.inputs["tags"]["tier"] == "app"
    }
    assert set(ecs["networkConfiguration"]["subnets"]) == app_subnets
    assert ecs["networkConfiguration"]["assignPublicIp"] is False
    sg = _one(graph, "aws:ec2/securityGroup:SecurityGroup", "-reminders-sg")
    assert ecs["networkConfiguration"]["securityGroups"] == [sg.state["id"]]
    assert sg.inputs["ingress"] == []
    assert {(e["fromPort"], e["toPort"], e["protocol"]) for e in sg.inputs["egress"]} == {
        (443, 443, "tcp"),
        (587, 587, "tcp"),
    }


@pytest.mark.parametrize("stack", STACKS)
def test_the_scheduler_role_may_only_run_the_job_and_pass_its_two_roles_to_ecs(stack: str) -> None:
    graph = graph_of(stack)
    (schedule,) = graph.of_type(SCHEDULE)
    role = _role_by_arn(graph, schedule.inputs["target"]["roleArn"])
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    assert trust["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT_ID}
    assert trust["Condition"]["ArnLike"] == {"aws:SourceArn": schedule.state["arn"]}
    statements = _policy(graph, role)
    assert {s["Action"] for s in statements} == set(reminders.SCHEDULER_ACTIONS)
    run = next(s for s in statements if s["Action"] == "ecs:RunTask")
    assert run["Resource"] == f"arn:aws:ecs:{TOKYO}:{ACCOUNT_ID}:task-definition/bizid-{stack}-reminders:*"
    assert run["Condition"] == {"ArnEquals": {"ecs:cluster": schedule.inputs["target"]["arn"]}}
    task = _job_task(graph)
    assert task.state["arn"].startswith(run["Resource"].removesuffix("*"))
    passing = next(s for s in statements if s["Action"] == "iam:PassRole")
    assert sorted(passing["Resource"]) == sorted(
        [task.inputs["executionRoleArn"], task.inputs["taskRoleArn"]]
    )
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}


@pytest.mark.parametrize("stack", STACKS)
def test_the_task_role_reaches_the_ledger_prefix_and_the_two_secrets_only(stack: str) -> None:
    graph = graph_of(stack)
    task = _job_task(graph)
    archive = _archive(graph, TOKYO)
    statements = {s["Sid"]: s for s in _policy(graph, _role_by_arn(graph, task.inputs["taskRoleArn"]))}
    assert set(statements) == {
        "ReadAndCreateLedgerObjects",
        "ListTheLedgerOnly",
        "ReadTheCommandSecrets",
        "UseTheStackKey",
    }
    objects = statements["ReadAndCreateLedgerObjects"]
    assert objects["Action"] == ["s3:GetObject", "s3:PutObject"]  # never Delete, never PutObjectRetention
    assert objects["Resource"] == f"{archive.state['arn']}/reminders/*"
    listing = statements["ListTheLedgerOnly"]
    assert listing["Resource"] == archive.state["arn"]
    assert listing["Condition"] == {"StringLike": {"s3:prefix": ["reminders/", "reminders/*"]}}
    secrets = statements["ReadTheCommandSecrets"]
    assert secrets["Action"] == "secretsmanager:GetSecretValue"
    assert secrets["Resource"] == [
        graph.outputs["smtpSecretArn"],
        f"arn:aws:secretsmanager:{TOKYO}:{ACCOUNT_ID}:secret:bizid-{stack}/operator-client-??????",
    ]
    (key,) = [k.state["arn"] for k in graph.of_type("aws:kms/key:Key") if k.region == TOKYO]
    assert statements["UseTheStackKey"]["Resource"] == key
    assert graph.outputs["remindersLedger"] == f"s3://{archive.state['bucket']}/reminders/"


@pytest.mark.parametrize("stack", STACKS)
def test_the_execution_role_pulls_the_ops_image_and_writes_the_job_log_only(stack: str) -> None:
    graph = graph_of(stack)
    task = _job_task(graph)
    statements = {s["Sid"]: s for s in _policy(graph, _role_by_arn(graph, task.inputs["executionRoleArn"]))}
    assert set(statements) == {"WriteTheJobLogs", "PullTheOpsImage", "SignInToEcr"}  # no secret, no key
    logs = _one(graph, "aws:cloudwatch/logGroup:LogGroup", "-reminders-logs")
    assert statements["WriteTheJobLogs"]["Resource"] == f"{logs.state['arn']}:log-stream:*"
    (ops,) = [
        r
        for r in graph.of_type("aws:ecr/repository:Repository")
        if r.region == TOKYO and r.name.endswith("-ops")
    ]
    assert statements["PullTheOpsImage"]["Resource"] == [ops.state["arn"]]
    # ... and Keycloak's execution roles never pull the ops image.
    for keycloak in keycloak_tasks(graph):
        for statement in _policy(graph, _role_by_arn(graph, keycloak.inputs["executionRoleArn"])):
            assert not str(statement["Resource"]).count("/ops"), statement
    assert logs.inputs["name"] == f"/bizid/{stack}/reminders"
    assert logs.inputs["retentionInDays"] == load_stack_config(stack).audit.log_retention_days
    (key,) = [k.state["arn"] for k in graph.of_type("aws:kms/key:Key") if k.region == TOKYO]
    assert logs.inputs["kmsKeyId"] == key


@pytest.mark.parametrize("stack", STACKS)
def test_the_container_runs_the_command_unprivileged(stack: str) -> None:
    graph = graph_of(stack)
    task = _job_task(graph)
    assert task.inputs["family"] == f"bizid-{stack}-reminders"
    assert task.inputs["requiresCompatibilities"] == ["FARGATE"] and task.inputs["networkMode"] == "awsvpc"
    (container,) = json.loads(task.inputs["containerDefinitions"])
    archive = _archive(graph, TOKYO)
    days = load_stack_config(stack).reminders.days
    assert container["command"] == [
        "notify", "reminders", "--target", stack, "--ledger", f"s3://{archive.state['bucket']}/reminders/",
        "--days", str(days),
    ]  # fmt: skip
    assert container["user"] == "1000" and container["readonlyRootFilesystem"] is True
    assert container["mountPoints"] == [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}]
    assert task.inputs["volumes"] == [{"name": "tmp"}]
    assert "secrets" not in container  # the command reads its secrets itself, with the task role
    assert "@sha256:" in container["image"] and ".dkr.ecr.ap-northeast-1." in container["image"]
    assert container["logConfiguration"]["options"]["awslogs-group"] == f"/bizid/{stack}/reminders"


def test_the_ops_image_is_built_from_its_dockerfile() -> None:
    graph = graph_of("prod")
    (image,) = [i for i in graph.of_type("docker-build:index:Image") if i.name.endswith("-ops-image")]
    assert image.inputs["dockerfile"]["location"] == "images/ops/Dockerfile"
    assert image.inputs["context"]["location"] == ".."
    dockerfile = (Path(__file__).resolve().parents[2] / "infra/images/ops/Dockerfile").read_text()
    assert 'ENTRYPOINT ["bizid"]' in dockerfile and "USER 1000" in dockerfile


def test_the_command_is_one_the_cli_accepts() -> None:
    from scripts.cli import build_parser

    graph = graph_of("prod")
    (container,) = json.loads(_job_task(graph).inputs["containerDefinitions"])
    args = build_parser().parse_args(container["command"])
    assert args.ledger == container["command"][5]


# --- the Rego rules catch each defect -------------------------------------------------------------------


def _schedule(graph: Graph) -> Resource:
    (schedule,) = graph.of_type(SCHEDULE)
    return schedule


def _scheduler_policy(graph: Graph) -> Resource:
    return _one(graph, POLICY, "-reminders-scheduler-policy")


def _edit_scheduler_statements(graph: Graph, change: Any) -> None:
    policy = _scheduler_policy(graph)
    document = json.loads(policy.inputs["policy"])
    change(document["Statement"])
    policy.inputs["policy"] = json.dumps(document)


def _edit_container(graph: Graph, change: Any) -> None:
    task = _job_task(graph)
    containers = json.loads(task.inputs["containerDefinitions"])
    change(containers[0])
    task.inputs["containerDefinitions"] = json.dumps(containers)


def _in_osaka(graph: Graph) -> None:
    _schedule(graph).region = OSAKA


def _twice(graph: Graph) -> None:
    extra = copy.deepcopy(_schedule(graph))
    extra.name += "-2"
    graph.resources.append(extra)


def _flexible(graph: Graph) -> None:
    _schedule(graph).inputs["flexibleTimeWindow"] = {"mode": "FLEXIBLE", "maximumWindowInMinutes": 60}


def _public_ip(graph: Graph) -> None:
    _schedule(graph).inputs["target"]["ecsParameters"]["networkConfiguration"]["assignPublicIp"] = True


def _keycloak_task(graph: Graph) -> None:
    task = next(t for t in graph.of_type(TASK) if t.inputs["family"].endswith("-keycloak"))
    _schedule(graph).inputs["target"]["ecsParameters"]["taskDefinitionArn"] = task.state["arn"]


def _extra_action(graph: Graph) -> None:
    _edit_scheduler_statements(graph, lambda s: s[0].__setitem__("Action", ["ecs:RunTask", "ecs:StopTask"]))


def _any_family(graph: Graph) -> None:
    def change(statements: list[dict[str, Any]]) -> None:
        statements[0]["Resource"] = statements[0]["Resource"].replace("bizid-prod-reminders", "*")

    _edit_scheduler_statements(graph, change)


def _any_cluster(graph: Graph) -> None:
    _edit_scheduler_statements(graph, lambda s: s[0].pop("Condition"))


def _pass_anywhere(graph: Graph) -> None:
    _edit_scheduler_statements(graph, lambda s: s[1].pop("Condition"))


def _root(graph: Graph) -> None:
    _edit_container(graph, lambda c: c.__setitem__("user", "0"))


def _writable_root(graph: Graph) -> None:
    _edit_container(graph, lambda c: c.__setitem__("readonlyRootFilesystem", False))


def _plain_secret(graph: Graph) -> None:
    _edit_container(graph, lambda c: c["environment"].append({"name": "SMTP_PASSWORD", "value": "x"}))


def _unknown_family(graph: Graph) -> None:
    _job_task(graph).inputs["family"] = "bizid-prod-cron"


def _long_name(graph: Graph) -> None:
    _schedule(graph).inputs["name"] = "bizid-" + "x" * 60


DEFECTS = {
    "schedule-in-osaka": (_in_osaka, "primary region"),
    "two-schedules": (_twice, "2 schedules"),
    "flexible-window": (_flexible, "flexible time window"),
    "public-ip": (_public_ip, "public address"),
    "starts-keycloak-task": (_keycloak_task, "does not start a task of a job's family"),
    "extra-action": (_extra_action, "ecs:StopTask"),
    "any-family": (_any_family, "other task families"),
    "any-cluster": (_any_cluster, "any cluster"),
    "pass-anywhere": (_pass_anywhere, "other services"),
    "root-user": (_root, "runs as root"),
    "writable-root": (_writable_root, "writable root file system"),
    "plain-secret": (_plain_secret, "SMTP_PASSWORD passed as plain environment"),
    "unknown-family": (_unknown_family, "neither Keycloak's nor a job's"),
    "long-schedule-name": (_long_name, "AWS allows 64"),
}


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_rego_catches(defect: str, opa: Path, tmp_path: Path) -> None:
    graph = copy.deepcopy(graph_of("prod"))
    assert rego_deny(opa, graph, tmp_path) == []
    mutate, expected = DEFECTS[defect]
    mutate(graph)
    found = rego_deny(opa, graph, tmp_path)
    assert any(expected in finding for finding in found), found
