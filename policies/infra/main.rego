# Entry point for reviewers: every violation of the infrastructure rules for one stack's resource graph.
#   python -m infra.graph prod --out graph.json
#   opa eval --format pretty -d policies/infra -i graph.json data.infra.main.deny

# METADATA
# title: Infra findings
# description: "All infrastructure violations of one stack's graph; empty means none."
package infra.main

import data.infra.admin_path
import data.infra.audit
import data.infra.edge
import data.infra.encryption
import data.infra.engine
import data.infra.exposure
import data.infra.failover
import data.infra.iam
import data.infra.jobs
import data.infra.logs
import data.infra.naming
import data.infra.operations
import data.infra.registry
import data.infra.resilience
import data.infra.sidecar

deny := (((((((((((((admin_path.deny | audit.deny) | edge.deny) | encryption.deny) | engine.deny) | exposure.deny) | failover.deny) | iam.deny) | jobs.deny) | logs.deny) | naming.deny) | operations.deny) | registry.deny) | resilience.deny) | sidecar.deny
