package system.authz_test

import data.system.authz

_env := {"env": {"BIZID_OPA_TOKEN": "decide-token-0123456789", "BIZID_OPA_READ_TOKEN": "read-token-0123456789"}}

_allowed(method, path, identity) if {
	authz.allow with input as {"method": method, "path": path, "identity": identity} with opa.runtime as _env
}

_anonymous(method, path) if {
	authz.allow with input as {"method": method, "path": path} with opa.runtime as _env
}

test_health_is_open if {
	_anonymous("GET", ["health"])
}

test_keycloak_queries_each_decision if {
	every pkg in ["access", "release", "delegation"] {
		_allowed("POST", ["v1", "data", "bizid", pkg, "decision"], "decide-token-0123456789")
	}
}

test_a_query_without_a_token_is_refused if {
	not _anonymous("POST", ["v1", "data", "bizid", "access", "decision"])
	not _allowed("POST", ["v1", "data", "bizid", "access", "decision"], "")
	not _allowed("POST", ["v1", "data", "bizid", "access", "decision"], "decide-token-012345678")
}

test_the_decision_token_reads_nothing_else if {
	token := "decide-token-0123456789"
	not _allowed("GET", ["v1", "data", "bizid", "access", "decision"], token)
	not _allowed("POST", ["v1", "data", "bizid", "access"], token)
	not _allowed("POST", ["v1", "data", "bizid", "access", "decision", "allow"], token)
	not _allowed("POST", ["v1", "data", "bizid", "registry"], token)
	not _allowed("GET", ["v1", "data", "bizid", "registry"], token)
	not _allowed("POST", ["v1", "data", "system", "authz", "allow"], token)
	not _allowed("POST", ["v1", "data"], token)
	not _allowed("GET", ["v1", "policies"], token)
	not _allowed("POST", ["v1", "query"], token)
	not _allowed("GET", ["v1", "config"], token)
	not _allowed("GET", ["v1", "data", "system", "bundles"], token)
}

test_nobody_writes if {
	every token in ["decide-token-0123456789", "read-token-0123456789"] {
		not _allowed("PUT", ["v1", "policies", "x"], token)
		not _allowed("DELETE", ["v1", "policies", "bizid", "access"], token)
		not _allowed("PUT", ["v1", "data", "bizid", "registry"], token)
		not _allowed("PATCH", ["v1", "data", "bizid", "registry"], token)
		not _allowed("PUT", ["v1", "data", "bizid", "access", "decision"], token)
		not _allowed("DELETE", ["v1", "data"], token)
		not _allowed("POST", ["v1", "compile"], token)
	}
}

test_the_read_token_reads_registry_and_policy_list if {
	token := "read-token-0123456789"
	_allowed("POST", ["v1", "data", "bizid", "release", "decision"], token)
	_allowed("GET", ["v1", "data", "bizid", "registry"], token)
	_allowed("GET", ["v1", "data", "bizid", "registry", "rps"], token)
	_allowed("GET", ["v1", "policies"], token)
	not _allowed("GET", ["v1", "policies", "x"], token)
	not _allowed("GET", ["v1", "data", "system"], token)
	not _allowed("GET", ["v1", "data"], token)
}

test_unset_or_short_tokens_match_nothing if {
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "bizid", "access", "decision"], "identity": ""}
		with opa.runtime as {"env": {"BIZID_OPA_TOKEN": ""}}
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "bizid", "access", "decision"], "identity": "short"}
		with opa.runtime as {"env": {"BIZID_OPA_TOKEN": "short"}}
	not authz.allow with input as {"method": "POST", "path": ["v1", "data", "bizid", "access", "decision"]}
		with opa.runtime as {"env": {}}
}

test_the_read_token_reads_the_bundle_manifests_only if {
	token := "read-token-0123456789"
	_allowed("GET", ["v1", "data", "system", "bundles"], token)
	not _anonymous("GET", ["v1", "data", "system", "bundles"])
	not _allowed("GET", ["v1", "data", "system", "bundles"], "decide-token-0123456789")
	not _allowed("GET", ["v1", "data", "system", "authz"], token)
	not _allowed("PUT", ["v1", "data", "system", "bundles"], token)
	not _allowed("POST", ["v1", "data", "system", "bundles"], token)
}
