package infra.edge_test

import data.infra.edge

lb := {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "alb", "region": "ap-northeast-1", "inputs": {}, "state": {"arn": "arn:alb"}}

association := {"type": "aws:wafv2/webAclAssociation:WebAclAssociation", "name": "assoc", "region": "ap-northeast-1", "inputs": {"resourceArn": "arn:alb", "webAclArn": "arn:acl"}, "state": {}}

match(path) := {"byteMatchStatement": {"searchString": path, "fieldToMatch": {"uriPath": {}}}}

rate(path) := {"action": {"block": {}}, "statement": {"rateBasedStatement": {"limit": 100, "scopeDownStatement": {"orStatement": {"statements": [match(path)]}}}}}

acl(rules) := {"type": "aws:wafv2/webAcl:WebAcl", "name": "acl", "region": "ap-northeast-1", "inputs": {"scope": "REGIONAL", "rules": rules}, "state": {"arn": "arn:acl"}}

good_rules := [
	{"action": {"block": {}}, "statement": match("/admin")},
	rate("/protocol/openid-connect/auth"),
	rate("/protocol/openid-connect/token"),
	{"overrideAction": {"none": {}}, "statement": {"managedRuleGroupStatement": {"name": "AWSManagedRulesCommonRuleSet"}}},
]

test_complete_acl_passes if {
	count(edge.deny) == 0 with input as {"resources": [lb, association, acl(good_rules)]}
}

test_alb_without_acl_denied if {
	"alb: no regional WAF web ACL associated" in edge.deny with input as {"resources": [lb, acl(good_rules)]}
}

test_missing_token_rate_rule_denied if {
	rules := [r | some i, r in good_rules; i != 2]
	"alb: no blocking rate rule on /protocol/openid-connect/token" in edge.deny with input as {"resources": [lb, association, acl(rules)]}
}

test_admin_console_open_denied if {
	rules := [r | some i, r in good_rules; i != 0]
	"alb: admin console not blocked" in edge.deny with input as {"resources": [lb, association, acl(rules)]}
}
