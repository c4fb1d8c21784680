# With minor upgrades on, AWS moves Aurora past the configured engine version; a pinned engineVersion then makes
# the next plan try to undo the upgrade and fail. The pulumi-aws GlobalCluster docs: ignore_changes on
# engine_version for the global cluster, its clusters and their instances.

# METADATA
# title: Engine upgrades
# description: "Aurora resources that pin engineVersion ignore changes to it (AWS applies minor upgrades)."
package infra.engine

TYPES := {"aws:rds/globalCluster:GlobalCluster", "aws:rds/cluster:Cluster", "aws:rds/clusterInstance:ClusterInstance"}

deny contains sprintf("%s: engineVersion %v pinned without ignore_changes while AWS applies minor upgrades: the next plan would try to undo them", [r.name, r.inputs.engineVersion]) if {
	some r in input.resources
	r.type in TYPES
	r.inputs.engineVersion
	not "engineVersion" in object.get(r, ["options", "ignoreChanges"], [])
}
