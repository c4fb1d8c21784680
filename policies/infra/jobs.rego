# The scheduled jobs (the reminders job, infra/components/reminders.py): one schedule, in the primary region,
# starting exactly its task family on the Keycloak cluster with a role that may do nothing else; the job's task
# runs unprivileged on a read-only root file system and takes no credential as plain environment. Every task
# family of the stack is Keycloak's or a job's.

# METADATA
# title: Scheduled jobs
# description: "One primary-region schedule; its role may only run the job's task and pass its two roles to ECS."
package infra.jobs

import data.infra.lib

SCHEDULER_ACTIONS := {"ecs:RunTask", "iam:PassRole"}

schedules := lib.resources_of("aws:scheduler/schedule:Schedule")

job_tasks := [t |
	some t in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	endswith(object.get(t.inputs, "family", ""), "-reminders")
]

_statements(doc) := s if {
	s := doc.Statement
	is_array(s)
} else := [doc.Statement]

_list(x) := x if is_array(x)

_list(x) := [x] if not is_array(x)

# Roles EventBridge Scheduler may assume, by their id (what a RolePolicy's `role` names).
scheduler_roles := {r.state.id: r |
	some r in lib.resources_of("aws:iam/role:Role")
	some st in _statements(json.unmarshal(r.inputs.assumeRolePolicy))
	"scheduler.amazonaws.com" in _list(st.Principal.Service)
}

scheduler_role_arns := {r.state.arn | some r in scheduler_roles}

scheduler_statements := [st |
	some p in lib.resources_of("aws:iam/rolePolicy:RolePolicy")
	scheduler_roles[p.inputs.role]
	some st in _statements(json.unmarshal(p.inputs.policy))
]

deny contains sprintf("%d schedules of the reminders job, expected 1 (none: nobody is reminded; more: mailed twice)", [count(schedules)]) if {
	count(schedules) != 1
}

deny contains sprintf("%s: schedule in %s; the jobs run in the primary region %s only", [s.name, s.region, lib.TOKYO]) if {
	some s in schedules
	s.region != lib.TOKYO
}

deny contains sprintf("%s: flexible time window %v: the job starts at its time (mode OFF)", [s.name, s.inputs.flexibleTimeWindow]) if {
	some s in schedules
	s.inputs.flexibleTimeWindow.mode != "OFF"
}

deny contains sprintf("%s: its role is not one only EventBridge Scheduler may assume", [s.name]) if {
	some s in schedules
	not s.inputs.target.roleArn in scheduler_role_arns
}

deny contains sprintf("%s: starts a task with a public address", [s.name]) if {
	some s in schedules
	not s.inputs.target.ecsParameters.networkConfiguration.assignPublicIp == false
}

deny contains sprintf("%s: does not start a task of a job's family (bizid-<env>-reminders)", [s.name]) if {
	some s in schedules
	not s.inputs.target.ecsParameters.taskDefinitionArn in {t.state.arn | some t in job_tasks}
}

deny contains sprintf("scheduler role policy allows %v: only %v", [sort(_list(st.Action)), sort(SCHEDULER_ACTIONS)]) if {
	some st in scheduler_statements
	st.Effect == "Allow"
	some action in _list(st.Action)
	not action in SCHEDULER_ACTIONS
}

deny contains "scheduler role may run tasks on any cluster (no ecs:cluster condition)" if {
	some st in scheduler_statements
	"ecs:RunTask" in _list(st.Action)
	not _cluster_condition(st)
}

_cluster_condition(st) if {
	some operator in ["ArnEquals", "ArnLike"]
	st.Condition[operator]["ecs:cluster"]
}

deny contains "scheduler role may run other task families than the job's" if {
	some st in scheduler_statements
	"ecs:RunTask" in _list(st.Action)
	some resource in _list(st.Resource)
	not regex.match(`^arn:aws:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/bizid-[a-z]+-reminders:(\*|[0-9]+)$`, resource)
}

deny contains "scheduler role may pass its roles to other services than ECS tasks" if {
	some st in scheduler_statements
	"iam:PassRole" in _list(st.Action)
	not st.Condition.StringEquals["iam:PassedToService"] == "ecs-tasks.amazonaws.com"
}

deny contains sprintf("%s: job containers %v, expected one: reminders", [t.name, sort([c.name | some c in json.unmarshal(t.inputs.containerDefinitions)])]) if {
	some t in job_tasks
	[c.name | some c in json.unmarshal(t.inputs.containerDefinitions)] != ["reminders"]
}

deny contains sprintf("%s: %s runs as root or with a writable root file system", [t.name, c.name]) if {
	some t in job_tasks
	some c in json.unmarshal(t.inputs.containerDefinitions)
	not _unprivileged(c)
}

_unprivileged(c) if {
	c.readonlyRootFilesystem == true
	not c.user in {"0", "root", null}
	c.user
}

deny contains sprintf("%s: %s passed as plain environment", [t.name, v.name]) if {
	some t in job_tasks
	some c in json.unmarshal(t.inputs.containerDefinitions)
	some v in object.get(c, "environment", [])
	regex.match(`PASSWORD|SECRET|TOKEN`, v.name)
}

deny contains sprintf("%s: task family %v is neither Keycloak's nor a job's", [t.name, t.inputs.family]) if {
	some t in lib.resources_of("aws:ecs/taskDefinition:TaskDefinition")
	not endswith(object.get(t.inputs, "family", ""), "-keycloak")
	not endswith(object.get(t.inputs, "family", ""), "-reminders")
}
