"""CloudWatch alarms of one region, to an encrypted SNS topic: what an operator must hear about at once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from infra.components.common import child
from infra.config import AlarmConfig

METRIC_NAMESPACE = "Bizid/Keycloak"
ALB_5XX_WHILE_SERVING = "IF(healthy > 0, elb5xx, 0)"
"""Metric math of the ALB 5xx alarm: the load balancer's 5xx count, or 0 while no task is healthy."""
FAILED_LOGIN_PATTERN = '{ $.loggerName = "org.keycloak.events" && $.message = "*type=\\"LOGIN_ERROR\\"*" }'


@dataclass(frozen=True)
class AlarmsArgs:
    thresholds: AlarmConfig
    kms_key_id: pulumi.Input[str]
    alb_arn_suffix: pulumi.Input[str]
    target_group_arn_suffix: pulumi.Input[str]
    keycloak_log_group: pulumi.Input[str]
    # The Osaka cluster in a two-region stack: replication lag is measured on the secondary.
    replica_cluster_identifier: pulumi.Input[str] | None
    subscribers: Sequence[str]
    # The audit pipeline of the region: Firehose streams into the landing bucket, replication to the archive.
    audit: AuditSignals | None = None


@dataclass(frozen=True)
class AuditSignals:
    delivery_stream_names: Sequence[pulumi.Input[str]]
    landing_bucket: pulumi.Input[str]
    archive_bucket: pulumi.Input[str]
    replication_rule: str


# Firehose buffers up to 300 s; records older than three buffers mean deliveries fail and are being retried
# (for at most 24 hours, then they are lost: Firehose developer guide, "Handle data delivery failures").
DELIVERY_FRESHNESS_SECONDS = 900


class Alarms(pulumi.ComponentResource):
    """SNS topic plus alarms on 5xx, failed logins, unhealthy hosts and (standby) replication lag."""

    topic_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AlarmsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("bizid:infra:Alarms", name, None, opts)
        topic = aws.sns.Topic(f"{name}-topic", kms_master_key_id=args.kms_key_id, opts=child(self))
        for i, address in enumerate(args.subscribers):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}", topic=topic.arn, protocol="email", endpoint=address, opts=child(self)
            )
        self.topic_arn = topic.arn
        limits = args.thresholds
        alb = {"LoadBalancer": args.alb_arn_suffix}

        # The ALB's own 5xx count only while the region has a healthy task. A standby ALB with no tasks
        # answers every Route 53 health check with 503: counted as is, that alarm never clears in Osaka.
        # With no healthy task at all the outage is the Route 53 health check's alarm (HealthCheckAlarms).
        aws.cloudwatch.MetricAlarm(
            f"{name}-alb-5xx",
            alarm_description=(
                "The load balancer itself answered 5xx while the region had healthy Keycloak tasks (overload)"
            ),
            metric_queries=[
                {
                    "id": "elb5xx",
                    "metric": {
                        "namespace": "AWS/ApplicationELB",
                        "metric_name": "HTTPCode_ELB_5XX_Count",
                        "dimensions": alb,
                        "period": 60,
                        "stat": "Sum",
                    },
                    "return_data": False,
                },
                {
                    "id": "healthy",
                    "metric": {
                        "namespace": "AWS/ApplicationELB",
                        "metric_name": "HealthyHostCount",
                        "dimensions": {**alb, "TargetGroup": args.target_group_arn_suffix},
                        "period": 60,
                        "stat": "Minimum",
                    },
                    "return_data": False,
                },
                {
                    "id": "serving5xx",
                    "expression": ALB_5XX_WHILE_SERVING,
                    "label": "ELB 5xx while tasks are healthy",
                    "return_data": True,
                },
            ],
            evaluation_periods=1,
            threshold=limits.http_5xx_per_minute,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
            opts=child(self),
        )
        self._alarm(
            f"{name}-target-5xx",
            "Keycloak answered 5xx",
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            alb,
            limits.http_5xx_per_minute,
            period=60,
        )
        self._alarm(
            f"{name}-unhealthy-hosts",
            "Keycloak tasks fail their readiness check on the management port",
            "AWS/ApplicationELB",
            "UnHealthyHostCount",
            {**alb, "TargetGroup": args.target_group_arn_suffix},
            0,
            period=60,
            statistic="Maximum",
        )
        aws.cloudwatch.LogMetricFilter(
            f"{name}-failed-logins",
            log_group_name=args.keycloak_log_group,
            pattern=FAILED_LOGIN_PATTERN,
            metric_transformation={
                "name": "FailedLogins",
                "namespace": METRIC_NAMESPACE,
                "value": "1",
                "default_value": "0",
            },
            opts=child(self),
        )
        self._alarm(
            f"{name}-failed-logins",
            "Failed logins well above normal: credential stuffing, or a broken login page",
            METRIC_NAMESPACE,
            "FailedLogins",
            {},
            limits.failed_logins_per_5_minutes,
            period=300,
        )
        if args.replica_cluster_identifier is not None:
            self._alarm(
                f"{name}-replication-lag",
                "Osaka lags Tokyo: a failover now would lose more than the documented RPO",
                "AWS/RDS",
                "AuroraGlobalDBReplicationLag",
                {"DBClusterIdentifier": args.replica_cluster_identifier},
                limits.replication_lag_ms,
                period=60,
                statistic="Maximum",
                evaluation_periods=3,
            )
        if args.audit is not None:
            self._audit_alarms(name, args.audit)
        self.register_outputs({"topic_arn": topic.arn})

    def _audit_alarms(self, name: str, audit: AuditSignals) -> None:
        """Audit records that do not reach the locked archive: Firehose stuck, or replication failing."""
        for i, stream in enumerate(audit.delivery_stream_names):
            self._alarm(
                f"{name}-audit-delivery-{i}",
                "Firehose cannot deliver audit records to S3 (retried for 24 hours, then lost)",
                "AWS/Firehose",
                "DeliveryToS3.DataFreshness",
                {"DeliveryStreamName": stream},
                DELIVERY_FRESHNESS_SECONDS,
                period=300,
                statistic="Maximum",
            )
        self._alarm(
            f"{name}-audit-replication",
            "Audit objects fail to replicate into the Object Lock archive (they expire from landing)",
            "AWS/S3",
            "OperationsFailedReplication",
            {
                "SourceBucket": audit.landing_bucket,
                "DestinationBucket": audit.archive_bucket,
                "RuleId": audit.replication_rule,
            },
            0,
            period=300,
        )

    def _alarm(
        self,
        name: str,
        description: str,
        namespace: str,
        metric: str,
        dimensions: dict[str, pulumi.Input[str]],
        threshold: int,
        *,
        period: int,
        statistic: str = "Sum",
        evaluation_periods: int = 1,
    ) -> aws.cloudwatch.MetricAlarm:
        return aws.cloudwatch.MetricAlarm(
            name,
            alarm_description=description,
            namespace=namespace,
            metric_name=metric,
            dimensions=dimensions or None,
            statistic=statistic,
            period=period,
            evaluation_periods=evaluation_periods,
            threshold=threshold,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            alarm_actions=[self.topic_arn],
            ok_actions=[self.topic_arn],
            opts=child(self),
        )


# Route 53 publishes health-check metrics in us-east-1 only; an alarm there notifies only a topic there.
ROUTE53_METRICS_REGION = "us-east-1"


@dataclass(frozen=True)
class HealthCheckAlarmsArgs:
    health_check_ids: Mapping[str, pulumi.Input[str]]  # region label -> Route 53 health check id
    kms_key_id: pulumi.Input[str]  # a key in us-east-1: SNS encrypts with a key of the topic's region
    subscribers: Sequence[str]
    standby_labels: Sequence[str] = ()  # regions behind a SECONDARY record (FailoverDns.standby_labels)


class HealthCheckAlarms(pulumi.ComponentResource):
    """Route 53 health-check alarms (HealthCheckStatus Minimum < 1) to an encrypted us-east-1 topic.

    An active region's check has an alarm of its own: it failing means that region is out of DNS (a failover
    is under way). A standby region's check fails by design while it runs no tasks, so an alarm of its own
    would fire for good; instead one alarm fires when **no** region's check passes (MAX over all checks < 1):
    DNS then has nowhere healthy to send anyone, standby included.

    Declare it under a us-east-1 provider: that is where Route 53's metrics live. The topic carries health
    signals only (which region's endpoint fails), no personal data."""

    topic_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: HealthCheckAlarmsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:HealthCheckAlarms", name, None, opts)
        topic = aws.sns.Topic(f"{name}-topic", kms_master_key_id=args.kms_key_id, opts=child(self))
        for i, address in enumerate(args.subscribers):
            aws.sns.TopicSubscription(
                f"{name}-email-{i}", topic=topic.arn, protocol="email", endpoint=address, opts=child(self)
            )
        self.topic_arn = topic.arn
        unknown = set(args.standby_labels) - set(args.health_check_ids)
        if unknown:
            raise ValueError(f"HealthCheckAlarms: standby_labels {sorted(unknown)} have no health check")
        for label, check_id in args.health_check_ids.items():
            if label in args.standby_labels:
                continue
            aws.cloudwatch.MetricAlarm(
                f"{name}-{label}",
                alarm_description=f"Route 53 health check of {label} fails: its endpoint is out of DNS",
                namespace="AWS/Route53",
                metric_name="HealthCheckStatus",
                dimensions={"HealthCheckId": check_id},
                statistic="Minimum",
                period=60,
                # Route 53 reports every minute while the check exists: silence is itself a failure.
                treat_missing_data="breaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                threshold=1,
                comparison_operator="LessThanThreshold",
                evaluation_periods=1,
                opts=child(self),
            )
        if args.standby_labels:
            labels = list(args.health_check_ids)
            queries: list[aws.cloudwatch.MetricAlarmMetricQueryArgsDict] = [
                {
                    "id": f"hc{i}",
                    "label": label,
                    "metric": {
                        "namespace": "AWS/Route53",
                        "metric_name": "HealthCheckStatus",
                        "dimensions": {"HealthCheckId": args.health_check_ids[label]},
                        "period": 60,
                        "stat": "Minimum",
                    },
                    "return_data": False,
                }
                for i, label in enumerate(labels)
            ]
            ids = ", ".join(f"hc{i}" for i in range(len(labels)))
            queries.append(
                {
                    "id": "anyhealthy",
                    "expression": f"MAX([{ids}])",
                    "label": "any site passes",
                    "return_data": True,
                }
            )
            aws.cloudwatch.MetricAlarm(
                f"{name}-none-healthy",
                alarm_description=(
                    f"No Route 53 health check passes ({', '.join(labels)}): no site serves sign-ins; "
                    "the standby is not up either (docs/runbook-failover.md)"
                ),
                metric_queries=queries,
                treat_missing_data="breaching",
                alarm_actions=[topic.arn],
                ok_actions=[topic.arn],
                threshold=1,
                comparison_operator="LessThanThreshold",
                evaluation_periods=1,
                opts=child(self),
            )
        self.register_outputs({"topic_arn": topic.arn})
