package infra.sidecar_test

import data.infra.sidecar

_secret := [{"name": "BIZID_OPA_TOKEN", "valueFrom": "arn:aws:secretsmanager:ap-northeast-1:1:secret:opa-token:password::"}]

_task(keycloak, opa) := {
	"type": "aws:ecs/taskDefinition:TaskDefinition",
	"name": "task",
	"inputs": {"containerDefinitions": json.marshal([keycloak, opa])},
}

_keycloak := {"name": "keycloak", "environment": [], "secrets": _secret}

_opa := {
	"name": "opa",
	"command": ["run", "--server", "--authentication=token", "--authorization=basic", "/bundle"],
	"secrets": _secret,
}

test_protected_sidecar_passes if {
	count(sidecar.deny) == 0 with input as {"resources": [_task(_keycloak, _opa)]}
}

test_open_sidecar_denied if {
	opa := json.patch(_opa, [{"op": "replace", "path": "/command", "value": ["run", "--server", "/bundle"]}])
	denied := sidecar.deny with input as {"resources": [_task(_keycloak, opa)]}
	"task: OPA sidecar runs without --authentication=token" in denied
	"task: OPA sidecar runs without --authorization=basic" in denied
}

test_missing_or_plain_token_denied if {
	keycloak := {"name": "keycloak", "environment": [{"name": "BIZID_OPA_TOKEN", "value": "x"}], "secrets": []}
	denied := sidecar.deny with input as {"resources": [_task(keycloak, object.remove(_opa, ["secrets"]))]}
	"task: keycloak gets no BIZID_OPA_TOKEN from Secrets Manager" in denied
	"task: opa gets no BIZID_OPA_TOKEN from Secrets Manager" in denied
	"task: keycloak gets BIZID_OPA_TOKEN as plain environment" in denied
}

test_different_secrets_denied if {
	other := [{"name": "BIZID_OPA_TOKEN", "valueFrom": "arn:aws:secretsmanager:ap-northeast-1:1:secret:other:password::"}]
	opa := object.union(_opa, {"secrets": other})
	"task: Keycloak and OPA read BIZID_OPA_TOKEN from different secrets" in sidecar.deny with input as {"resources": [_task(_keycloak, opa)]}
}
