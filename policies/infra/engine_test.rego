package infra.engine_test

import data.infra.engine

cluster(options) := {"type": "aws:rds/cluster:Cluster", "name": "db", "region": "ap-northeast-1", "inputs": {"engineVersion": "16.6"}, "state": {}, "options": options}

test_ignored_engine_version_passes if {
	count(engine.deny) == 0 with input as {"resources": [cluster({"ignoreChanges": ["engineVersion", "globalClusterIdentifier"]})]}
}

test_pinned_engine_version_denied if {
	"db: engineVersion 16.6 pinned without ignore_changes while AWS applies minor upgrades: the next plan would try to undo them" in engine.deny with input as {"resources": [cluster({})]}
}
