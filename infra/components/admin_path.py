"""The internal admin path: how jobs inside the VPC reach Keycloak's Admin API, which the public URL refuses.

The public ALB and the WAF refuse `/admin` and `/realms/master` (keycloak_service.py, edge.py), so
`bizid notify reminders --target <env>` (and any other in-VPC job signing in as a master-realm service
account) needs another way in. Per region that runs Keycloak:

- an **internal** ALB (scheme internal, in the app subnets) with one HTTPS listener on 443, TLS 1.3 policy,
  and an ACM certificate for `admin.<bizid:dns.hostname>` (DNS-validated through the public hosted zone: ACM
  only needs the validation CNAME, the name itself never resolves publicly);
- its listener forwards only what the job clients call: the Admin API of the bizid realm
  (`/admin/realms/bizid`, `/admin/realms/bizid/*`) and master's token endpoint (POST only, client
  credentials); paths with dot segments or encoded separators are refused first; everything else (the admin
  console, the master realm's Admin API, every login page) is a fixed 404;
- a Route 53 **private hosted zone** named exactly `admin.<hostname>`, associated with the region's VPC only,
  with an alias to the internal ALB: a zone for that one name, so it shadows nothing else of the public zone
  inside the VPC (a private zone for the parent domain would hide the public records from the tasks);
- its security group (network.py) has no ingress of its own: `admit` adds 443 from one named security group
  (the reminders job's), `admit_operators` 443 from the organisation's operator network as a managed prefix
  list (`operatorPrefixList` of the region, optional); never a literal address range.

Keycloak needs no hostname option for this (docs/infra.md, "Internal admin path"): with `KC_HOSTNAME` a full
URL, the frontend URL, and so every token's issuer, is the public URL whatever host a request came in on,
and the Admin API checks a bearer token against that same issuer. Tested against the real Keycloak in
tests/test_admin_hostname_e2e.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import (
    HTTPS_PORT,
    TLS_POLICY,
    child,
    keycloak_target_group,
)

ADMIN_HOST_LABEL = "admin"
"""The internal name is `<label>.<bizid:dns.hostname>`: under the public name, so the same hosted zone
validates its certificate and nobody has to configure a second name."""
TOKEN_PATH = "/realms/master/protocol/openid-connect/token"
"""Where a master-realm service account gets its Admin API token (client credentials)."""
REFUSED_PATHS = ("*..*", "*%2*")
"""Dot segments and encoded dots and slashes (`%2e`, `%2f`, in either case): a path the ALB would match as
`/admin/realms/bizid/...` but Keycloak could resolve elsewhere. Two patterns, four wildcards: AWS allows five
wildcards and five condition values per rule."""
NOT_FOUND: aws.lb.ListenerRuleActionFixedResponseArgsDict = {
    "content_type": "text/plain",
    "status_code": "404",
    "message_body": "Not Found",
}
REFUSED_PRIORITY = 1
ADMIN_API_PRIORITY = 10
TOKEN_PRIORITY = 20


def admin_hostname(hostname: str) -> str:
    return f"{ADMIN_HOST_LABEL}.{hostname}"


def admin_url(hostname: str) -> str:
    """The target files' `admin_url` (realm/definitions/targets/<env>.yaml; tests/infra/test_admin_path.py
    compares them with the stack's output `adminUrl`)."""
    return f"https://{admin_hostname(hostname)}"


def admin_api_paths(realm: str) -> tuple[str, str]:
    return (f"/admin/realms/{realm}", f"/admin/realms/{realm}/*")


@dataclass(frozen=True)
class InternalAdminPathArgs:
    region: str
    hostname: str
    """The public name (`bizid:dns.hostname`); the internal one is `admin_hostname(hostname)`."""
    realm: str
    vpc_id: pulumi.Input[str]
    subnet_ids: Sequence[pulumi.Input[str]]
    """The app subnets (one per AZ, at least two zones: an ALB needs two)."""
    security_group_id: pulumi.Input[str]
    """network.py's admin ALB group: no ingress until `admit` names a client group."""
    certificate_arn: pulumi.Input[str]
    """Of a validated certificate for the internal name (the validation's output, so the listener waits)."""
    short_name: str
    """Logical names `<short_name>-adm` (ALB) and `-atg` (target group): the engine adds 8 characters and AWS
    allows 32 for both (policies/infra/naming.rego)."""
    deletion_protection: bool


class InternalAdminPath(pulumi.ComponentResource):
    """Internal ALB, target group, listener and rules, private hosted zone and alias of one region."""

    alb: aws.lb.LoadBalancer
    target_group: aws.lb.TargetGroup
    listener: aws.lb.Listener
    forwarding_rules: list[aws.lb.ListenerRule]
    """The rules that forward to `target_group`: only through them is it associated with the ALB, which ECS
    requires before a service may register tasks in it."""
    zone: aws.route53.Zone

    def __init__(
        self, name: str, args: InternalAdminPathArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:InternalAdminPath", name, None, opts)
        host = admin_hostname(args.hostname)
        self.alb = aws.lb.LoadBalancer(
            f"{args.short_name}-adm",
            load_balancer_type="application",
            internal=True,
            security_groups=[args.security_group_id],
            subnets=list(args.subnet_ids),
            drop_invalid_header_fields=True,
            enable_deletion_protection=args.deletion_protection,
            idle_timeout=60,
            opts=child(self),
        )
        self.target_group = keycloak_target_group(f"{args.short_name}-atg", args.vpc_id, child(self))
        self.listener = aws.lb.Listener(
            f"{name}-https",
            load_balancer_arn=self.alb.arn,
            port=HTTPS_PORT,
            protocol="HTTPS",
            ssl_policy=TLS_POLICY,
            certificate_arn=args.certificate_arn,
            default_actions=[{"type": "fixed-response", "fixed_response": NOT_FOUND}],
            opts=child(self),
        )
        aws.lb.ListenerRule(
            f"{name}-refuse-odd-paths",
            listener_arn=self.listener.arn,
            priority=REFUSED_PRIORITY,
            conditions=[{"path_pattern": {"values": list(REFUSED_PATHS)}}],
            actions=[{"type": "fixed-response", "fixed_response": NOT_FOUND}],
            opts=child(self),
        )
        admin_api = aws.lb.ListenerRule(
            f"{name}-admin-api",
            listener_arn=self.listener.arn,
            priority=ADMIN_API_PRIORITY,
            conditions=[{"path_pattern": {"values": list(admin_api_paths(args.realm))}}],
            actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            opts=child(self),
        )
        master_token = aws.lb.ListenerRule(
            f"{name}-master-token",
            listener_arn=self.listener.arn,
            priority=TOKEN_PRIORITY,
            conditions=[
                {"path_pattern": {"values": [TOKEN_PATH]}},
                {"http_request_method": {"values": ["POST"]}},
            ],
            actions=[{"type": "forward", "target_group_arn": self.target_group.arn}],
            opts=child(self),
        )
        self.forwarding_rules = [admin_api, master_token]
        # A zone for exactly the internal name, seen from this region's VPC only.
        self.zone = aws.route53.Zone(
            f"{name}-zone",
            name=host,
            comment=f"bizid internal admin path ({args.region}): resolves inside the VPC only",
            vpcs=[{"vpc_id": args.vpc_id, "vpc_region": args.region}],
            opts=child(self),
        )
        aws.route53.Record(
            f"{name}-alias",
            zone_id=self.zone.zone_id,
            name=host,
            type="A",
            aliases=[
                {"name": self.alb.dns_name, "zone_id": self.alb.zone_id, "evaluate_target_health": False}
            ],
            opts=child(self),
        )
        self.register_outputs({"alb_dns_name": self.alb.dns_name})


def admit(
    name: str,
    admin_security_group_id: pulumi.Input[str],
    client_security_group_id: pulumi.Input[str],
    description: str,
    opts: pulumi.ResourceOptions | None = None,
) -> aws.vpc.SecurityGroupIngressRule:
    """Let one job's security group reach the internal admin ALB on 443: the only kind of ingress it has."""
    return aws.vpc.SecurityGroupIngressRule(
        name,
        security_group_id=admin_security_group_id,
        referenced_security_group_id=client_security_group_id,
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        description=description,
        opts=opts,
    )


def admit_operators(
    name: str,
    admin_security_group_id: pulumi.Input[str],
    prefix_list_id: str,
    opts: pulumi.ResourceOptions | None = None,
) -> aws.vpc.SecurityGroupIngressRule:
    """Let the organisation's operator network (a managed prefix list it maintains: its VPN or Direct Connect
    ranges) reach the internal admin ALB on 443, for the lifecycle commands' `--target`."""
    return aws.vpc.SecurityGroupIngressRule(
        name,
        security_group_id=admin_security_group_id,
        prefix_list_id=prefix_list_id,
        ip_protocol="tcp",
        from_port=HTTPS_PORT,
        to_port=HTTPS_PORT,
        description="bizid operators (--target): the organisation's operator network",
        opts=opts,
    )
