# Nothing that holds data is reachable from the internet; only the ALB answers, on 443, with a TLS 1.3 policy.

# METADATA
# title: Internet exposure
# description: "Nothing that holds data is reachable from the internet; only the ALB answers, on 443."
package infra.exposure

import data.infra.lib

alb_security_groups := {sg |
	some lb in lib.resources_of("aws:lb/loadBalancer:LoadBalancer")
	some sg in lb.inputs.securityGroups
}

database_security_groups := {sg |
	some c in lib.resources_of("aws:rds/cluster:Cluster")
	some sg in c.inputs.vpcSecurityGroupIds
}

public_https_to_alb(sg, rule) if {
	sg.state.id in alb_security_groups
	rule.fromPort == 443
	rule.toPort == 443
}

deny contains sprintf("%s: open to the internet on port %v", [sg.name, rule.fromPort]) if {
	some sg in lib.resources_of("aws:ec2/securityGroup:SecurityGroup")
	some rule in sg.inputs.ingress
	"0.0.0.0/0" in rule.cidrBlocks
	not public_https_to_alb(sg, rule)
}

deny contains sprintf("%s: database reachable from addresses, not only from the app tier", [sg.name]) if {
	some sg in lib.resources_of("aws:ec2/securityGroup:SecurityGroup")
	sg.state.id in database_security_groups
	some rule in sg.inputs.ingress
	count(object.get(rule, "cidrBlocks", [])) > 0
}

deny contains sprintf("%s: database instance publicly accessible", [i.name]) if {
	some i in lib.resources_of("aws:rds/clusterInstance:ClusterInstance")
	not i.inputs.publiclyAccessible == false
}

deny contains sprintf("%s: subnet hands out public addresses", [s.name]) if {
	some s in lib.resources_of("aws:ec2/subnet:Subnet")
	s.inputs.mapPublicIpOnLaunch == true
}

deny contains sprintf("%s: Keycloak tasks get public addresses", [s.name]) if {
	some s in lib.resources_of("aws:ecs/service:Service")
	not s.inputs.networkConfiguration.assignPublicIp == false
}

deny contains sprintf("%s: listener is not HTTPS on 443", [l.name]) if {
	some l in lib.resources_of("aws:lb/listener:Listener")
	not https_443(l)
}

https_443(l) if {
	l.inputs.port == 443
	l.inputs.protocol == "HTTPS"
}

deny contains sprintf("%s: TLS policy %v is not a TLS 1.3 policy", [l.name, object.get(l.inputs, "sslPolicy", "none")]) if {
	some l in lib.resources_of("aws:lb/listener:Listener")
	not startswith(object.get(l.inputs, "sslPolicy", ""), "ELBSecurityPolicy-TLS13-")
}

deny contains sprintf("%s: management port 9000 routed as traffic", [g.name]) if {
	some g in lib.resources_of("aws:lb/targetGroup:TargetGroup")
	g.inputs.port == 9000
}

deny contains sprintf("%s: bucket without a public access block", [b.name]) if {
	some b in lib.resources_of("aws:s3/bucket:Bucket")
	not fully_blocked(b.state.id)
}

fully_blocked(bucket) if {
	some p in lib.resources_of("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
	p.inputs.bucket == bucket
	p.inputs.blockPublicAcls == true
	p.inputs.blockPublicPolicy == true
	p.inputs.ignorePublicAcls == true
	p.inputs.restrictPublicBuckets == true
}

deny contains sprintf("%s: database reachable from addresses, not only from the app tier", [sg.name]) if {
	some sg in lib.resources_of("aws:ec2/securityGroup:SecurityGroup")
	sg.state.id in database_security_groups
	some rule in sg.inputs.ingress
	count(object.get(rule, "securityGroups", [])) == 0
}

deny contains sprintf("%s: database cluster publicly accessible", [c.name]) if {
	some c in lib.resources_of("aws:rds/cluster:Cluster")
	object.get(c.inputs, "publiclyAccessible", false) != false
}

deny contains sprintf("%s: health check not on the management port over HTTPS", [g.name]) if {
	some g in lib.resources_of("aws:lb/targetGroup:TargetGroup")
	not _management_health_check(g)
}

_management_health_check(g) if {
	g.inputs.healthCheck.port == "9000"
	g.inputs.healthCheck.protocol == "HTTPS"
}
