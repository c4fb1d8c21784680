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

test_the_operators_prefix_list_admitted_is_allowed if {
	operators := {"type": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "name": "ops", "inputs": {"securityGroupId": "sg-admin", "prefixListId": "pl-0123456789abcdef0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}, "state": {}}
	every msg in denied([lb(true), listener, api, operators]) {
		not startswith(msg, "ops:")
	}
}

test_a_cidr_beside_a_prefix_list_is_denied if {
	mixed := {"type": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "name": "mixed", "inputs": {"securityGroupId": "sg-admin", "prefixListId": "pl-0123456789abcdef0", "cidrIpv6": "::/0", "ipProtocol": "tcp", "fromPort": 443, "toPort": 443}, "state": {}}
	"mixed: admits a CIDR to the internal admin ALB (operators come as a managed prefix list)" in denied([lb(true), listener, api, mixed])
}

test_the_operators_prefix_list_on_another_port_is_denied if {
	wide := {"type": "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "name": "wide", "inputs": {"securityGroupId": "sg-admin", "prefixListId": "pl-0123456789abcdef0", "ipProtocol": "tcp", "fromPort": 0, "toPort": 65535}, "state": {}}
	"wide: opens ports 0-65535 on the internal admin ALB, only 443" in denied([lb(true), listener, api, wide])
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
