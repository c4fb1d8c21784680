"""The public name: ACM certificates in each region and Route 53 failover between the regions' ALBs.

Route 53 health checks probe each region's ALB on the site writability signal (realm/site.py): 200 with
`"writable":true` only while the region's Keycloak runs on a database that takes writes. When the primary's
check fails, Route 53 answers with the standby's ALB; a Tokyo left on a read-only secondary after a failover
never passes again, so DNS cannot fail back to it. Alias records carry the ALB's 60-second TTL."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import HTTPS_PORT, child
from realm.site import WRITABLE_MARKER

HEALTH_CHECK_INTERVAL_SECONDS = 10
HEALTH_CHECK_FAILURE_THRESHOLD = 3


@dataclass(frozen=True)
class CertificateArgs:
    hostname: str
    zone_id: pulumi.Input[str]
    # ACM gives the same validation record for a name in every region of an account: create it once (primary)
    # and let the other regions wait on it.
    validation_fqdns: Sequence[pulumi.Input[str]] | None = None


class Certificate(pulumi.ComponentResource):
    """A DNS-validated ACM certificate for the public name in one region."""

    arn: pulumi.Output[str]
    validation_fqdns: list[pulumi.Output[str]]

    def __init__(self, name: str, args: CertificateArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:Certificate", name, None, opts)
        cert = aws.acm.Certificate(
            f"{name}-cert",
            domain_name=args.hostname,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            opts=child(self),
        )
        if args.validation_fqdns is None:
            option = cert.domain_validation_options[0]
            record = aws.route53.Record(
                f"{name}-validation",
                zone_id=args.zone_id,
                name=option.resource_record_name,
                type=option.resource_record_type,
                records=[option.resource_record_value],
                ttl=300,
                allow_overwrite=True,
                opts=child(self),
            )
            self.validation_fqdns = [record.fqdn]
        else:
            self.validation_fqdns = [pulumi.Output.from_input(f) for f in args.validation_fqdns]
        validation = aws.acm.CertificateValidation(
            f"{name}-validated",
            certificate_arn=cert.arn,
            validation_record_fqdns=self.validation_fqdns,
            opts=child(self),
        )
        self.arn = validation.certificate_arn
        self.register_outputs({"arn": self.arn})


@dataclass(frozen=True)
class DnsTarget:
    label: str  # tokyo / osaka
    failover: str  # PRIMARY / SECONDARY
    alb_dns_name: pulumi.Input[str]
    alb_zone_id: pulumi.Input[str]


@dataclass(frozen=True)
class FailoverDnsArgs:
    zone_id: pulumi.Input[str]
    hostname: str
    health_check_path: str
    targets: Sequence[DnsTarget]


class FailoverDns(pulumi.ComponentResource):
    """One health check per region and one alias record per region (failover routing when there are two)."""

    health_check_ids: dict[str, pulumi.Output[str]]
    standby_labels: tuple[str, ...]
    """Regions behind a SECONDARY record: their check fails by design while they stand by (no tasks)."""

    def __init__(self, name: str, args: FailoverDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:FailoverDns", name, None, opts)
        self.health_check_ids = {}
        failover = len(args.targets) > 1
        self.standby_labels = tuple(t.label for t in args.targets if failover and t.failover == "SECONDARY")
        for target in args.targets:
            check = aws.route53.HealthCheck(
                f"{name}-{target.label}-health",
                # 2xx/3xx is not enough: the body must carry the marker only a writable site answers with.
                type="HTTPS_STR_MATCH",
                search_string=WRITABLE_MARKER,
                fqdn=target.alb_dns_name,
                port=HTTPS_PORT,
                resource_path=args.health_check_path,
                request_interval=HEALTH_CHECK_INTERVAL_SECONDS,
                failure_threshold=HEALTH_CHECK_FAILURE_THRESHOLD,
                measure_latency=True,
                tags={"Name": f"{args.hostname} {target.label}"},
                opts=child(self),
            )
            self.health_check_ids[target.label] = check.id
            aws.route53.Record(
                f"{name}-{target.label}",
                zone_id=args.zone_id,
                name=args.hostname,
                type="A",
                aliases=[
                    {
                        "name": target.alb_dns_name,
                        "zone_id": target.alb_zone_id,
                        "evaluate_target_health": True,
                    }
                ],
                set_identifier=f"{target.label}-{target.failover.lower()}" if failover else None,
                failover_routing_policies=[{"type": target.failover}] if failover else None,
                # Simple routing takes no health check; the check still feeds the alarms and the runbook.
                health_check_id=check.id if failover else None,
                opts=child(self),
            )
        self.register_outputs({})
