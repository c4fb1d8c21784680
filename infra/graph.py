"""Run the real Pulumi program in-process against mocks and capture the whole resource graph, without a cloud.

There is no Pulumi engine, plugin or AWS account in CI. `pulumi.runtime.set_mocks` stands in for the engine:
every resource the program declares arrives in `GraphMocks.new_resource` with its type, name, inputs and
provider, and the mocks answer with the attributes AWS would compute (ids, ARNs, endpoints, DNS names) so that
dependent resources see realistic values. `preview=False` makes every Output resolve, so no check is skipped
for an unknown value.

The captured graph is plain data: the tests assert over it in Python, and `python -m infra.graph <stack>`
dumps it as JSON for the Rego rules under policies/infra/ (`opa eval -i graph.json data.infra.main.deny`)."""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from infra.config import PROJECT, StackConfig, StackSecrets, load_stack_config

ACCOUNT_ID = "123456789012"
ZONE_ID = "Z0BIZIDEXAMPLE"
# Route 53 hosted zone ids of ALBs per region (published by AWS; alias records need them).
ALB_ZONE_IDS = {"ap-northeast-1": "Z14GRHDCWA56QT", "ap-northeast-3": "Z5LXEXXYW11ES"}
PROVIDER_TYPE = "pulumi:providers:aws"
PROVIDER_PREFIX = "pulumi:providers:"
SECRET_MARKER = "[secret]"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_SIG_KEY = "4dabf18193072939515e22adb298388d"


def _short(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:10]


def _camel(name: str) -> str:
    """`engine_version` -> `engineVersion`: the graph names properties as the provider does."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _plain(value: Any) -> Any:
    """Inputs as JSON-able data; secret values replaced by a marker (a test password never reaches a dump)."""
    if isinstance(value, Mapping):
        if value.get(_SIG_KEY) == _SECRET_SIG:
            return SECRET_MARKER
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _computed(typ: str, name: str, inputs: Mapping[str, Any], region: str) -> dict[str, Any]:
    """The attributes AWS computes on create, shaped as the provider returns them (camelCase)."""
    service = typ.split(":")[1].split("/")[0] if typ.startswith("aws:") else typ.split(":")[0]
    rid = inputs.get("name") or name
    out: dict[str, Any] = {
        "id": f"{rid}-{_short(name)}",
        "arn": f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{rid}",
        "name": rid,
    }
    suffix = _short(typ, name)
    match typ:
        case "aws:kms/key:Key" | "aws:kms/replicaKey:ReplicaKey":
            key_id = f"mrk-{_short(name.rsplit('-', 2)[0])}"  # replicas share the primary's key id
            out.update(id=key_id, keyId=key_id, arn=f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}")
        case "aws:rds/globalCluster:GlobalCluster":
            gid = inputs["globalClusterIdentifier"]
            out.update(
                id=gid,
                arn=f"arn:aws:rds::{ACCOUNT_ID}:global-cluster:{gid}",
                endpoint=f"{gid}.global-{suffix}.global.rds.amazonaws.com",
            )
        case "aws:rds/cluster:Cluster":
            cid = inputs.get("clusterIdentifier", name)
            out.update(
                id=cid,
                clusterIdentifier=cid,
                arn=f"arn:aws:rds:{region}:{ACCOUNT_ID}:cluster:{cid}",
                endpoint=f"{cid}.cluster-{suffix}.{region}.rds.amazonaws.com",
                readerEndpoint=f"{cid}.cluster-ro-{suffix}.{region}.rds.amazonaws.com",
            )
        case "aws:rds/clusterInstance:ClusterInstance":
            iid = inputs.get("identifier", name)
            out.update(
                id=iid,
                arn=f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{iid}",
                endpoint=f"{iid}.{region}.rds.amazonaws.com",
            )
        case "aws:rds/subnetGroup:SubnetGroup" | "aws:rds/clusterParameterGroup:ClusterParameterGroup":
            out.update(id=name, name=name)
        case "aws:lb/loadBalancer:LoadBalancer":
            out.update(
                arn=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:loadbalancer/app/{name[:20]}/{suffix}",
                arnSuffix=f"app/{name[:20]}/{suffix}",
                dnsName=f"{name[:20]}-{suffix}.{region}.elb.amazonaws.com",
                zoneId=ALB_ZONE_IDS.get(region, "ZALBUNKNOWN"),
            )
            out["id"] = out["arn"]
        case "aws:lb/targetGroup:TargetGroup":
            out.update(
                arn=f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT_ID}:targetgroup/{name[:20]}/{suffix}",
                arnSuffix=f"targetgroup/{name[:20]}/{suffix}",
            )
        case "aws:acm/certificate:Certificate":
            domain = inputs["domainName"]
            out.update(
                arn=f"arn:aws:acm:{region}:{ACCOUNT_ID}:certificate/{suffix}",
                domainValidationOptions=[
                    {
                        "domainName": domain,
                        # Same record in every region: ACM derives it from the account and the name.
                        "resourceRecordName": f"_{_short(domain)}.{domain}.",
                        "resourceRecordType": "CNAME",
                        "resourceRecordValue": f"_{_short(domain, 'v')}.acm-validations.aws.",
                    }
                ],
            )
        case "aws:acm/certificateValidation:CertificateValidation":
            out.update(certificateArn=inputs["certificateArn"])
        case "aws:route53/zone:Zone":
            zid = f"Z{suffix.upper()}"
            out.update(id=zid, zoneId=zid, arn=f"arn:aws:route53:::hostedzone/{zid}")
        case "aws:route53/record:Record":
            out.update(fqdn=str(inputs["name"]).rstrip("."))
        case "aws:route53/healthCheck:HealthCheck":
            out.update(id=f"hc-{suffix}", arn=f"arn:aws:route53:::healthcheck/hc-{suffix}")
        case "aws:ecr/repository:Repository":
            out.update(
                repositoryUrl=f"{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com/{rid}",
                arn=f"arn:aws:ecr:{region}:{ACCOUNT_ID}:repository/{rid}",
            )
        case "aws:s3/bucket:Bucket":
            bucket = f"{inputs.get('bucketPrefix', name)}{suffix}"
            out.update(id=bucket, bucket=bucket, arn=f"arn:aws:s3:::{bucket}")
        case "aws:cloudwatch/logGroup:LogGroup":
            out.update(id=rid, arn=f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{rid}")
        case "aws:secretsmanager/secret:Secret":
            out.update(arn=f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:{name}-{suffix[:6]}")
            out["id"] = out["arn"]
        case "aws:iam/role:Role":
            out.update(id=name, name=name, arn=f"arn:aws:iam::{ACCOUNT_ID}:role/{name}")
        case "aws:ecs/cluster:Cluster":
            out.update(name=name, arn=f"arn:aws:ecs:{region}:{ACCOUNT_ID}:cluster/{name}")
        case "aws:ecs/service:Service":
            out.update(name=name, arn=f"arn:aws:ecs:{region}:{ACCOUNT_ID}:service/{name}")
        case "aws:ecs/taskDefinition:TaskDefinition":
            out.update(
                arn=f"arn:aws:ecs:{region}:{ACCOUNT_ID}:task-definition/{inputs['family']}:1", revision=1
            )
        case "aws:scheduler/schedule:Schedule":
            out.update(arn=f"arn:aws:scheduler:{region}:{ACCOUNT_ID}:schedule/default/{rid}")
        case "aws:wafv2/webAcl:WebAcl":
            out.update(
                arn=f"arn:aws:wafv2:{region}:{ACCOUNT_ID}:regional/webacl/{name}/{suffix}", capacity=800
            )
        case "aws:appautoscaling/target:Target":
            out.update(id=inputs["resourceId"])
        case "docker-build:index:Image":
            digest = f"sha256:{hashlib.sha256(name.encode()).hexdigest()}"
            out.update(digest=digest, ref=f"{inputs['tags'][0].split(':')[0]}@{digest}")
    return out


@dataclass
class Resource:
    """One declared resource: what the program asked for and what the (mock) cloud answered."""

    urn: str
    type: str
    name: str
    custom: bool
    region: str | None  # the region of the provider it is declared under; None for components and providers
    provider: str | None  # the provider reference ("urn::id"), None for components
    inputs: dict[str, Any]
    state: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    """Resource options the engine acts on (`ignoreChanges`, `dependsOn` by logical name), as the program
    declared them."""

    def as_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "custom": self.custom,
            "region": self.region,
            "provider": self.provider,
            "inputs": self.inputs,
            "state": self.state,
            "options": self.options,
        }


@dataclass
class Invoke:
    token: str
    region: str | None
    provider: str | None


@dataclass
class Graph:
    """The resource graph of one stack."""

    stack: str
    environment: str
    regions: list[str]
    resources: list[Resource] = field(default_factory=list)
    invokes: list[Invoke] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, typ: str) -> list[Resource]:
        return [r for r in self.resources if r.type == typ]

    def custom(self) -> list[Resource]:
        return [r for r in self.resources if r.custom]

    def cloud_resources(self) -> list[Resource]:
        """What `pulumi up` would create in the account: custom resources except providers."""
        return [r for r in self.resources if r.custom and not r.type.startswith(PROVIDER_PREFIX)]

    def as_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "environment": self.environment,
            "regions": self.regions,
            "resources": [r.as_json() for r in self.resources],
            "outputs": self.outputs,
        }


class GraphMocks(pulumi.runtime.Mocks):
    """Records every registration and answers like AWS would. Registrations arrive on worker threads."""

    def __init__(self, project: str, stack: str) -> None:
        self.prefix = f"urn:pulumi:{stack}::{project}::"
        self.resources: list[Resource] = []
        self.invokes: list[Invoke] = []
        self.options: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def record_options(
        self, args: pulumi.ResourceTransformationArgs
    ) -> pulumi.ResourceTransformationResult | None:
        """A stack transformation that changes nothing and notes the options the mocks are not shown."""
        ignored = [_camel(str(p)) for p in (args.opts.ignore_changes or [])] if args.opts else []
        # Explicit depends_on, by logical name: an order AWS needs that no input carries (e.g. ECS registering
        # in a target group only once a listener rule forwards to it).
        deps = args.opts.depends_on if args.opts else None
        after = (
            sorted(str(getattr(d, "_name", "")) for d in deps if isinstance(d, pulumi.Resource))
            if isinstance(deps, list | tuple)
            else []
        )
        options: dict[str, Any] = {}
        if ignored:
            options["ignoreChanges"] = sorted(ignored)
        if after:
            options["dependsOn"] = after
        with self._lock:
            self.options[(args.type_, args.name)] = options
        return None

    @staticmethod
    def region_of(provider: str | None) -> str | None:
        """Provider references end with the provider's id, which these mocks make `provider-<region>`."""
        if not provider:
            return None
        pid = provider.rsplit("::", 1)[-1]
        return pid.removeprefix("provider-") if pid.startswith("provider-") else None

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = _plain(args.inputs)
        if args.typ.startswith(PROVIDER_PREFIX):
            region = inputs.get("region")
            rid: str | None = f"provider-{region}" if region else f"global-{args.name}"
            state = dict(inputs)
            resource_region = None
        else:
            resource_region = self.region_of(args.provider)
            computed = (
                _computed(args.typ, args.name, inputs, resource_region or "aws-global") if args.custom else {}
            )
            rid = computed.pop("id", None) if args.custom else None
            state = {**inputs, **computed}
        record = Resource(
            urn=f"{self.prefix}{args.typ}::{args.name}",
            type=args.typ,
            name=args.name,
            custom=bool(args.custom),
            region=resource_region,
            provider=args.provider or None,
            inputs=inputs,
            state=_plain({**state, "id": rid}),
        )
        with self._lock:
            self.resources.append(record)
        return rid, state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        region = self.region_of(args.provider) or "aws-global"
        with self._lock:
            self.invokes.append(Invoke(args.token, self.region_of(args.provider), args.provider or None))
        match args.token:
            case "aws:index/getCallerIdentity:getCallerIdentity":
                return {
                    "accountId": ACCOUNT_ID,
                    "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/deployer",
                    "userId": "AIDAEXAMPLE",
                    "id": ACCOUNT_ID,
                }, []
            case "aws:route53/getZone:getZone":
                name = str(args.args.get("name", "")).rstrip(".")
                return {"zoneId": ZONE_ID, "name": name, "id": ZONE_ID, "nameServers": []}, []
            case "aws:ecr/getAuthorizationToken:getAuthorizationToken":
                return {
                    "userName": "AWS",
                    "password": "mock-ecr-token",
                    "authorizationToken": "QVdTOm1vY2s=",
                    "proxyEndpoint": f"https://{ACCOUNT_ID}.dkr.ecr.{region}.amazonaws.com",
                    "expiresAt": "2030-01-01T00:00:00Z",
                    "id": region,
                }, []
        raise NotImplementedError(f"no mock for invoke {args.token}")


MOCK_SECRET_VALUES = {
    "db_master_password": "mock-db-password",
    "keycloak_db_password": "mock-keycloak-db-password",
    "keycloak_admin_password": "mock-admin-password",
    "opa_token": "mock-opa-token-0123456789",
}
"""The plaintexts behind the mock config secrets: none may appear in a graph (tests/infra)."""


def mock_secrets() -> StackSecrets:
    """Stand-ins for the Pulumi secret config the CLI would decrypt; secret Outputs like the real ones."""
    return StackSecrets(**{k: pulumi.Output.secret(v) for k, v in MOCK_SECRET_VALUES.items()})


def graph_diff(before: Graph, after: Graph) -> list[str]:
    """What a preview of `after` over the state of `before` would list: resources added or removed, and per
    resource the input or option keys whose value differs (`urn: key`). Empty means no changes."""
    old = {r.urn: r for r in before.resources}
    new = {r.urn: r for r in after.resources}
    lines = [f"+ {urn}" for urn in sorted(new.keys() - old.keys())]
    lines += [f"- {urn}" for urn in sorted(old.keys() - new.keys())]
    for urn in sorted(old.keys() & new.keys()):
        a, b = old[urn], new[urn]
        for kind, x, y in (("inputs", a.inputs, b.inputs), ("options", a.options, b.options)):
            for key in sorted(x.keys() | y.keys()):
                if x.get(key) != y.get(key):
                    lines.append(f"~ {urn}: {kind}.{key}")
        if a.provider != b.provider:
            lines.append(f"~ {urn}: provider")
    if before.outputs != after.outputs:
        lines += [
            f"~ output {k}"
            for k in sorted(before.outputs.keys() | after.outputs.keys())
            if before.outputs.get(k) != after.outputs.get(k)
        ]
    return lines


def run_program(
    stack: str,
    config: StackConfig,
    program: Callable[[StackConfig, StackSecrets], Mapping[str, pulumi.Output[Any]]] | None = None,
) -> Graph:
    """Declare the stack under fresh mocks (preview=False) and wait until every registration has resolved."""
    if program is None:
        from infra.stack import build_stack

        program = build_stack
    mocks = GraphMocks(PROJECT, stack)
    pulumi.runtime.reset_options(project=PROJECT, stack=stack, preview=False)  # a new root Stack resource
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=False)
    outputs: dict[str, Any] = {}

    def keep(key: str) -> Callable[[Any], None]:
        return lambda value: outputs.__setitem__(key, _plain(value))

    def body() -> pulumi.Output[list[Any]]:
        pulumi.runtime.register_stack_transformation(mocks.record_options)
        declared = program(config, mock_secrets())
        for key, value in declared.items():
            value.apply(keep(key))
        return pulumi.Output.all(*declared.values())

    # the public test runner: waits for every registration and output
    pulumi.runtime.test(body)()  # type: ignore[no-untyped-call]
    graph = Graph(stack=stack, environment=config.environment, regions=[r.region for r in config.regions])
    for resource in mocks.resources:
        resource.options = mocks.options.get((resource.type, resource.name), {})
    graph.resources = sorted(mocks.resources, key=lambda r: (r.type, r.name))
    graph.invokes = list(mocks.invokes)
    graph.outputs = dict(sorted(outputs.items()))
    return graph


def stack_graph(stack: str) -> Graph:
    """The graph of a stack as configured in `infra/Pulumi.<stack>.yaml`."""
    return run_program(stack, load_stack_config(stack))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Dump a stack's resource graph (run under mocks) as JSON")
    parser.add_argument("stack", help="dev, staging or prod")
    parser.add_argument("--out", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    text = json.dumps(stack_graph(args.stack).as_json(), indent=1, sort_keys=True)
    if args.out:
        args.out.write_text(text)
    else:
        sys.stdout.write(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
