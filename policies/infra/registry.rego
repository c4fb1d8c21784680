# ECR repositories: the stacks share one AWS account, so each stack names its own (`bizid/<environment>/...`);
# the destroyable dev stack deletes its repositories with their images, the others keep them.

# METADATA
# title: Registries
# description: "ECR repository names carry the stack; only dev's are force-deleted."
package infra.registry

import data.infra.lib

repositories := lib.resources_of("aws:ecr/repository:Repository")

deny contains sprintf("%s: repository %q does not carry the stack (bizid/%s/...): stacks would share it", [r.name, name, input.environment]) if {
	some r in repositories
	name := object.get(r.inputs, "name", "")
	not startswith(name, sprintf("bizid/%s/", [input.environment]))
}

deny contains sprintf("%s: dev cannot be destroyed once images exist (forceDelete is not set)", [r.name]) if {
	input.environment == "dev"
	some r in repositories
	object.get(r.inputs, "forceDelete", false) != true
}

deny contains sprintf("%s: forceDelete would delete %s's images with the stack", [r.name, input.environment]) if {
	input.environment != "dev"
	some r in repositories
	object.get(r.inputs, "forceDelete", false) == true
}
