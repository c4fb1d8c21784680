# METADATA
# title: Who may use OPA's REST API
# description: |
#   OPA runs with `--authentication=token --authorization=basic`: it asks `data.system.authz.allow`
#   about every request, with the bearer token of the request as `input.identity`. Without this
#   policy any local process could replace the policies or the registry (`PUT /v1/policies/x`).
#
#   - anyone: `GET /health` (readiness probes; it answers no data);
#   - the decision token (`BIZID_OPA_TOKEN`, held by Keycloak): `POST /v1/data/bizid/<package>/decision`
#     only, the documents Keycloak asks for;
#   - the read token (`BIZID_OPA_READ_TOKEN`, held by the local tools and tests): the same decisions,
#     plus reading the registry (`GET /v1/data/bizid/registry...`), the policy list (`GET /v1/policies`)
#     and the manifests of the loaded bundles, where the running revision is (`GET /v1/data/system/bundles`);
#   - nobody: any write (PUT, PATCH, DELETE; POST elsewhere than a decision), ad-hoc queries
#     (`/v1/query`, `/v1/compile`), other data (including `data.system`), config and status.
#   Policies and data come only from the files OPA was started with.
#
#   The tokens are OPA's environment variables (generated local secrets; Secrets Manager on AWS),
#   never in a policy or data file. An empty or unset variable matches no request.
# related_resources:
#   - ref: https://www.openpolicyagent.org/docs/security
#     description: OPA authentication and authorization
package system.authz

# METADATA
# title: Is this request allowed?
# description: false unless one rule below allows it (fail closed).
# entrypoint: true
default allow := false

allow if {
	input.method == "GET"
	input.path == ["health"]
}

allow if {
	some role in roles
	role in {"decide", "read"}
	input.method == "POST"
	_is_decision(input.path)
}

allow if {
	"read" in roles
	input.method == "GET"
	_is_registry(input.path)
}

allow if {
	"read" in roles
	input.method == "GET"
	input.path == ["v1", "policies"]
}

allow if {
	"read" in roles
	input.method == "GET"
	input.path == ["v1", "data", "system", "bundles"]
}

# METADATA
# title: The roles of the request's bearer token
# description: decide (BIZID_OPA_TOKEN) and read (BIZID_OPA_READ_TOKEN); none for an unknown or absent token.
roles contains "decide" if _presents("BIZID_OPA_TOKEN")

roles contains "read" if _presents("BIZID_OPA_READ_TOKEN")

_presents(variable) if {
	expected := object.get(opa.runtime(), ["env", variable], "")
	is_string(expected)
	count(expected) >= 16
	is_string(input.identity)
	input.identity == expected
}

# v1/data/bizid/<package>/decision, nothing above or below it
_is_decision(path) if {
	count(path) == 5
	path[0] == "v1"
	path[1] == "data"
	path[2] == "bizid"
	regex.match(`^[a-z][a-z0-9_]*$`, path[3])
	path[4] == "decision"
}

_is_registry(path) if {
	count(path) >= 4
	array.slice(path, 0, 4) == ["v1", "data", "bizid", "registry"]
}
