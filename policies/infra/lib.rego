# Helpers over the resource graph that `python -m infra.graph <stack>` dumps (the Pulumi program run under mocks).
# input: {stack, environment, regions, resources: [{type, name, custom, region, provider, inputs, state}]}

# METADATA
# title: Infra graph helpers
# description: "Lookups over the resource graph dumped by `python -m infra.graph <stack>`."
package infra.lib

KEY_TYPES := {"aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"}

TOKYO := "ap-northeast-1"

OSAKA := "ap-northeast-3"

# Route 53 publishes health-check metrics here only: the health-check alarms, their topic and its key live here.
ROUTE53_METRICS := "us-east-1"

resources_of(t) := [r | some r in input.resources; r.type == t]

# ARNs of the stack's own KMS keys in a region.
key_arns(region) := {k.state.arn | some k in input.resources; k.type in KEY_TYPES; k.region == region}

key_ids(region) := {k.state.keyId | some k in input.resources; k.type in KEY_TYPES; k.region == region}

expected_regions := {TOKYO} if input.environment == "dev"

expected_regions := {TOKYO, OSAKA} if input.environment != "dev"
