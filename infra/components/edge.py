"""AWS WAF in front of each region's ALB.

Rule order matters: the admin console is refused first; then per-IP rate limits on the login and token
endpoints (a subsidy deadline brings a burst of honest logins, a credential-stuffing run looks the same from
afar, so limits are per client IP and generous); then a blanket per-IP limit; then AWS managed rule groups."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from infra.components.common import ADMIN_PATH_PREFIXES, LOGIN_PATH_FRAGMENTS, TOKEN_PATH_FRAGMENTS, child
from infra.config import EdgeConfig

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
)


@dataclass(frozen=True)
class EdgeProtectionArgs:
    limits: EdgeConfig
    load_balancer_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    log_retention_days: int


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatch_metrics_enabled": True, "metric_name": metric, "sampled_requests_enabled": True}


def _uri_match(fragment: str, position: str) -> dict[str, Any]:
    return {
        "byte_match_statement": {
            "positional_constraint": position,
            "search_string": fragment,
            "field_to_match": {"uri_path": {}},
            "text_transformations": [{"priority": 0, "type": "LOWERCASE"}],
        }
    }


def _any_of(statements: Sequence[dict[str, Any]]) -> dict[str, Any]:
    return statements[0] if len(statements) == 1 else {"or_statement": {"statements": list(statements)}}


def _rate_rule(name: str, priority: int, limit: int, fragments: Sequence[str] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {"limit": limit, "aggregate_key_type": "IP", "evaluation_window_sec": 300}
    if fragments is not None:
        statement["scope_down_statement"] = _any_of([_uri_match(f, "CONTAINS") for f in fragments])
    return {
        "name": name,
        "priority": priority,
        "action": {"block": {"custom_response": {"response_code": 429}}},
        "statement": {"rate_based_statement": statement},
        "visibility_config": _visibility(name),
    }


def web_acl_rules(limits: EdgeConfig) -> list[dict[str, Any]]:
    """The rules of the web ACL, in evaluation order."""
    rules: list[dict[str, Any]] = [
        {
            "name": "block-admin-console",
            "priority": 0,
            "action": {"block": {}},
            "statement": _any_of([_uri_match(prefix, "STARTS_WITH") for prefix in ADMIN_PATH_PREFIXES]),
            "visibility_config": _visibility("block-admin-console"),
        },
        _rate_rule("rate-login", 10, limits.login_rate_limit, LOGIN_PATH_FRAGMENTS),
        _rate_rule("rate-token", 11, limits.token_rate_limit, TOKEN_PATH_FRAGMENTS),
        _rate_rule("rate-per-ip", 12, limits.ip_rate_limit, None),
    ]
    for offset, group in enumerate(MANAGED_RULE_GROUPS):
        rules.append(
            {
                "name": group,
                "priority": 20 + offset,
                "override_action": {"none": {}},
                "statement": {"managed_rule_group_statement": {"vendor_name": "AWS", "name": group}},
                "visibility_config": _visibility(group),
            }
        )
    return rules


class EdgeProtection(pulumi.ComponentResource):
    """A regional web ACL on the ALB, logging to an encrypted log group with credentials redacted."""

    web_acl_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: EdgeProtectionArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("bizid:infra:EdgeProtection", name, None, opts)
        allow: aws.wafv2.WebAclDefaultActionArgsDict = {"allow": {}}
        visibility: aws.wafv2.WebAclVisibilityConfigArgsDict = {
            "cloudwatch_metrics_enabled": True,
            "metric_name": f"{name}-acl",
            "sampled_requests_enabled": True,
        }
        acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            scope="REGIONAL",
            default_action=allow,
            # Nested WAF statements are built as plain dicts above; the provider validates their shape.
            rules=cast(list[aws.wafv2.WebAclRuleArgsDict], web_acl_rules(args.limits)),
            visibility_config=visibility,
            opts=child(self),
        )
        aws.wafv2.WebAclAssociation(
            f"{name}-alb", resource_arn=args.load_balancer_arn, web_acl_arn=acl.arn, opts=child(self)
        )
        # WAF only logs to log groups whose name starts with aws-waf-logs-.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"aws-waf-logs-{name}",
            kms_key_id=args.kms_key_arn,
            retention_in_days=args.log_retention_days,
            opts=child(self),
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            # Passwords travel in bodies (never logged); tokens and session cookies travel in headers.
            redacted_fields=[
                {"single_header": {"name": "authorization"}},
                {"single_header": {"name": "cookie"}},
            ],
            opts=child(self),
        )
        self.web_acl_arn = acl.arn
        self.register_outputs({"web_acl_arn": acl.arn})
