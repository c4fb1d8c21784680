package infra.admin_path_test

import data.infra.admin_path

lb(internal) := {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "adm", "region": "ap-northeast-1", "inputs": {"internal": internal, "securityGroups": ["sg-admin"], "subnets": []}, "state": {"arn": "arn:adm", "dnsName": "adm.elb"}}

listener := {"type": "aws:lb/listener:Listener", "name": "https", "region": "ap-northeast-1", "inputs": {"loadBalancerArn": "arn:adm", "protocol": "HTTPS", "defaultActions": [{"type": "fixed-response"}]}, "state": {"arn": "arn:listener"}}

rule(name, priority, path_values, action) := {"type": "aws:lb/listenerRule:ListenerRule", "name": name, "region": "ap-northeast-1", "inputs": {"listenerArn": "arn:listener", "priority": priority, "conditions": [{"pathPattern": {"values": path_values}}], "actions": [action]}, "state": {}}

forward := {"type": "forward", "targetGroupArn": "arn:tg"}

api := rule("api", 10, ["/admin/realms/bizid", "/admin/realms/bizid/*"], forward)

denied(resources) := d if {
	d := admin_path.deny with input as {"environment": "dev", "resources": resources}
}

test_an_internet_facing_admin_alb_is_denied if {
	"adm: forwards admin paths but is internet-facing" in denied([lb(false), listener, api])
}

test_an_internal_admin_alb_is_not_called_internet_facing if {
	not "adm: forwards admin paths but is internet-facing" in denied([lb(true), listener, api])
}

test_forwarding_the_console_is_denied if {
	console := rule("console", 11, ["/admin/*"], forward)
	some msg in denied([lb(true), listener, api, console])
	startswith(msg, "console: forwards /admin/*")
}

test_an_address_range_admitted_is_denied if {
	open := {"type": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "name": "open", "inputs": {"securityGroupId": "sg-admin", "cidrIpv4": "0.0.0.0/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}, "state": {}}
	some msg in denied([lb(true), listener, api, open])
	startswith(msg, "open: admits an address range")
}

test_a_priority_used_twice_is_denied if {
	twin := rule("twin", 10, ["/realms/master/protocol/openid-connect/token"], forward)
	"twin: listener rule priority 10 used twice on one listener" in denied([lb(true), listener, api, twin])
}

test_too_many_wildcards_are_denied if {
	wild := rule("wild", 2, ["*a*", "*b*", "*c*"], {"type": "fixed-response"})
	"wild: listener rule with more than 5 wildcards (AWS's limit per rule)" in denied([wild])
}

test_a_zone_without_vpcs_is_public if {
	zone := {"type": "aws:route53/zone:Zone", "name": "zone", "inputs": {"name": "admin.id.example"}, "state": {}}
	"zone: Route 53 zone without vpcs: it would be public, not private" in denied([zone])
}
