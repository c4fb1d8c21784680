"""The internal admin path (infra/components/admin_path.py): the reminders job reaches Keycloak's Admin API.

The public URL refuses `/admin` and `/realms/master` (WAF and ALB rule), so without this path the job starts
and fails at its first Admin API call. Asserted on each stack's graph under mocks: an internal ALB per region
running Keycloak, forwarding only the bizid realm's Admin API and master's token endpoint, admitting only the
job's security group, with a validated certificate and a private zone for `admin.<hostname>`, and the target
files naming that URL. Each defect, put into a graph (or the program), is reported by the Rego rules
(policies/infra/admin_path.rego)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.components import admin_path
from infra.config import load_stack_config
from infra.graph import Graph, Resource, run_program
from realm import loader, targets
from tests.infra.conftest import OSAKA, TOKYO, graph_of
from tests.infra.test_mutations import with_transformation
from tests.infra.test_policies import rego_deny

LB = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
RULE = "aws:lb/listenerRule:ListenerRule"
SG = "aws:ec2/securityGroup:SecurityGroup"
INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
ZONE = "aws:route53/zone:Zone"
RECORD = "aws:route53/record:Record"
AUTO_SUFFIX = 8  # the engine's "-" + 7 hex characters


def internal_albs(graph: Graph) -> list[Resource]:
    return [lb for lb in graph.of_type(LB) if lb.inputs.get("internal") is True]


def one(items: list[Resource]) -> Resource:
    assert len(items) == 1, [r.name for r in items]
    return items[0]


def by_id(graph: Graph, typ: str, rid: str) -> Resource:
    return one([r for r in graph.of_type(typ) if r.state.get("id") == rid])


def listener_of(graph: Graph, lb: Resource) -> Resource:
    return one([x for x in graph.of_type(LISTENER) if x.inputs["loadBalancerArn"] == lb.state["arn"]])


def rules_of(graph: Graph, listener: Resource) -> list[Resource]:
    return [r for r in graph.of_type(RULE) if r.inputs["listenerArn"] == listener.state["arn"]]


def paths(rule: Resource) -> set[str]:
    return {p for c in rule.inputs["conditions"] if "pathPattern" in c for p in c["pathPattern"]["values"]}


def admin_sg(graph: Graph, region: str) -> Resource:
    lb = one([x for x in internal_albs(graph) if x.region == region])
    return by_id(graph, SG, one_value(lb.inputs["securityGroups"]))


def one_value(values: list[Any]) -> Any:
    assert len(values) == 1, values
    return values[0]


def reminders_sg(graph: Graph) -> Resource:
    return one([s for s in graph.of_type(SG) if s.name.endswith("-reminders-sg")])


# --- the path, as built -------------------------------------------------------------------------------------


def test_every_region_running_keycloak_has_one_internal_admin_alb(graph: Graph) -> None:
    service_regions = {s.region for s in graph.of_type("aws:ecs/service:Service")}
    assert service_regions == set(graph.regions)
    albs = internal_albs(graph)
    assert sorted(lb.region or "" for lb in albs) == sorted(graph.regions)
    for lb in albs:
        assert lb.inputs["loadBalancerType"] == "application"
        assert len(lb.name) + AUTO_SUFFIX <= 32, lb.name  # AWS: 32 characters for an ALB's name
        subnets = [by_id(graph, "aws:ec2/subnet:Subnet", s) for s in lb.inputs["subnets"]]
        assert {s.inputs["tags"]["tier"] for s in subnets} == {"app"}  # private subnets, no route in
        assert len({s.inputs["availabilityZone"] for s in subnets}) >= 2  # AWS: two AZs at least
        assert lb.inputs["dropInvalidHeaderFields"] is True


def test_the_internal_listener_forwards_only_the_admin_api_and_the_token_endpoint(graph: Graph) -> None:
    assert internal_albs(graph)
    for lb in internal_albs(graph):
        listener = listener_of(graph, lb)
        assert (listener.inputs["port"], listener.inputs["protocol"]) == (443, "HTTPS")
        assert listener.inputs["sslPolicy"].startswith("ELBSecurityPolicy-TLS13-")
        assert [a["type"] for a in listener.inputs["defaultActions"]] == ["fixed-response"]
        assert listener.inputs["defaultActions"][0]["fixedResponse"]["statusCode"] == "404"
        rules = rules_of(graph, listener)
        forwarded = {
            p for r in rules if any(a["type"] == "forward" for a in r.inputs["actions"]) for p in paths(r)
        }
        assert forwarded == {
            "/admin/realms/bizid",
            "/admin/realms/bizid/*",
            "/realms/master/protocol/openid-connect/token",
        }
        token = one([r for r in rules if admin_path.TOKEN_PATH in paths(r)])
        assert {"httpRequestMethod": {"values": ["POST"]}} in token.inputs["conditions"]
        refused = one([r for r in rules if paths(r) == set(admin_path.REFUSED_PATHS)])
        assert refused.inputs["actions"][0]["type"] == "fixed-response"
        priorities = [r.inputs["priority"] for r in rules]
        assert len(set(priorities)) == len(priorities) and all(1 <= p <= 50000 for p in priorities)
        assert refused.inputs["priority"] == min(priorities)  # before any forward
        group = one(
            [
                g
                for g in graph.of_type("aws:lb/targetGroup:TargetGroup")
                if g.region == lb.region and g.state["arn"] == token.inputs["actions"][0]["targetGroupArn"]
            ]
        )
        assert len(group.name) + AUTO_SUFFIX <= 32, group.name
        service = one([s for s in graph.of_type("aws:ecs/service:Service") if s.region == lb.region])
        registered = {x["targetGroupArn"] for x in service.inputs["loadBalancers"]}
        assert group.state["arn"] in registered and len(registered) == 2  # the public ALB's and this one


def test_only_the_jobs_security_group_reaches_the_internal_alb(graph: Graph) -> None:
    job = reminders_sg(graph)
    assert job.region == TOKYO
    for region in graph.regions:
        sg = admin_sg(graph, region)
        assert sg.inputs.get("ingress") is None  # no inline rules: they would fight the separate ones
        admitted = [r for r in graph.of_type(INGRESS) if r.inputs["securityGroupId"] == sg.state["id"]]
        if region == TOKYO:
            rule = one(admitted)
            assert rule.inputs["referencedSecurityGroupId"] == job.state["id"]
            assert (rule.inputs["ipProtocol"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (
                "tcp",
                443,
                443,
            )
            assert "cidrIpv4" not in rule.inputs
        else:
            assert admitted == []  # Osaka runs no job: its internal ALB answers nobody (docs/infra.md)
        # The pair: the admin ALB may send to the tasks, and the tasks' group admits it.
        assert {(e["fromPort"], e["toPort"]) for e in sg.inputs["egress"]} == {(8443, 8443), (9000, 9000)}
        service = one([s for s in graph.of_type("aws:ecs/service:Service") if s.region == region])
        app = by_id(graph, SG, one_value(service.inputs["networkConfiguration"]["securityGroups"]))
        for port in (8443, 9000):
            assert any(
                r["fromPort"] == port and sg.state["id"] in r.get("securityGroups", [])
                for r in app.inputs["ingress"]
            ), port
    assert any(e["fromPort"] == 443 for e in job.inputs["egress"])


def test_the_internal_name_has_a_validated_certificate_and_a_private_zone(graph: Graph) -> None:
    config = load_stack_config(graph.stack)
    host = f"admin.{config.dns.hostname}"
    validated = {
        v.state["certificateArn"]
        for v in graph.of_type("aws:acm/certificateValidation:CertificateValidation")
    }
    for lb in internal_albs(graph):
        listener = listener_of(graph, lb)
        assert listener.inputs["certificateArn"] in validated  # ACM: the listener waits for the validation
        cert = one(
            [
                c
                for c in graph.of_type("aws:acm/certificate:Certificate")
                if c.state["arn"] == listener.inputs["certificateArn"]
            ]
        )
        assert (cert.inputs["domainName"], cert.inputs["validationMethod"], cert.region) == (
            host,
            "DNS",
            lb.region,
        )
        zone = one([z for z in graph.of_type(ZONE) if z.region == lb.region])
        assert zone.inputs["name"] == host  # exactly the internal name: shadows nothing else in the VPC
        vpc = by_id(graph, "aws:ec2/vpc:Vpc", one_value(zone.inputs["vpcs"])["vpcId"])
        assert vpc.region == lb.region and one_value(zone.inputs["vpcs"])["vpcRegion"] == lb.region
        record = one([r for r in graph.of_type(RECORD) if r.inputs["zoneId"] == zone.state["zoneId"]])
        assert (record.inputs["name"], record.inputs["type"]) == (host, "A")
        assert one_value(record.inputs["aliases"])["name"] == lb.state["dnsName"]
    # Its validation record lives in the public zone, created once (ACM: the same record in every region).
    validation_names = [r.inputs["name"] for r in graph.of_type(RECORD) if host in str(r.inputs["name"])]
    assert len([n for n in validation_names if n != host]) == 1


def test_the_target_files_name_the_stacks_admin_url(graph: Graph) -> None:
    """What `--target <env>` (the reminders job's command) signs in at: one value, the stack's output."""
    config = load_stack_config(graph.stack)
    target = targets.load(loader.DEFINITIONS_DIR, graph.stack, loader.load())
    assert str(target.admin_url).rstrip("/") == graph.outputs["adminUrl"]
    assert graph.outputs["adminUrl"] == admin_path.admin_url(config.dns.hostname)
    assert graph.outputs["adminUrl"] == f"https://admin.{config.dns.hostname}"


# --- each defect is caught by the Rego rules ---------------------------------------------------------------


def _internal(graph: Graph) -> Resource:
    return one([lb for lb in internal_albs(graph) if lb.region == TOKYO])


def internet_facing(graph: Graph) -> None:
    _internal(graph).inputs["internal"] = False


def open_to_addresses(graph: Graph) -> None:
    rule = one(graph.of_type(INGRESS))
    rule.inputs.pop("referencedSecurityGroupId")
    rule.inputs["cidrIpv4"] = "0.0.0.0/0"


def inline_ingress(graph: Graph) -> None:
    sg = admin_sg(graph, TOKYO)
    sg.inputs["ingress"] = [{"protocol": "tcp", "fromPort": 443, "toPort": 443, "cidrBlocks": ["10.0.0.0/8"]}]


def admit_another_group(graph: Graph) -> None:
    one(graph.of_type(INGRESS)).inputs["referencedSecurityGroupId"] = admin_sg(graph, OSAKA).state["id"]


def admit_all_ports(graph: Graph) -> None:
    rule = one(graph.of_type(INGRESS))
    rule.inputs.update(ipProtocol="-1", fromPort=0, toPort=65535)


def drop_admission(graph: Graph) -> None:
    graph.resources = [r for r in graph.resources if r.type != INGRESS]


def _rule(graph: Graph, suffix: str, region: str = TOKYO) -> Resource:
    return one([r for r in graph.of_type(RULE) if r.name.endswith(suffix) and r.region == region])


def forward_the_console(graph: Graph) -> None:
    _rule(graph, "-admin-api").inputs["conditions"][0]["pathPattern"]["values"].append("/admin/*")


def forward_master_admin(graph: Graph) -> None:
    _rule(graph, "-admin-api").inputs["conditions"][0]["pathPattern"]["values"] = ["/admin/realms/master/*"]


def token_any_method(graph: Graph) -> None:
    rule = _rule(graph, "-master-token")
    rule.inputs["conditions"] = [c for c in rule.inputs["conditions"] if "httpRequestMethod" not in c]


def forward_by_default(graph: Graph) -> None:
    listener = listener_of(graph, _internal(graph))
    arn = _rule(graph, "-admin-api").inputs["actions"][0]["targetGroupArn"]
    listener.inputs["defaultActions"] = [{"type": "forward", "targetGroupArn": arn}]


def drop_refusal(graph: Graph) -> None:
    refusal = _rule(graph, "-refuse-odd-paths")
    graph.resources = [r for r in graph.resources if r is not refusal]


def refuse_too_late(graph: Graph) -> None:
    _rule(graph, "-refuse-odd-paths").inputs["priority"] = 30


def same_priority(graph: Graph) -> None:
    _rule(graph, "-master-token").inputs["priority"] = admin_path.ADMIN_API_PRIORITY


def priority_out_of_range(graph: Graph) -> None:
    _rule(graph, "-master-token").inputs["priority"] = 50001


def public_alb_forwards_admin(graph: Graph) -> None:
    deny = _rule(graph, "-keycloak-deny-admin")
    arn = _rule(graph, "-admin-api").inputs["actions"][0]["targetGroupArn"]
    deny.inputs["actions"] = [{"type": "forward", "targetGroupArn": arn}]


def unvalidated_certificate(graph: Graph) -> None:
    """No CertificateValidation for the internal name's certificate: the listener would get a certificate
    ACM has not issued yet (under mocks the validation's output equals the certificate's ARN, so the rule
    asks for the validation resource itself)."""
    arn = listener_of(graph, _internal(graph)).inputs["certificateArn"]
    graph.resources = [
        r
        for r in graph.resources
        if not (
            r.type == "aws:acm/certificateValidation:CertificateValidation"
            and r.state["certificateArn"] == arn
        )
    ]


def public_zone(graph: Graph) -> None:
    one([z for z in graph.of_type(ZONE) if z.region == TOKYO]).inputs.pop("vpcs")


def parent_zone(graph: Graph) -> None:
    zone = one([z for z in graph.of_type(ZONE) if z.region == TOKYO])
    zone.inputs["name"] = str(zone.inputs["name"]).removeprefix("admin.")


def one_subnet(graph: Graph) -> None:
    lb = _internal(graph)
    lb.inputs["subnets"] = lb.inputs["subnets"][:1]


def public_subnets(graph: Graph) -> None:
    public = one([lb for lb in graph.of_type(LB) if lb.region == TOKYO and not lb.inputs["internal"]])
    _internal(graph).inputs["subnets"] = list(public.inputs["subnets"])


def long_name(graph: Graph) -> None:
    _internal(graph).name = "bizid-staging-tokyo-internal-admin"


def tasks_not_registered(graph: Graph) -> None:
    service = one([s for s in graph.of_type("aws:ecs/service:Service") if s.region == TOKYO])
    service.inputs["loadBalancers"] = service.inputs["loadBalancers"][:1]


def drop_internal_path(graph: Graph) -> None:
    lb = _internal(graph)
    graph.resources = [r for r in graph.resources if r is not lb]


def tasks_refuse_the_admin_alb(graph: Graph) -> None:
    sg_id = admin_sg(graph, TOKYO).state["id"]
    service = one([s for s in graph.of_type("aws:ecs/service:Service") if s.region == TOKYO])
    app = by_id(graph, SG, one_value(service.inputs["networkConfiguration"]["securityGroups"]))
    for rule in app.inputs["ingress"]:
        if "securityGroups" in rule:
            rule["securityGroups"] = [g for g in rule["securityGroups"] if g != sg_id]


def service_does_not_wait(graph: Graph) -> None:
    """The service depends on the listener only: its default action forwards nowhere, so ECS would find the
    internal target group unattached."""
    service = one([s for s in graph.of_type("aws:ecs/service:Service") if s.region == TOKYO])
    service.options["dependsOn"] = [n for n in service.options["dependsOn"] if "-admin-" not in n]


MUTATIONS: dict[str, tuple[Callable[[Graph], None], str]] = {
    "internet-facing": (internet_facing, "forwards admin paths but is internet-facing"),
    "cidr-ingress": (open_to_addresses, "admits an address range to the internal admin ALB"),
    "inline-ingress": (inline_ingress, "has inline ingress"),
    "other-group": (admit_another_group, "only scheduled jobs' security groups"),
    "all-ports": (admit_all_ports, "only 443"),
    "job-not-admitted": (drop_admission, "is not admitted to the internal admin ALB"),
    "console-forwarded": (forward_the_console, "forwards /admin/*"),
    "master-admin-forwarded": (forward_master_admin, "forwards /admin/realms/master/*"),
    "token-any-method": (token_any_method, "for methods other than POST"),
    "default-forward": (forward_by_default, "default action forwards"),
    "no-refusal": (drop_refusal, "no rule refusing dot segments"),
    "refusal-late": (refuse_too_late, "no rule refusing dot segments"),
    "same-priority": (same_priority, "used twice on one listener"),
    "priority-range": (priority_out_of_range, "outside 1-50000"),
    "public-forwards-admin": (public_alb_forwards_admin, "internet-facing ALB forwards /admin"),
    "unvalidated-cert": (unvalidated_certificate, "is not the output of an ACM certificate validation"),
    "public-zone": (public_zone, "zone without vpcs"),
    "parent-zone": (parent_zone, "shadows more than the admin name"),
    "one-subnet": (one_subnet, "at least two availability zones"),
    "public-subnets": (public_subnets, "outside the app subnets"),
    "long-name": (long_name, "AWS allows 32 for aws:lb/loadBalancer:LoadBalancer"),
    "not-registered": (tasks_not_registered, "no Keycloak service registers in"),
    "no-internal-path": (drop_internal_path, "no internal ALB forwards the Admin API"),
    "tasks-refuse": (tasks_refuse_the_admin_alb, "does not admit the internal admin ALB"),
    "service-does-not-wait": (service_does_not_wait, "before anything forwards to it"),
}


@pytest.fixture(scope="module")
def staging_denies_nothing(opa: Path, tmp_path_factory: pytest.TempPathFactory) -> Graph:
    graph = graph_of("staging")
    assert rego_deny(opa, graph, tmp_path_factory.mktemp("clean")) == []
    return graph


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_a_defect_of_the_admin_path_is_caught(
    mutation: str, staging_denies_nothing: Graph, opa: Path, tmp_path: Path
) -> None:
    mutate, message = MUTATIONS[mutation]
    graph = copy.deepcopy(staging_denies_nothing)
    mutate(graph)
    denied = rego_deny(opa, graph, tmp_path)
    assert any(message in m for m in denied), denied


def test_a_program_with_an_internet_facing_admin_alb_is_caught(opa: Path, tmp_path: Path) -> None:
    """The same defect made in the program (not the graph): the rules see what `pulumi up` would create."""

    def public(props: dict[str, Any]) -> None:
        if props.get("internal") is True:
            props["internal"] = False

    graph = run_program("dev", load_stack_config("dev"), with_transformation({LB}, public))
    assert internal_albs(graph) == []
    denied = rego_deny(opa, graph, tmp_path)
    assert any("forwards admin paths but is internet-facing" in m for m in denied), denied


def test_the_operators_network_is_admitted_only_as_its_prefix_list(opa: Path, tmp_path: Path) -> None:
    """With `operatorPrefixList` set for a region, operators' `--target` commands reach the internal path from
    the organisation's network (VPN / Direct Connect) on 443, and the rules still pass; unset, nobody else."""
    config = load_stack_config("staging")
    tokyo = config.primary.model_copy(update={"operator_prefix_list": "pl-0123456789abcdef0"})
    graph = run_program("staging", config.model_copy(update={"primary": tokyo}))
    sg = admin_sg(graph, TOKYO)
    admitted = [r for r in graph.of_type(INGRESS) if r.inputs["securityGroupId"] == sg.state["id"]]
    operators = one([r for r in admitted if "prefixListId" in r.inputs])
    assert operators.inputs["prefixListId"] == "pl-0123456789abcdef0"
    assert (operators.inputs["ipProtocol"], operators.inputs["fromPort"], operators.inputs["toPort"]) == (
        "tcp",
        443,
        443,
    )
    assert not {"cidrIpv4", "cidrIpv6", "referencedSecurityGroupId"} & set(operators.inputs)
    assert len(admitted) == 2  # and the job's
    osaka = [
        r for r in graph.of_type(INGRESS) if r.inputs["securityGroupId"] == admin_sg(graph, OSAKA).state["id"]
    ]
    assert osaka == []  # a region's prefix list is that region's: Osaka's is its own setting
    assert rego_deny(opa, graph, tmp_path) == []


def test_an_operator_prefix_list_that_is_not_one_is_refused() -> None:
    config = load_stack_config("staging")
    with pytest.raises(ValueError, match=r"operatorPrefixList"):
        type(config.primary).model_validate(
            {**config.primary.model_dump(by_alias=True), "operatorPrefixList": "10.0.0.0/8"}
        )
