"""One region's VPC: public subnets for the ALB and NAT only, private subnets for Keycloak and the database.

Security groups encode who may talk to whom: the internet reaches the ALB on 443 only; only the ALBs (the
public one and the internal admin one, infra/components/admin_path.py) reach Keycloak (8443 traffic, 9000
health checks); only Keycloak reaches the database. Data subnets have no route out. The internal admin ALB's
group is made here with no ingress of its own: the jobs allowed to call the Admin API are admitted one by
one, by their security group (`admin_path.admit`)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import (
    HTTPS_PORT,
    JGROUPS_PORTS,
    KEYCLOAK_HTTPS_PORT,
    KEYCLOAK_MANAGEMENT_PORT,
    POSTGRES_PORT,
    account_id,
    assume_role_policy,
    child,
    policy_document,
)

ANYWHERE = "0.0.0.0/0"


@dataclass(frozen=True)
class NetworkArgs:
    cidr: ipaddress.IPv4Network
    availability_zones: Sequence[str]
    # "per-az" keeps each zone's egress independent of the others; "single" saves cost where that is
    # acceptable.
    nat_gateways: str
    flow_log_kms_key_arn: pulumi.Input[str]
    flow_log_retention_days: int
    region: str


def subnet_plan(cidr: ipaddress.IPv4Network, zones: int) -> dict[str, list[str]]:
    """Carve the VPC into 16 equal blocks: public, app and data tiers each get one block per zone."""
    blocks = list(cidr.subnets(prefixlen_diff=4))
    return {
        "public": [str(blocks[i]) for i in range(zones)],
        "app": [str(blocks[4 + i]) for i in range(zones)],
        "data": [str(blocks[8 + i]) for i in range(zones)],
    }


class Network(pulumi.ComponentResource):
    """VPC, three subnet tiers over the given zones, routing, security groups and flow logs."""

    vpc_id: pulumi.Output[str]
    public_subnet_ids: list[pulumi.Output[str]]
    app_subnet_ids: list[pulumi.Output[str]]
    data_subnet_ids: list[pulumi.Output[str]]
    alb_security_group_id: pulumi.Output[str]
    admin_alb_security_group_id: pulumi.Output[str]
    app_security_group_id: pulumi.Output[str]
    db_security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:Network", name, None, opts)
        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=str(args.cidr),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": name},
            opts=child(self),
        )
        self.vpc_id = vpc.id
        # The default security group of a VPC allows all traffic between its members; empty it.
        aws.ec2.DefaultSecurityGroup(f"{name}-default-sg", vpc_id=vpc.id, opts=child(self))
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, opts=child(self))

        plan = subnet_plan(args.cidr, len(args.availability_zones))
        subnets: dict[str, list[aws.ec2.Subnet]] = {}
        for tier, cidrs in plan.items():
            subnets[tier] = [
                aws.ec2.Subnet(
                    f"{name}-{tier}-{i}",
                    vpc_id=vpc.id,
                    cidr_block=cidr,
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags={"Name": f"{name}-{tier}-{zone}", "tier": tier},
                    opts=child(self),
                )
                for i, (cidr, zone) in enumerate(zip(cidrs, args.availability_zones, strict=True))
            ]
        self.public_subnet_ids = [s.id for s in subnets["public"]]
        self.app_subnet_ids = [s.id for s in subnets["app"]]
        self.data_subnet_ids = [s.id for s in subnets["data"]]

        public_rt = aws.ec2.RouteTable(
            f"{name}-public-rt",
            vpc_id=vpc.id,
            routes=[{"cidr_block": ANYWHERE, "gateway_id": igw.id}],
            opts=child(self),
        )
        for i, subnet in enumerate(subnets["public"]):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{i}", subnet_id=subnet.id, route_table_id=public_rt.id, opts=child(self)
            )

        nat_count = len(args.availability_zones) if args.nat_gateways == "per-az" else 1
        nats = []
        for i in range(nat_count):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{i}", domain="vpc", opts=child(self))
            nats.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{i}",
                    allocation_id=eip.id,
                    subnet_id=subnets["public"][i].id,
                    opts=child(self, depends_on=[igw]),
                )
            )
        for i, subnet in enumerate(subnets["app"]):
            app_rt = aws.ec2.RouteTable(
                f"{name}-app-rt-{i}",
                vpc_id=vpc.id,
                routes=[{"cidr_block": ANYWHERE, "nat_gateway_id": nats[i % nat_count].id}],
                opts=child(self),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-app-rta-{i}", subnet_id=subnet.id, route_table_id=app_rt.id, opts=child(self)
            )
        # Data subnets: local routes only. The database needs nothing outside the VPC.
        data_rt = aws.ec2.RouteTable(f"{name}-data-rt", vpc_id=vpc.id, opts=child(self))
        for i, subnet in enumerate(subnets["data"]):
            aws.ec2.RouteTableAssociation(
                f"{name}-data-rta-{i}", subnet_id=subnet.id, route_table_id=data_rt.id, opts=child(self)
            )

        alb_sg = aws.ec2.SecurityGroup(
            f"{name}-alb-sg",
            vpc_id=vpc.id,
            description="Public HTTPS to the load balancer; nothing else",
            ingress=[
                {"protocol": "tcp", "from_port": HTTPS_PORT, "to_port": HTTPS_PORT, "cidr_blocks": [ANYWHERE]}
            ],
            egress=[
                {"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": [str(args.cidr)]}
                for port in (KEYCLOAK_HTTPS_PORT, KEYCLOAK_MANAGEMENT_PORT)
            ],
            opts=child(self),
        )
        # The internal ALB in front of the Admin API (admin_path.py). No inline ingress: the provider then
        # leaves ingress to the separate rules `admin_path.admit` declares, one per admitted job's security
        # group (inline and separate rules on one group would overwrite each other at every `pulumi up`).
        admin_alb_sg = aws.ec2.SecurityGroup(
            f"{name}-admin-alb-sg",
            vpc_id=vpc.id,
            description="Internal admin ALB: HTTPS from the admitted jobs' security groups only",
            egress=[
                {"protocol": "tcp", "from_port": port, "to_port": port, "cidr_blocks": [str(args.cidr)]}
                for port in (KEYCLOAK_HTTPS_PORT, KEYCLOAK_MANAGEMENT_PORT)
            ],
            opts=child(self),
        )
        app_ingress: list[aws.ec2.SecurityGroupIngressArgsDict] = [
            {
                "protocol": "tcp",
                "from_port": port,
                "to_port": port,
                "security_groups": [alb_sg.id, admin_alb_sg.id],
            }
            for port in (KEYCLOAK_HTTPS_PORT, KEYCLOAK_MANAGEMENT_PORT)
        ]
        app_ingress += [
            {"protocol": "tcp", "from_port": p, "to_port": p, "self": True} for p in JGROUPS_PORTS
        ]
        # Egress: AWS APIs (ECR, Secrets Manager, CloudWatch Logs) through the NAT, the database, peer tasks.
        app_egress: list[aws.ec2.SecurityGroupEgressArgsDict] = [
            {"protocol": "tcp", "from_port": HTTPS_PORT, "to_port": HTTPS_PORT, "cidr_blocks": [ANYWHERE]}
        ]
        app_egress += [
            {"protocol": "tcp", "from_port": p, "to_port": p, "cidr_blocks": [str(args.cidr)]}
            for p in (POSTGRES_PORT, *JGROUPS_PORTS)
        ]
        app_sg = aws.ec2.SecurityGroup(
            f"{name}-app-sg",
            vpc_id=vpc.id,
            description="Keycloak tasks: traffic and health checks from the ALB, cluster traffic in between",
            ingress=app_ingress,
            egress=app_egress,
            opts=child(self),
        )
        db_sg = aws.ec2.SecurityGroup(
            f"{name}-db-sg",
            vpc_id=vpc.id,
            description="PostgreSQL from the Keycloak tasks only",
            ingress=[
                {
                    "protocol": "tcp",
                    "from_port": POSTGRES_PORT,
                    "to_port": POSTGRES_PORT,
                    "security_groups": [app_sg.id],
                }
            ],
            egress=[],
            opts=child(self),
        )
        self.alb_security_group_id = alb_sg.id
        self.admin_alb_security_group_id = admin_alb_sg.id
        self.app_security_group_id = app_sg.id
        self.db_security_group_id = db_sg.id

        flow_logs = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=f"/bizid/vpc-flow-logs/{name}",
            kms_key_id=args.flow_log_kms_key_arn,
            retention_in_days=args.flow_log_retention_days,
            opts=child(self),
        )
        flow_role = aws.iam.Role(
            f"{name}-flow-logs-role",
            assume_role_policy=assume_role_policy(
                "vpc-flow-logs.amazonaws.com",
                account=account_id(self),
                source_arn=pulumi.Output.concat(
                    "arn:aws:ec2:", args.region, ":", account_id(self), ":vpc-flow-log/*"
                ),
            ),
            opts=child(self),
        )
        aws.iam.RolePolicy(
            f"{name}-flow-logs-policy",
            role=flow_role.id,
            policy=policy_document(
                [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                        "Resource": pulumi.Output.concat(flow_logs.arn, ":*"),
                    }
                ]
            ),
            opts=child(self),
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=flow_logs.arn,
            iam_role_arn=flow_role.arn,
            opts=child(self),
        )
        self.register_outputs({"vpc_id": self.vpc_id})
