package infra.registry_test

import data.infra.registry

repo(name, force) := {"type": "aws:ecr/repository:Repository", "name": "r", "custom": true, "region": "ap-northeast-1", "inputs": {"name": name, "forceDelete": force}, "state": {}}

test_stack_named_repositories_pass if {
	count(registry.deny) == 0 with input as {"environment": "prod", "resources": [repo("bizid/prod/keycloak", false)]}
	count(registry.deny) == 0 with input as {"environment": "dev", "resources": [repo("bizid/dev/keycloak", true)]}
}

test_shared_repository_name_denied if {
	some msg in registry.deny with input as {"environment": "staging", "resources": [repo("bizid/keycloak", false)]}
	contains(msg, "does not carry the stack")
	some other in registry.deny with input as {"environment": "staging", "resources": [repo("bizid/prod/keycloak", false)]}
	contains(other, "does not carry the stack")
}

test_dev_must_force_delete if {
	some msg in registry.deny with input as {"environment": "dev", "resources": [repo("bizid/dev/opa", false)]}
	contains(msg, "cannot be destroyed")
}

test_prod_must_keep_images if {
	some msg in registry.deny with input as {"environment": "prod", "resources": [repo("bizid/prod/opa", true)]}
	contains(msg, "would delete")
}
