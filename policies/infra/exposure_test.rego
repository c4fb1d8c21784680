package infra.exposure_test

import data.infra.exposure

lb := {"type": "aws:lb/loadBalancer:LoadBalancer", "name": "alb", "region": "ap-northeast-1", "inputs": {"securityGroups": ["sg-alb"]}, "state": {}}

sg(id, port) := {"type": "aws:ec2/securityGroup:SecurityGroup", "name": id, "region": "ap-northeast-1", "inputs": {"ingress": [{"fromPort": port, "toPort": port, "cidrBlocks": ["0.0.0.0/0"]}]}, "state": {"id": id}}

test_alb_open_on_443_passes if {
	count(exposure.deny) == 0 with input as {"resources": [lb, sg("sg-alb", 443)]}
}

test_management_port_open_denied if {
	"sg-alb: open to the internet on port 9000" in exposure.deny with input as {"resources": [lb, sg("sg-alb", 9000)]}
}

test_other_group_open_denied if {
	"sg-db: open to the internet on port 443" in exposure.deny with input as {"resources": [lb, sg("sg-db", 443)]}
}

test_public_database_instance_denied if {
	instance := {"type": "aws:rds/clusterInstance:ClusterInstance", "name": "db-0", "region": "ap-northeast-1", "inputs": {"publiclyAccessible": true}, "state": {}}
	"db-0: database instance publicly accessible" in exposure.deny with input as {"resources": [instance]}
}

test_plain_http_listener_denied if {
	listener := {"type": "aws:lb/listener:Listener", "name": "http", "region": "ap-northeast-1", "inputs": {"port": 80, "protocol": "HTTP"}, "state": {}}
	"http: listener is not HTTPS on 443" in exposure.deny with input as {"resources": [listener]}
}

test_bucket_without_block_denied if {
	bucket := {"type": "aws:s3/bucket:Bucket", "name": "audit", "region": "ap-northeast-1", "inputs": {}, "state": {"id": "b1"}}
	"audit: bucket without a public access block" in exposure.deny with input as {"resources": [bucket]}
}

test_database_group_needs_source_groups if {
	cluster := {"type": "aws:rds/cluster:Cluster", "name": "db", "region": "ap-northeast-1", "inputs": {"vpcSecurityGroupIds": ["sg-db"]}, "state": {}}
	group := {"type": "aws:ec2/securityGroup:SecurityGroup", "name": "db-sg", "region": "ap-northeast-1", "inputs": {"ingress": [{"fromPort": 5432, "toPort": 5432}]}, "state": {"id": "sg-db"}}
	"db-sg: database reachable from addresses, not only from the app tier" in exposure.deny with input as {"resources": [cluster, group]}
}

test_public_cluster_denied if {
	cluster := {"type": "aws:rds/cluster:Cluster", "name": "db", "region": "ap-northeast-1", "inputs": {"publiclyAccessible": true}, "state": {}}
	"db: database cluster publicly accessible" in exposure.deny with input as {"resources": [cluster]}
}

test_health_check_on_management_port_over_https if {
	group := {"type": "aws:lb/targetGroup:TargetGroup", "name": "tg", "region": "ap-northeast-1", "inputs": {"port": 8443, "healthCheck": {"port": "8443", "protocol": "HTTPS"}}, "state": {}}
	"tg: health check not on the management port over HTTPS" in exposure.deny with input as {"resources": [group]}
}
