package system.log_test

import data.system.log

_event := {
	"decision_id": "4f1c",
	"path": "bizid/access/decision",
	"input": {
		"rp": {"client_id": "jgrants"},
		"authn": {"loa": 2},
		"now": "2026-12-01T00:00:00Z",
		"decision_id": "kc-1",
		"account": {
			"id": "uuid-1", "username": "yamada", "tier": "prime", "status": "active",
			"valid_until": "2030-03-31", "corporate_number": "7000012050002",
			"firstName": "Taro", "lastName": "Yamada", "email": "taro@example.test",
		},
		"grantor": {"username": "suzuki", "tier": "prime", "corporate_name": "Suzuki K.K."},
		"delegation": {"id": "dlg-1", "granted_by": "suzuki", "delegate_username": "yamada", "rp": "jgrants"},
		"licences": [{"kind": "zeirishi", "number": "123456", "holder_username": "yamada", "revoked": false}],
		"prime_username": "suzuki",
	},
	"result": {"allow": false, "reasons": [
		{"code": "account_expired", "message": "the account was valid until 2026-03-31"},
		{"code": "delegation_invalid", "message": "wrong_delegate: the delegation names \"x\" as delegate, not \"yamada\""},
	]},
}

test_personal_fields_are_dropped_and_the_rest_kept if {
	masks := log.mask with input as _event
	{"op": "upsert", "path": "/input/account", "value": {"id": "uuid-1", "tier": "prime", "status": "active", "valid_until": "2030-03-31"}} in masks
	{"op": "upsert", "path": "/input/grantor", "value": {"tier": "prime"}} in masks
	{"op": "upsert", "path": "/input/delegation", "value": {"id": "dlg-1", "rp": "jgrants"}} in masks
	{"op": "upsert", "path": "/input/licences", "value": [{"kind": "zeirishi", "revoked": false}]} in masks
	"/input/prime_username" in masks
	every m in masks {
		not m in {"/input/rp", "/input/authn", "/input/now", "/input/decision_id"}
	}
}

test_reason_codes_stay_and_identifying_messages_go if {
	masks := log.mask with input as _event
	{"op": "upsert", "path": "/result/reasons", "value": [
		{"code": "account_expired", "message": "the account was valid until 2026-03-31"},
		{"code": "delegation_invalid", "message": "(masked in the decision log: names an account or a company)"},
	]} in masks
}

test_reasons_without_identifiers_are_not_touched if {
	masks := log.mask with input as json.patch(_event, [{"op": "replace", "path": "/result/reasons", "value": []}])
	every m in masks {
		not m.path == "/result/reasons"
	}
}

test_released_claim_values_become_names if {
	event := {"input": {"rp": {"client_id": "jgrants"}}, "result": {"claims": {"email": "a@b", "name": "Taro"}, "withheld": []}}
	masks := log.mask with input as event
	{"op": "upsert", "path": "/result/claims", "value": ["email", "name"]} in masks
}

test_the_issuing_primes_record_and_messages_are_masked if {
	event := {
		"input": {"rp": {"client_id": "jgrants"}, "prime": {
			"username": "suzuki", "found": true, "tier": "prime", "status": "suspended",
			"valid_until": "2030-03-31", "corporate_number": "7000012050002",
		}},
		"result": {"allow": false, "reasons": [{"code": "prime_suspended", "message": "the issuing Prime \"suzuki\" is suspended"}]},
	}
	masks := log.mask with input as event
	{"op": "upsert", "path": "/input/prime", "value": {"tier": "prime", "status": "suspended", "valid_until": "2030-03-31"}} in masks
	{"op": "upsert", "path": "/result/reasons", "value": [
		{"code": "prime_suspended", "message": "(masked in the decision log: names an account or a company)"},
	]} in masks
}
