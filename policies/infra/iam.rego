# IAM as narrow as docs/infra.md says: service roles trust their service only for this account and the named
# resources (aws:SourceAccount + aws:SourceArn, the confused-deputy guard), no AWS managed policy (they grant on
# "*"), inline policies name their resources ("*" only for ecr:GetAuthorizationToken, which names none), and
# nothing of the stack reads the Aurora master secret: Keycloak connects as its own database user.

# METADATA
# title: IAM
# description: "Trust policies with SourceAccount/SourceArn, no managed or '*' policies, no task near the master secret."
package infra.iam

import data.infra.lib

# Actions IAM grants only on "*" (no resource-level permissions).
STAR_ONLY := {"ecr:GetAuthorizationToken"}

MASTER_PURPOSE := "aurora-master"

_statements(doc) := s if {
	s := doc.Statement
	is_array(s)
} else := [doc.Statement]

_list(x) := x if is_array(x)

_list(x) := [x] if not is_array(x)

deny contains sprintf("%s: trust policy lets %v assume it without aws:SourceAccount", [r.name, st.Principal.Service]) if {
	some r in lib.resources_of("aws:iam/role:Role")
	some st in _statements(json.unmarshal(r.inputs.assumeRolePolicy))
	st.Principal.Service
	not st.Condition.StringEquals["aws:SourceAccount"]
}

deny contains sprintf("%s: trust policy lets %v assume it without aws:SourceArn", [r.name, st.Principal.Service]) if {
	some r in lib.resources_of("aws:iam/role:Role")
	some st in _statements(json.unmarshal(r.inputs.assumeRolePolicy))
	st.Principal.Service
	not _source_arn(st)
}

_source_arn(st) if {
	some operator in ["ArnLike", "ArnEquals", "StringLike", "StringEquals"]
	st.Condition[operator]["aws:SourceArn"]
}

deny contains sprintf("%s: AWS managed policy %s (it grants on \"*\"): write the statements the role needs", [a.name, a.inputs.policyArn]) if {
	some a in lib.resources_of("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
	startswith(a.inputs.policyArn, "arn:aws:iam::aws:policy/")
}

deny contains sprintf("%s: allows %v on \"*\"", [p.name, sort(_list(st.Action))]) if {
	some p in lib.resources_of("aws:iam/rolePolicy:RolePolicy")
	some st in _statements(json.unmarshal(p.inputs.policy))
	st.Effect == "Allow"
	"*" in _list(st.Resource)
	some action in _list(st.Action)
	not action in STAR_ONLY
}

master_secret_arns := {s.state.arn |
	some s in lib.resources_of("aws:secretsmanager/secret:Secret")
	object.get(s.inputs, ["tags", "bizid:purpose"], "") == MASTER_PURPOSE
}

deny contains "no secret is tagged bizid:purpose=aurora-master: the master credentials must be told apart" if {
	count(lib.resources_of("aws:rds/cluster:Cluster")) > 0
	count(master_secret_arns) == 0
}

deny contains sprintf("%s: may read the Aurora master secret (Keycloak must connect as its own user)", [p.name]) if {
	some p in lib.resources_of("aws:iam/rolePolicy:RolePolicy")
	some arn in master_secret_arns
	contains(p.inputs.policy, _secret_prefix(arn))
}

deny contains sprintf("%s: container %s gets %s from the Aurora master secret", [t.name, c.name, v.name]) if {
	some t in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	some c in json.unmarshal(t.inputs.containerDefinitions)
	some v in object.get(c, "secrets", [])
	some arn in master_secret_arns
	contains(v.valueFrom, _secret_prefix(arn))
}

# A replica has the primary's ARN with its own region: compare without the region.
_secret_prefix(arn) := concat(":", array.slice(split(arn, ":"), 4, 7))
