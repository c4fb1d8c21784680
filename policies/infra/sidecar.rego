# The OPA sidecar of every Keycloak task demands a token and applies system.authz; Keycloak and OPA get that
# token from the same Secrets Manager secret, never as plain environment.

# METADATA
# title: OPA sidecar access control
# description: "OPA runs with token authentication and basic authorization; the token comes from Secrets Manager."
package infra.sidecar

import data.infra.lib

TOKEN := "BIZID_OPA_TOKEN"

FLAGS := {"--authentication=token", "--authorization=basic"}

_containers(task) := {c.name: c | some c in json.unmarshal(task.inputs.containerDefinitions)}

_token_sources(container) := {s.valueFrom | some s in object.get(container, "secrets", []); s.name == TOKEN}

deny contains sprintf("%s: OPA sidecar runs without %s", [task.name, flag]) if {
	some task in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	opa := _containers(task).opa
	some flag in FLAGS
	not flag in {arg | some arg in opa.command}
}

deny contains sprintf("%s: %s gets no %s from Secrets Manager", [task.name, name, TOKEN]) if {
	some task in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	some name in ["keycloak", "opa"]
	container := _containers(task)[name]
	count(_token_sources(container)) == 0
}

deny contains sprintf("%s: %s gets %s as plain environment", [task.name, name, TOKEN]) if {
	some task in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	some name, container in _containers(task)
	some variable in object.get(container, "environment", [])
	variable.name == TOKEN
}

deny contains sprintf("%s: Keycloak and OPA read %s from different secrets", [task.name, TOKEN]) if {
	some task in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	containers := _containers(task)
	count(_token_sources(containers.keycloak)) > 0
	count(_token_sources(containers.opa)) > 0
	_token_sources(containers.keycloak) != _token_sources(containers.opa)
}
