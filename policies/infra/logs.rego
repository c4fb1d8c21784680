# Log groups AWS would create by itself (unencrypted, kept forever) are the stack's own: Aurora's exported
# PostgreSQL log and Container Insights' performance log, on the stack key of their region; every log group
# of the stack has a retention.

# METADATA
# title: Log groups
# description: "AWS-created log groups are declared by the stack, encrypted and with a retention."
package infra.logs

import data.infra.lib

log_groups := {[g.region, g.inputs.name]: g | some g in lib.resources_of("aws:cloudwatch/logGroup:LogGroup")}

deny contains sprintf("%s: RDS would create %s itself (unencrypted, no retention)", [c.name, expected]) if {
	some c in lib.resources_of("aws:rds/cluster:Cluster")
	some export in object.get(c.inputs, "enabledCloudwatchLogsExports", [])
	expected := sprintf("/aws/rds/cluster/%s/%s", [c.state.clusterIdentifier, export])
	not _owned(c.region, expected)
}

deny contains sprintf("%s: ECS would create %s itself (unencrypted, no retention)", [c.name, expected]) if {
	some c in lib.resources_of("aws:ecs/cluster:Cluster")
	some setting in object.get(c.inputs, "settings", [])
	setting.name == "containerInsights"
	setting.value in {"enabled", "enhanced"}
	expected := sprintf("/aws/ecs/containerinsights/%s/performance", [c.state.name])
	not _owned(c.region, expected)
}

_owned(region, name) if {
	g := log_groups[[region, name]]
	g.inputs.kmsKeyId in lib.key_arns(region)
}

deny contains sprintf("%s: log group kept forever (no retentionInDays)", [g.name]) if {
	some g in lib.resources_of("aws:cloudwatch/logGroup:LogGroup")
	object.get(g.inputs, "retentionInDays", 0) <= 0
}
