# Every internet-facing ALB has a regional WAF web ACL with rate rules on login and token endpoints and the admin
# console blocked. The internal admin ALB (admin_path.rego) answers only named security groups inside the VPC.

# METADATA
# title: Edge protection
# description: "Every internet-facing ALB has a regional WAF with login/token rate rules and the admin console blocked."
package infra.edge

import data.infra.lib

# ALBs the internet reaches: every one but those declared internal.
public_load_balancers := [lb |
	some lb in lib.resources_of("aws:lb/loadBalancer:LoadBalancer")
	not lb.inputs.internal == true
]

RATE_LIMITED_PATHS := {"/protocol/openid-connect/auth", "/protocol/openid-connect/token"}

# Search strings of a URI byte match, alone or inside an OR statement.
uri_paths(s) := {p | p := s.byteMatchStatement.searchString} | {p |
	some x in s.orStatement.statements
	p := x.byteMatchStatement.searchString
}

acl_for(lb) := acl if {
	some a in lib.resources_of("aws:wafv2/webAclAssociation:WebAclAssociation")
	a.inputs.resourceArn == lb.state.arn
	some acl in lib.resources_of("aws:wafv2/webAcl:WebAcl")
	acl.state.arn == a.inputs.webAclArn
	acl.region == lb.region
	acl.inputs.scope == "REGIONAL"
}

rate_limited(acl) := {p |
	some rule in acl.inputs.rules
	rule.action.block
	p := uri_paths(rule.statement.rateBasedStatement.scopeDownStatement)[_]
}

blocked(acl) := {p |
	some rule in acl.inputs.rules
	rule.action.block
	not rule.statement.rateBasedStatement
	p := uri_paths(rule.statement)[_]
}

deny contains sprintf("%s: no regional WAF web ACL associated", [lb.name]) if {
	some lb in public_load_balancers
	not acl_for(lb)
}

deny contains sprintf("%s: no blocking rate rule on %s", [lb.name, path]) if {
	some lb in public_load_balancers
	acl := acl_for(lb)
	some path in RATE_LIMITED_PATHS
	not path in rate_limited(acl)
}

deny contains sprintf("%s: admin console not blocked", [lb.name]) if {
	some lb in public_load_balancers
	acl := acl_for(lb)
	not "/admin" in blocked(acl)
}

deny contains sprintf("%s: no AWS managed common rule set", [lb.name]) if {
	some lb in public_load_balancers
	acl := acl_for(lb)
	not managed(acl, "AWSManagedRulesCommonRuleSet")
}

managed(acl, group) if {
	some rule in acl.inputs.rules
	rule.statement.managedRuleGroupStatement.name == group
}
