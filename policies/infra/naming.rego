# AWS name rules per resource type, checked on the name AWS would get: the explicit name input, or the Pulumi
# engine's auto-name (logical name + "-" + 7 hex characters) when the input is left out.
# Sources (length limits and character sets, as of 2026):
#   ALB, target group: Elastic Load Balancing API Reference, CreateLoadBalancer / CreateTargetGroup (32,
#     alphanumerics and hyphens, no hyphen at either end; name_prefix at most 6 in the pulumi-aws lb docs)
#   ECR repository: ECR API Reference, CreateRepository (2-256, lowercase path segments)
#   IAM role (64), inline/managed policy (128): IAM User Guide, "IAM object quotas" and CreateRole/PutRolePolicy
#   Security group: EC2 API Reference, CreateSecurityGroup (255, must not start with sg-)
#   Log group (512), metric/subscription filter (512): CloudWatch Logs API Reference, CreateLogGroup /
#     PutMetricFilter / PutSubscriptionFilter
#   S3 bucket: S3 User Guide, "General purpose bucket naming rules" (3-63, lowercase, digits, hyphens, dots);
#     bucket_prefix at most 37 (pulumi-aws s3.Bucket docs: the provider appends 26 characters)
#   SNS topic: SNS API Reference, CreateTopic (256, alphanumerics, hyphens, underscores)
#   KMS alias: KMS API Reference, CreateAlias (256, `alias/` + alphanumerics / _ -)
#   RDS cluster, instance and global cluster identifiers: RDS API Reference, CreateDBCluster / CreateDBInstance /
#     CreateGlobalCluster (63, letters/digits/hyphens, first a letter, no "--", no trailing hyphen);
#     subnet and parameter groups: CreateDBSubnetGroup / CreateDBClusterParameterGroup (255)
#   ECS cluster, service, task family: ECS API Reference, CreateCluster / CreateService / RegisterTaskDefinition
#     (255, letters, digits, hyphens, underscores)
#   Secrets Manager secret: Secrets Manager API Reference, CreateSecret (512, letters, digits, /_+=.@-)
#   CloudWatch alarm: CloudWatch API Reference, PutMetricAlarm (255, printable ASCII)
#   WAF web ACL: WAFV2 API Reference, CreateWebACL (128, ^[\w\-]+$)
#   Firehose delivery stream: Firehose API Reference, CreateDeliveryStream (64, [a-zA-Z0-9_.-])
#   EventBridge Scheduler schedule: Scheduler API Reference, CreateSchedule (1-64, [0-9a-zA-Z-_.]+)
#   Route 53 hosted zones: a domain name (CreateHostedZone), no name rule of their own;
#   Route 53 health checks, records, certificates, VPC parts, ...: no name AWS constrains (tags only).

# METADATA
# title: AWS resource names
# description: "Every named or auto-named resource gets a name AWS accepts; every resource type is classified."
package infra.naming

# A stand-in for the engine's random suffix: the longest and a valid shape for every rule below.
AUTO_SUFFIX := "-0a1b2c3"

ALNUM_HYPHEN := `^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$`

RDS_IDENTIFIER := `^[a-zA-Z]([a-zA-Z0-9]|-[a-zA-Z0-9])*$`

ECS_NAME := `^[A-Za-z0-9_-]+$`

LOG_FILTER := `^[^:*]+$`

# property: the input holding the physical name; auto: the engine fills it in when left out;
# prefix: an input AWS/the provider completes with `fill` more characters, at most `max` long.
rules := {
	"aws:lb/loadBalancer:LoadBalancer": {"property": "name", "max": 32, "pattern": ALNUM_HYPHEN, "auto": true, "prefix": {"property": "namePrefix", "max": 6}},
	"aws:lb/targetGroup:TargetGroup": {"property": "name", "max": 32, "pattern": ALNUM_HYPHEN, "auto": true, "prefix": {"property": "namePrefix", "max": 6}},
	"aws:ecr/repository:Repository": {"property": "name", "max": 256, "pattern": `^([a-z0-9]+([._-][a-z0-9]+)*/)*[a-z0-9]+([._-][a-z0-9]+)*$`, "auto": true},
	"aws:iam/role:Role": {"property": "name", "max": 64, "pattern": `^[\w+=,.@-]+$`, "auto": true, "prefix": {"property": "namePrefix", "max": 38}},
	"aws:iam/policy:Policy": {"property": "name", "max": 128, "pattern": `^[\w+=,.@-]+$`, "auto": true},
	"aws:iam/rolePolicy:RolePolicy": {"property": "name", "max": 128, "pattern": `^[\w+=,.@-]+$`, "auto": true},
	"aws:iam/user:User": {"property": "name", "max": 64, "pattern": `^[\w+=,.@-]+$`, "auto": true},
	"aws:iam/userPolicy:UserPolicy": {"property": "name", "max": 128, "pattern": `^[\w+=,.@-]+$`, "auto": true},
	"aws:ec2/securityGroup:SecurityGroup": {"property": "name", "max": 255, "pattern": `^([^s]|s[^g]|sg[^-])[ -~]*$`, "auto": true},
	"aws:cloudwatch/logGroup:LogGroup": {"property": "name", "max": 512, "pattern": `^[.\-_/#A-Za-z0-9]+$`, "auto": true},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": {"property": "name", "max": 512, "pattern": LOG_FILTER, "auto": true},
	"aws:cloudwatch/logSubscriptionFilter:LogSubscriptionFilter": {"property": "name", "max": 512, "pattern": LOG_FILTER, "auto": true},
	"aws:cloudwatch/metricAlarm:MetricAlarm": {"property": "name", "max": 255, "pattern": `^[ -~]+$`, "auto": true},
	"aws:s3/bucket:Bucket": {"property": "bucket", "max": 63, "pattern": `^[a-z0-9][a-z0-9.-]*[a-z0-9]$`, "auto": true, "prefix": {"property": "bucketPrefix", "max": 37}},
	"aws:sns/topic:Topic": {"property": "name", "max": 256, "pattern": `^[A-Za-z0-9_-]+$`, "auto": true},
	"aws:kms/alias:Alias": {"property": "name", "max": 256, "pattern": `^alias/[A-Za-z0-9/_-]+$`, "auto": false},
	"aws:rds/cluster:Cluster": {"property": "clusterIdentifier", "max": 63, "pattern": RDS_IDENTIFIER, "auto": true},
	"aws:rds/clusterInstance:ClusterInstance": {"property": "identifier", "max": 63, "pattern": RDS_IDENTIFIER, "auto": true},
	"aws:rds/globalCluster:GlobalCluster": {"property": "globalClusterIdentifier", "max": 63, "pattern": RDS_IDENTIFIER, "auto": false},
	"aws:rds/subnetGroup:SubnetGroup": {"property": "name", "max": 255, "pattern": `^[ .0-9a-z_-]+$`, "auto": true},
	"aws:rds/clusterParameterGroup:ClusterParameterGroup": {"property": "name", "max": 255, "pattern": `^[a-z]([a-z0-9]|-[a-z0-9])*$`, "auto": true},
	"aws:ecs/cluster:Cluster": {"property": "name", "max": 255, "pattern": ECS_NAME, "auto": true},
	"aws:ecs/service:Service": {"property": "name", "max": 255, "pattern": ECS_NAME, "auto": true},
	"aws:ecs/taskDefinition:TaskDefinition": {"property": "family", "max": 255, "pattern": ECS_NAME, "auto": false},
	"aws:secretsmanager/secret:Secret": {"property": "name", "max": 512, "pattern": `^[A-Za-z0-9/_+=.@-]+$`, "auto": true},
	"aws:wafv2/webAcl:WebAcl": {"property": "name", "max": 128, "pattern": `^[\w-]+$`, "auto": true},
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": {"property": "name", "max": 64, "pattern": `^[A-Za-z0-9_.-]+$`, "auto": true},
	"aws:scheduler/schedule:Schedule": {"property": "name", "max": 64, "pattern": `^[0-9a-zA-Z_.-]+$`, "auto": true, "prefix": {"property": "namePrefix", "max": 38}},
}

# Types without a name AWS constrains (tags, ids or a parent's name only). A new type must be put in one list.
unnamed := {
	"aws:acm/certificate:Certificate",
	"aws:acm/certificateValidation:CertificateValidation",
	"aws:appautoscaling/policy:Policy",
	"aws:appautoscaling/target:Target",
	"aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
	"aws:ec2/eip:Eip",
	"aws:ec2/flowLog:FlowLog",
	"aws:ec2/internetGateway:InternetGateway",
	"aws:ec2/natGateway:NatGateway",
	"aws:ec2/routeTable:RouteTable",
	"aws:ec2/routeTableAssociation:RouteTableAssociation",
	"aws:ec2/subnet:Subnet",
	"aws:ec2/vpc:Vpc",
	"aws:ecr/lifecyclePolicy:LifecyclePolicy",
	"aws:iam/accessKey:AccessKey",
	"aws:iam/rolePolicyAttachment:RolePolicyAttachment",
	"aws:kms/key:Key",
	"aws:kms/replicaKey:ReplicaKey",
	"aws:lb/listener:Listener",
	"aws:lb/listenerRule:ListenerRule",
	"aws:route53/healthCheck:HealthCheck",
	"aws:route53/record:Record",
	"aws:route53/zone:Zone",
	"aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
	"aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
	"aws:s3/bucketOwnershipControls:BucketOwnershipControls",
	"aws:s3/bucketPolicy:BucketPolicy",
	"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
	"aws:s3/bucketReplicationConfig:BucketReplicationConfig",
	"aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
	"aws:s3/bucketVersioning:BucketVersioning",
	"aws:secretsmanager/secretVersion:SecretVersion",
	"aws:sns/topicSubscription:TopicSubscription",
	"aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
	"aws:wafv2/webAclAssociation:WebAclAssociation",
	"aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
}

given(r, property) if is_string(r.inputs[property])

# The name AWS gets for a resource under `rule`: explicit, or the engine's auto-name.
physical(r, rule) := r.inputs[rule.property] if {
	given(r, rule.property)
} else := concat("", [r.name, AUTO_SUFFIX]) if {
	rule.auto
	not given(r, object.get(rule, ["prefix", "property"], ""))
}

deny contains msg if {
	some r in input.resources
	r.custom
	startswith(r.type, "aws:")
	not rules[r.type]
	not r.type in unnamed
	msg := sprintf("%s: type %s has no AWS name rule (policies/infra/naming.rego)", [r.name, r.type])
}

deny contains msg if {
	some r in input.resources
	rule := rules[r.type]
	name := physical(r, rule)
	count(name) > rule.max
	msg := sprintf("%s: name %q is %d characters; AWS allows %d for %s", [r.name, name, count(name), rule.max, r.type])
}

deny contains msg if {
	some r in input.resources
	rule := rules[r.type]
	name := physical(r, rule)
	not regex.match(rule.pattern, name)
	msg := sprintf("%s: name %q has characters AWS does not allow for %s", [r.name, name, r.type])
}

deny contains msg if {
	some r in input.resources
	rule := rules[r.type]
	not physical(r, rule)
	not given(r, object.get(rule, ["prefix", "property"], ""))
	msg := sprintf("%s: %s needs an explicit %s (AWS does not name it)", [r.name, r.type, rule.property])
}

deny contains msg if {
	some r in input.resources
	prefix := rules[r.type].prefix
	value := r.inputs[prefix.property]
	count(value) > prefix.max
	msg := sprintf("%s: %s %q is longer than the %d characters AWS allows", [r.name, prefix.property, value, prefix.max])
}
