# The internal admin path (infra/components/admin_path.py): jobs in the VPC reach Keycloak's Admin API through an
# internal ALB that forwards only the bizid realm's Admin API and master's token endpoint, admits named security
# groups only, serves a validated certificate for a name that resolves inside the VPC only; the public ALB never
# forwards an admin path. Also the AWS rules every ALB, listener rule and private zone must meet to deploy.

# METADATA
# title: Internal admin path
# description: "Admin API only through an internal ALB, only for named security groups, only the paths jobs need."
package infra.admin_path

import data.infra.lib

REALM := "bizid"

TOKEN_PATH := "/realms/master/protocol/openid-connect/token"

# What the internal listener may forward: the bizid realm's Admin API and master's token endpoint (client
# credentials), nothing of the admin console or the master realm's Admin API.
FORWARDABLE := {
	sprintf("/admin/realms/%s", [REALM]),
	sprintf("/admin/realms/%s/*", [REALM]),
	TOKEN_PATH,
}

REFUSED := {"*..*", "*%2*"}

ADMIN_PREFIXES := ["/admin", "/realms/master"]

load_balancers := lib.resources_of("aws:lb/loadBalancer:LoadBalancer")

listeners := lib.resources_of("aws:lb/listener:Listener")

listener_rules := lib.resources_of("aws:lb/listenerRule:ListenerRule")

security_groups := lib.resources_of("aws:ec2/securityGroup:SecurityGroup")

ingress_rules := lib.resources_of("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")

_list(x) := x if is_array(x)

_list(x) := [] if x == null

rules_of(listener) := [r | some r in listener_rules; r.inputs.listenerArn == listener.state.arn]

listeners_of(lb) := [l | some l in listeners; l.inputs.loadBalancerArn == lb.state.arn]

paths(rule) := {p | some c in rule.inputs.conditions; some p in c.pathPattern.values}

forwards(action) if action.type == "forward"

forwards(action) if action.forward

forwarding(rule) if {
	some a in rule.inputs.actions
	forwards(a)
}

admin_path(p) if {
	some prefix in ADMIN_PREFIXES
	startswith(p, prefix)
}

# ALBs with a listener that forwards an admin path: the internal admin ALBs.
admin_albs := {lb |
	some lb in load_balancers
	some l in listeners_of(lb)
	some r in rules_of(l)
	forwarding(r)
	some p in paths(r)
	admin_path(p)
}

admin_alb_security_groups := {sg | some lb in admin_albs; some sg in lb.inputs.securityGroups}

# The security groups of the scheduled jobs' tasks (the reminders job).
job_security_groups := {sg |
	some s in lib.resources_of("aws:scheduler/schedule:Schedule")
	some sg in s.inputs.target.ecsParameters.networkConfiguration.securityGroups
}

keycloak_services := [s |
	some s in lib.resources_of("aws:ecs/service:Service")
	some t in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	t.state.arn == s.inputs.taskDefinition
	endswith(t.inputs.family, "-keycloak")
]

sg_by_id := {sg.state.id: sg | some sg in security_groups}

# --- the path exists wherever Keycloak runs, and the job reaches it ---

deny contains sprintf("%s: Keycloak runs here but no internal ALB forwards the Admin API (jobs cannot reach it)", [region]) if {
	some region in {s.region | some s in keycloak_services}
	count([lb | some lb in admin_albs; lb.region == region]) == 0
}

deny contains sprintf("%s: more than one internal admin ALB", [region]) if {
	some region in {lb.region | some lb in admin_albs}
	count([lb | some lb in admin_albs; lb.region == region]) > 1
}

deny contains sprintf("%s: the job's security group %s is not admitted to the internal admin ALB", [s.name, sg]) if {
	some s in lib.resources_of("aws:scheduler/schedule:Schedule")
	some sg in s.inputs.target.ecsParameters.networkConfiguration.securityGroups
	not _admitted_in(sg, s.region)
}

_admitted_in(client, region) if {
	some lb in admin_albs
	lb.region == region
	some target in lb.inputs.securityGroups
	some r in ingress_rules
	r.inputs.securityGroupId == target
	r.inputs.referencedSecurityGroupId == client
	r.inputs.fromPort <= 443
	r.inputs.toPort >= 443
}

deny contains sprintf("%s: a job's security group without egress on 443 (it cannot reach the admin ALB)", [sg.name]) if {
	some sg in security_groups
	sg.state.id in job_security_groups
	not _egress_443(sg)
}

_egress_443(sg) if {
	some e in sg.inputs.egress
	e.fromPort <= 443
	e.toPort >= 443
}

# --- never on the internet, only from named groups ---

deny contains sprintf("%s: forwards admin paths but is internet-facing", [lb.name]) if {
	some lb in admin_albs
	not lb.inputs.internal == true
}

deny contains sprintf("%s: internal admin ALB outside the app subnets", [lb.name]) if {
	some lb in admin_albs
	some id in lb.inputs.subnets
	not _app_subnet(id)
}

_app_subnet(id) if {
	some s in lib.resources_of("aws:ec2/subnet:Subnet")
	s.state.id == id
	s.inputs.tags.tier == "app"
}

deny contains sprintf("%s: internal admin ALB's security group has inline ingress (only named groups, through separate rules)", [sg.name]) if {
	some sg in security_groups
	sg.state.id in admin_alb_security_groups
	count(_list(object.get(sg.inputs, "ingress", null))) > 0
}

deny contains sprintf("%s: admits an address range to the internal admin ALB, not a named security group or prefix list", [r.name]) if {
	some r in ingress_rules
	r.inputs.securityGroupId in admin_alb_security_groups
	not r.inputs.referencedSecurityGroupId
	not r.inputs.prefixListId
}

# The operators' network comes only as a managed prefix list the organisation maintains (its VPN or Direct
# Connect ranges), alone in its rule: never a literal CIDR written into the stack.
deny contains sprintf("%s: admits a CIDR to the internal admin ALB (operators come as a managed prefix list)", [r.name]) if {
	some r in ingress_rules
	r.inputs.securityGroupId in admin_alb_security_groups
	some key in ["cidrIpv4", "cidrIpv6"]
	r.inputs[key]
}

deny contains sprintf("%s: admits %v to the internal admin ALB: only scheduled jobs' security groups", [r.name, r.inputs.referencedSecurityGroupId]) if {
	some r in ingress_rules
	r.inputs.securityGroupId in admin_alb_security_groups
	r.inputs.referencedSecurityGroupId
	not r.inputs.referencedSecurityGroupId in job_security_groups
}

deny contains sprintf("%s: opens ports %v-%v on the internal admin ALB, only 443", [r.name, r.inputs.fromPort, r.inputs.toPort]) if {
	some r in ingress_rules
	r.inputs.securityGroupId in admin_alb_security_groups
	not _only_443(r)
}

_only_443(r) if {
	r.inputs.ipProtocol == "tcp"
	r.inputs.fromPort == 443
	r.inputs.toPort == 443
}

# The other half of each pair: the admin ALB may send to the tasks, and the tasks admit it.
deny contains sprintf("%s: Keycloak's security group does not admit the internal admin ALB on %d", [svc.name, port]) if {
	some svc in keycloak_services
	some lb in admin_albs
	lb.region == svc.region
	some admin_sg in lb.inputs.securityGroups
	some port in [8443, 9000]
	not _tasks_admit(svc, admin_sg, port)
}

_tasks_admit(svc, admin_sg, port) if {
	some id in svc.inputs.networkConfiguration.securityGroups
	some rule in sg_by_id[id].inputs.ingress
	rule.fromPort <= port
	rule.toPort >= port
	admin_sg in rule.securityGroups
}

deny contains sprintf("%s: internal admin ALB's security group has no egress to Keycloak on %d", [sg.name, port]) if {
	some sg in security_groups
	sg.state.id in admin_alb_security_groups
	some port in [8443, 9000]
	not _egress_to(sg, port)
}

_egress_to(sg, port) if {
	some e in sg.inputs.egress
	e.fromPort <= port
	e.toPort >= port
}

# --- the listener forwards only what the jobs need ---

deny contains sprintf("%s: forwards %s; the internal listener forwards only %v", [r.name, p, sort(FORWARDABLE)]) if {
	some lb in admin_albs
	some l in listeners_of(lb)
	some r in rules_of(l)
	forwarding(r)
	some p in paths(r)
	not p in FORWARDABLE
}

deny contains sprintf("%s: a forwarding rule without a path condition on the internal listener", [r.name]) if {
	some lb in admin_albs
	some l in listeners_of(lb)
	some r in rules_of(l)
	forwarding(r)
	count(paths(r)) == 0
}

deny contains sprintf("%s: forwards master's token endpoint for methods other than POST", [r.name]) if {
	some lb in admin_albs
	some l in listeners_of(lb)
	some r in rules_of(l)
	forwarding(r)
	TOKEN_PATH in paths(r)
	not _post_only(r)
}

_post_only(r) if {
	some c in r.inputs.conditions
	c.httpRequestMethod.values == ["POST"]
}

deny contains sprintf("%s: the internal listener's default action forwards (everything not named must be refused)", [l.name]) if {
	some lb in admin_albs
	some l in listeners_of(lb)
	some a in l.inputs.defaultActions
	forwards(a)
}

deny contains sprintf("%s: no rule refusing dot segments and encoded separators before the forwarding rules", [l.name]) if {
	some lb in admin_albs
	some l in listeners_of(lb)
	not _refuses_odd_paths_first(l)
}

_refuses_odd_paths_first(l) if {
	some r in rules_of(l)
	not forwarding(r)
	REFUSED == paths(r)
	every f in rules_of(l) {
		_first_or_not_forwarding(r, f)
	}
}

_first_or_not_forwarding(_, f) if not forwarding(f)

_first_or_not_forwarding(r, f) if r.inputs.priority < f.inputs.priority

# The public ALB (internet-facing) never forwards an admin path, whatever the WAF does.
deny contains sprintf("%s: internet-facing ALB forwards %s", [lb.name, p]) if {
	some lb in load_balancers
	not lb.inputs.internal == true
	some l in listeners_of(lb)
	some r in rules_of(l)
	forwarding(r)
	some p in paths(r)
	admin_path(p)
}

# Each admin ALB forwards to a target group Keycloak's service registers its tasks in.
deny contains sprintf("%s: forwards to a target group no Keycloak service registers in", [r.name]) if {
	some lb in admin_albs
	some l in listeners_of(lb)
	some r in rules_of(l)
	some a in r.inputs.actions
	forwards(a)
	not a.targetGroupArn in {g.targetGroupArn | some s in keycloak_services; s.region == lb.region; some g in s.inputs.loadBalancers}
}

# --- the name and its certificate ---

deny contains sprintf("%s: the internal admin name has no private hosted zone associated with the ALB's VPC", [lb.name]) if {
	some lb in admin_albs
	not _private_alias(lb)
}

_private_alias(lb) if {
	some z in lib.resources_of("aws:route53/zone:Zone")
	some v in z.inputs.vpcs
	v.vpcRegion == lb.region
	some rec in lib.resources_of("aws:route53/record:Record")
	rec.inputs.zoneId == z.state.zoneId
	rec.inputs.name == z.inputs.name
	some alias in rec.inputs.aliases
	alias.name == lb.state.dnsName
	_certificate_names(lb)[z.inputs.name]
}

_certificate_names(lb) := {c.inputs.domainName |
	some l in listeners_of(lb)
	some c in lib.resources_of("aws:acm/certificate:Certificate")
	c.state.arn == l.inputs.certificateArn
}

deny contains sprintf("%s: Route 53 zone without vpcs: it would be public, not private", [z.name]) if {
	some z in lib.resources_of("aws:route53/zone:Zone")
	count(_list(object.get(z.inputs, "vpcs", null))) == 0
}

deny contains sprintf("%s: private zone %s shadows more than the admin name inside the VPC", [z.name, z.inputs.name]) if {
	some z in lib.resources_of("aws:route53/zone:Zone")
	count(_list(object.get(z.inputs, "vpcs", null))) > 0
	not startswith(z.inputs.name, "admin.")
}

# --- AWS rules the provider would only report at `pulumi up` ---

deny contains sprintf("%s: certificate %v is not the output of an ACM certificate validation", [l.name, l.inputs.certificateArn]) if {
	some l in listeners
	l.inputs.protocol == "HTTPS"
	not l.inputs.certificateArn in {v.state.certificateArn | some v in lib.resources_of("aws:acm/certificateValidation:CertificateValidation")}
}

deny contains sprintf("%s: ALB needs subnets in at least two availability zones", [lb.name]) if {
	some lb in load_balancers
	count({s.inputs.availabilityZone |
		some id in lb.inputs.subnets
		some s in lib.resources_of("aws:ec2/subnet:Subnet")
		s.state.id == id
	}) < 2
}

deny contains sprintf("%s: listener rule priority %v outside 1-50000", [r.name, r.inputs.priority]) if {
	some r in listener_rules
	not _valid_priority(r.inputs.priority)
}

_valid_priority(p) if {
	is_number(p)
	p >= 1
	p <= 50000
}

deny contains sprintf("%s: listener rule priority %v used twice on one listener", [r.name, r.inputs.priority]) if {
	some r in listener_rules
	some other in listener_rules
	r.name != other.name
	r.inputs.listenerArn == other.inputs.listenerArn
	r.inputs.priority == other.inputs.priority
}

deny contains sprintf("%s: listener rule with more than 5 condition values (AWS's limit per rule)", [r.name]) if {
	some r in listener_rules
	count([v | some c in r.inputs.conditions; some k, cond in c; some v in cond.values]) > 5
}

deny contains sprintf("%s: listener rule with more than 5 wildcards (AWS's limit per rule)", [r.name]) if {
	some r in listener_rules
	count([c | some p in paths(r); some c in split(p, ""); c in {"*", "?"}]) > 5
}

# ECS refuses to register a service's tasks in a target group no listener forwards to: the service must wait
# for a rule (or listener) forwarding to each of its target groups (graph options.dependsOn, logical names).
deny contains sprintf("%s: registers in %s before anything forwards to it (ECS refuses; depend on its listener rule)", [svc.name, g.targetGroupArn]) if {
	some svc in keycloak_services
	some g in svc.inputs.loadBalancers
	not _waits_for_a_forward(svc, g.targetGroupArn)
}

_forwarders(arn) := {r.name |
	some r in listener_rules
	some a in r.inputs.actions
	a.targetGroupArn == arn
} | {l.name |
	some l in listeners
	some a in l.inputs.defaultActions
	a.targetGroupArn == arn
}

_waits_for_a_forward(svc, arn) if {
	some name in object.get(svc, ["options", "dependsOn"], [])
	name in _forwarders(arn)
}
