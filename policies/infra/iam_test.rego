package infra.iam_test

import data.infra.iam

trust(condition) := json.marshal({"Version": "2012-10-17", "Statement": [object.union({"Effect": "Allow", "Principal": {"Service": "ecs-tasks.amazonaws.com"}, "Action": "sts:AssumeRole"}, condition)]})

role(condition) := {"type": "aws:iam/role:Role", "name": "role", "region": "ap-northeast-1", "inputs": {"assumeRolePolicy": trust(condition)}, "state": {}}

guarded := {"Condition": {"StringEquals": {"aws:SourceAccount": "1"}, "ArnLike": {"aws:SourceArn": "arn:aws:ecs:ap-northeast-1:1:*"}}}

policy(statements) := {"type": "aws:iam/rolePolicy:RolePolicy", "name": "p", "region": "ap-northeast-1", "inputs": {"policy": json.marshal({"Version": "2012-10-17", "Statement": statements})}, "state": {}}

master := {"type": "aws:secretsmanager/secret:Secret", "name": "m", "region": "ap-northeast-1", "inputs": {"tags": {"bizid:purpose": "aurora-master"}}, "state": {"arn": "arn:aws:secretsmanager:ap-northeast-1:1:secret:m-abc"}}

test_guarded_role_passes if {
	count(iam.deny) == 0 with input as {"resources": [role(guarded)]}
}

test_unguarded_trust_denied if {
	denied := iam.deny with input as {"resources": [role({})]}
	"role: trust policy lets ecs-tasks.amazonaws.com assume it without aws:SourceAccount" in denied
	"role: trust policy lets ecs-tasks.amazonaws.com assume it without aws:SourceArn" in denied
}

test_star_only_for_ecr_login if {
	count(iam.deny) == 0 with input as {"resources": [policy([{"Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}])]}
	`p: allows ["ecr:BatchGetImage"] on "*"` in iam.deny with input as {"resources": [policy([{"Effect": "Allow", "Action": "ecr:BatchGetImage", "Resource": "*"}])]}
}

test_master_secret_out_of_reach if {
	replica_arn := "arn:aws:secretsmanager:ap-northeast-3:1:secret:m-abc"
	denied := iam.deny with input as {"resources": [master, policy([{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": replica_arn}])]}
	"p: may read the Aurora master secret (Keycloak must connect as its own user)" in denied
}

test_managed_policy_denied if {
	attachment := {"type": "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "name": "a", "region": "ap-northeast-1", "inputs": {"policyArn": "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}, "state": {}}
	`a: AWS managed policy arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy (it grants on "*"): write the statements the role needs` in iam.deny with input as {"resources": [attachment]}
}
