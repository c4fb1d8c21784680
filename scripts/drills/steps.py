"""The drills as data: one source for what `bizid drill` runs and what docs/runbook-failover.md lists.

A drill is a list of steps. A `Step` with a `runbook` section is one of the runbook's own steps: its text,
the AWS commands it stands for, and the local site operation (`Op`) that rehearses it on the two-site
topology; `op=None` marks a step that is "AWS only, not rehearsed". A step without a `runbook` section is
drill-only: the failure the drill injects, or a check. The runbook's step lists are generated from these
(`scripts.drills.runbook`), and a test fails when the file and the data differ, so the drill cannot
rehearse anything but what the runbook says.
"""

from __future__ import annotations

from dataclasses import dataclass

SITES = ("tokyo", "osaka")


@dataclass(frozen=True)
class Op:
    """A site operation (`scripts.drills.ops.OPERATIONS`) with its arguments, e.g. `promote osaka`."""

    name: str
    args: tuple[str, ...] = ()

    @property
    def command(self) -> str:
        """The same operation by hand: `bizid drill op <name> <args>`."""
        return " ".join(("bizid drill op", self.name, *self.args))


@dataclass(frozen=True)
class Step:
    title: str
    op: Op | None
    text: str = ""
    aws: tuple[str, ...] = ()
    runbook: str = ""
    """The runbook part this step belongs to (a key of `RUNBOOK_PARTS`); "" for a drill-only step."""

    @property
    def rehearsed(self) -> bool:
        return self.op is not None


RUNBOOK_PARTS = {
    "node-loss": "D. A Keycloak task is lost",
    "unplanned": "A. Unplanned: Tokyo is lost",
    "switchover": "B. Planned switchover",
    "switch-back": "C1. Switching back after a managed failover or a planned switchover",
}
"""The runbook parts whose numbered step lists are generated (marker `drill-steps:<key>`)."""

_SCALE_OSAKA = (
    "aws application-autoscaling register-scalable-target --region $OSAKA --service-namespace ecs \\\n"
    "  --scalable-dimension ecs:service:DesiredCount --resource-id service/$OSAKA_CLUSTER/$OSAKA_SERVICE \\\n"
    "  --min-capacity 3 --max-capacity 12\n"
    "aws ecs update-service --region $OSAKA --cluster $OSAKA_CLUSTER --service $OSAKA_SERVICE \\\n"
    "  --desired-count 3\n"
    "aws ecs wait services-stable --region $OSAKA --cluster $OSAKA_CLUSTER --services $OSAKA_SERVICE"
)
_SCALE_TOKYO = _SCALE_OSAKA.replace("OSAKA", "TOKYO")
_FENCE_TOKYO = (
    "aws ecs update-service --region $TOKYO --cluster $TOKYO_CLUSTER --service $TOKYO_SERVICE \\\n"
    "  --desired-count 0\n"
    "aws application-autoscaling register-scalable-target --region $TOKYO --service-namespace ecs \\\n"
    "  --scalable-dimension ecs:service:DesiredCount --resource-id service/$TOKYO_CLUSTER/$TOKYO_SERVICE \\\n"
    "  --min-capacity 0 --max-capacity 0"
)
_CHECK_DNS = (
    "aws route53 get-health-check-status --health-check-id <{site} health check id>\n"
    "dig +short id.bizid.example.jp        # resolves to the {region} ALB within ~1-2 minutes\n"
    'curl -fsS https://id.bizid.example.jp/realms/bizid/bizid-site/writable   # {{"writable":true}}'
)


def _drain(site: str) -> str:
    """Route 53: make `site`'s health check fail whatever the site answers (its failover record is then not
    eligible), and wait until the checkers agree."""
    return (
        f"aws route53 update-health-check --health-check-id <{site} health check id> \\\n"
        "  --search-string '\"drained\":true'\n"
        f"aws route53 get-health-check-status --health-check-id <{site} health check id> \\\n"
        "  --query 'HealthCheckObservations[].StatusReport.Status'   # every checker: Failure"
    )


def _restore_check(site: str) -> str:
    return (
        f"aws route53 update-health-check --health-check-id <{site} health check id> \\\n"
        "  --search-string '\"writable\":true'"
    )


_DRAIN_TEXT = (
    "Before {site}'s database turns read-only, take {site} out of the failover record, so that the record"
    " never sends anyone to a read-only site: make its health check fail whatever {site} answers (search for"
    " a string the signal never returns) and wait until every checker reports failure (threshold 3 x 10 s,"
    " ~30 s). Do not invert the check instead (an inverted check turns healthy the moment the site's signal"
    " fails, i.e. once it is read-only) nor disable it (Route 53 counts a disabled check as healthy). Writes"
    " and sign-ins stop here until {other} serves. Route 53 answers with the PRIMARY record (Tokyo's ALB)"
    " when no check passes, so until {other}'s check passes clients still reach Tokyo's ALB and get its"
    " errors (a read-only site or no tasks); the local record refuses connections instead."
)


def _switchover_db(region: str, cluster: str) -> str:
    return (
        f"aws rds switchover-global-cluster --region ${region} \\\n"
        "  --global-cluster-identifier bizid-prod-global \\\n"
        f"  --target-db-cluster-identifier arn:aws:rds:${region}:$ACCOUNT:cluster:{cluster}\n"
        f"aws rds wait db-cluster-available --region ${region} --db-cluster-identifier {cluster}\n"
        f"aws rds describe-global-clusters --region ${region} \\\n"
        "  --global-cluster-identifier bizid-prod-global \\\n"
        "  --query 'GlobalClusters[0].GlobalClusterMembers[].[DBClusterArn,IsWriter]'"
    )


NODE_LOSS = (
    Step("Sign-in load and account writes start", Op("wait-record", ("tokyo",))),
    Step("Kill Keycloak node 2 in Tokyo (SIGKILL)", Op("kill-node", ("tokyo", "2"))),
    Step(
        "Nothing to do by hand: the load balancer stops sending to the lost task",
        Op("wait-node-out", ("tokyo", "2")),
        "The ALB's target-group check (`/health/ready`) takes the dead task out of service within its"
        " interval; the other tasks carry on with the sessions, which are in the database (persistent user"
        " sessions) and in the replicated Infinispan caches. Check that the service is short of one task:",
        (
            "aws ecs describe-services --region $TOKYO --cluster $TOKYO_CLUSTER \\\n"
            "  --services $TOKYO_SERVICE --query 'services[0].[runningCount,desiredCount]'",
        ),
        runbook="node-loss",
    ),
    Step(
        "ECS replaces the task",
        Op("start-node", ("tokyo", "2")),
        "The service scheduler starts a replacement task, which joins the cluster (jdbc-ping) and passes"
        " `/health/ready`. Wait for it:",
        ("aws ecs wait services-stable --region $TOKYO --cluster $TOKYO_CLUSTER --services $TOKYO_SERVICE",),
        runbook="node-loss",
    ),
    Step("Check: every committed account is in Tokyo", Op("inventory", ("tokyo",))),
)

UNPLANNED = (
    Step("Sign-in load and account writes start", Op("wait-record", ("tokyo",))),
    Step("Snapshot what Tokyo has committed, and the replication lag", Op("inventory", ("tokyo",))),
    Step("Kill Tokyo: its database and both Keycloak nodes (SIGKILL)", Op("kill-site", ("tokyo",))),
    Step(
        "Fence Tokyo",
        Op("stop-keycloak", ("tokyo",)),
        "If its API still answers, so that it cannot take writes or traffic any more. If Tokyo still passes"
        " its health check (a partial failure), also force Route 53 away from it (its data plane is global):"
        " `aws route53 update-health-check --health-check-id <tokyo health check id> --inverted`.",
        (_FENCE_TOKYO,),
        runbook="unplanned",
    ),
    Step(
        "Promote Osaka's database",
        Op("promote", ("osaka",)),
        "Try the managed failover first: it keeps the global cluster, and Tokyo rejoins it as a secondary"
        " when the region recovers. If that call fails or does not finish within ~10 minutes, detach and"
        " promote instead (`aws rds remove-from-global-cluster --region $OSAKA --global-cluster-identifier"
        " bizid-prod-global --db-cluster-identifier arn:aws:rds:$OSAKA:$ACCOUNT:cluster:bizid-prod-osaka-db`;"
        " AWS only, not rehearsed): Osaka becomes a standalone writer and switching back means rebuilding the"
        " global cluster (C2). Either way, wait until Osaka has a writer. The endpoint Keycloak uses in Osaka"
        " stays the same; it now accepts writes.",
        (
            "aws rds failover-global-cluster --region $OSAKA \\\n"
            "  --global-cluster-identifier bizid-prod-global \\\n"
            "  --target-db-cluster-identifier arn:aws:rds:$OSAKA:$ACCOUNT:cluster:bizid-prod-osaka-db"
            " --allow-data-loss",
            "aws rds wait db-cluster-available --region $OSAKA --db-cluster-identifier bizid-prod-osaka-db\n"
            "aws rds describe-db-clusters --region $OSAKA --db-cluster-identifier bizid-prod-osaka-db \\\n"
            "  --query 'DBClusters[0].DBClusterMembers[].[DBInstanceIdentifier,IsClusterWriter]'",
        ),
        runbook="unplanned",
    ),
    Step(
        "Scale Keycloak in Osaka to the production size",
        Op("start-keycloak", ("osaka", "2")),
        "The first task takes the database lock and runs any pending migrations; the others wait for it. If"
        " tasks fail, read `/bizid/prod/keycloak` in CloudWatch Logs in Osaka: the usual cause is a database"
        " that is still read-only (go back to the previous step). Add readers if the load needs them (AWS"
        " only, not rehearsed).",
        (_SCALE_OSAKA,),
        runbook="unplanned",
    ),
    Step(
        "DNS changes by itself",
        Op("wait-record", ("osaka",)),
        "Once Osaka's targets pass `/health/ready` and its database takes writes, Osaka's site writability"
        ' signal answers 200 `{"writable":true}` and its health check turns healthy; with Tokyo\'s failing,'
        " the failover record answers with Osaka. A Tokyo task that survives on a read-only secondary answers"
        " the signal with 503, so the record does not fail back to it. Check:",
        (_CHECK_DNS.format(site="osaka", region="ap-northeast-3"),),
        runbook="unplanned",
    ),
    Step("Compare Osaka with the snapshot: what was lost", Op("inventory", ("osaka",))),
    Step(
        "Tell the RPs and the help desk",
        None,
        "The platform is back. In-progress logins were lost and users may have to sign in again. Changes"
        " made in the last second before the loss (give the measured lag) may be missing.",
        runbook="unplanned",
    ),
    Step(
        "Watch Osaka's alarms",
        None,
        "5xx, failed logins, unhealthy hosts, audit delivery and replication. Osaka's audit archive receives"
        " events from now on; events still buffered in Tokyo reach Tokyo's archive when Tokyo returns.",
        runbook="unplanned",
    ),
)

SWITCHOVER = (
    Step("Sign-in load and account writes start", Op("wait-record", ("tokyo",))),
    Step(
        "A burst of account creations in Tokyo: how long Osaka takes to catch up",
        Op("burst", ("osaka", "40")),
    ),
    Step(
        "Take Tokyo out of the record (drain)",
        Op("drain-record", ("tokyo",)),
        _DRAIN_TEXT.format(site="Tokyo", other="Osaka"),
        (_drain("tokyo"),),
        runbook="switchover",
    ),
    Step(
        "Switch the database over (Osaka becomes the writer, Tokyo the secondary)",
        Op("switchover-db", ("tokyo", "osaka")),
        "Only once Tokyo is out of the record. RPO 0: the switch makes Tokyo read-only and waits until Osaka"
        " has caught up. Continue when the Osaka ARN shows `True`. From now on Tokyo's tasks cannot write:"
        " their site writability signal answers 503, so Tokyo's health check would fail even undrained.",
        (_switchover_db("OSAKA", "bizid-prod-osaka-db"),),
        runbook="switchover",
    ),
    Step(
        "Scale Keycloak in Osaka",
        Op("start-keycloak", ("osaka", "2")),
        "As in A. The first task takes the database lock; once its targets are healthy, Osaka's signal"
        " answers 200 and its health check passes.",
        (_SCALE_OSAKA,),
        runbook="switchover",
    ),
    Step(
        "The record answers with Osaka",
        Op("wait-record", ("osaka",)),
        "Check as in A:",
        (_CHECK_DNS.format(site="osaka", region="ap-northeast-3"),),
        runbook="switchover",
    ),
    Step(
        "Fence Tokyo's service",
        Op("stop-keycloak", ("tokyo",)),
        "Service to 0, autoscaling 0-0 (Tokyo's database stays Osaka's secondary). Tokyo's health check"
        " stays drained (and the signal fails on the read-only secondary anyway). Check that it reports"
        " unhealthy before you call the switch done.",
        (
            _FENCE_TOKYO,
            "aws route53 get-health-check-status --health-check-id <tokyo health check id> \\\n"
            "  --query 'HealthCheckObservations[].StatusReport.Status'",
        ),
        runbook="switchover",
    ),
    Step("Check: every committed account is in Osaka", Op("inventory", ("osaka",))),
    Step(
        "Osaka carries the sign-in load for a while (the Osaka leg of the drill)",
        Op("watch-record", ("osaka",)),
    ),
    Step(
        "Wait until Tokyo is in sync",
        Op("wait-caught-up", ("tokyo",)),
        "`AuroraGlobalDBReplicationLag` for `bizid-prod-tokyo-db` (in Tokyo) stays low.",
        runbook="switch-back",
    ),
    Step(
        "Take Osaka out of the record (drain), and restore Tokyo's health check",
        Op("drain-record", ("osaka",)),
        _DRAIN_TEXT.format(site="Osaka", other="Tokyo")
        + " Restore Tokyo's check in the same step: its database is still Osaka's read-only secondary, so"
        " the signal keeps it failing until the switch.",
        (_drain("osaka"), _restore_check("tokyo")),
        runbook="switch-back",
    ),
    Step(
        "Switch over to Tokyo (no data loss), database first",
        Op("switchover-db", ("osaka", "tokyo")),
        "Only once Osaka is out of the record. Osaka turns read-only; users get errors until Tokyo's tasks"
        " are ready.",
        (_switchover_db("TOKYO", "bizid-prod-tokyo-db"),),
        runbook="switch-back",
    ),
    Step(
        "Bring Tokyo's service back to its size",
        Op("start-keycloak", ("tokyo", "2")),
        "Min 3, max 12, desired 3. Keycloak cannot start on Tokyo before the switch (read-only secondary),"
        " which is why it comes second.",
        (_SCALE_TOKYO,),
        runbook="switch-back",
    ),
    Step(
        "The record prefers Tokyo again",
        Op("wait-record", ("tokyo",)),
        "Tokyo's tasks become ready, its signal answers 200, its health check passes. If you inverted Tokyo's"
        " health check in A, un-invert it now"
        " (`aws route53 update-health-check --health-check-id <id> --no-inverted`). Then restore Osaka's"
        " check (drained in the previous steps): Osaka's database is now Tokyo's read-only secondary, so"
        " the signal keeps it failing. (Locally the record is re-designated on the promotion, which clears"
        " the drain.) Check:",
        (_CHECK_DNS.format(site="tokyo", region="ap-northeast-1"), _restore_check("osaka")),
        runbook="switch-back",
    ),
    Step(
        "Scale Osaka back to standby",
        Op("stop-keycloak", ("osaka",)),
        "After the sessions have moved (about 30 minutes on AWS; at once in the drill): min 0, desired 0,"
        " max 12.",
        (
            "aws application-autoscaling register-scalable-target --region $OSAKA \\\n"
            "  --service-namespace ecs --scalable-dimension ecs:service:DesiredCount \\\n"
            "  --resource-id service/$OSAKA_CLUSTER/$OSAKA_SERVICE --min-capacity 0 --max-capacity 12\n"
            "aws ecs update-service --region $OSAKA --cluster $OSAKA_CLUSTER --service $OSAKA_SERVICE"
            " --desired-count 0",
        ),
        runbook="switch-back",
    ),
    Step(
        "Reconcile the stack",
        None,
        "The preview must show no changes to the database topology, only the sizes you changed back. Then run"
        " `pulumi up`.",
        ("cd infra && pulumi refresh --stack prod && pulumi preview --stack prod",),
        runbook="switch-back",
    ),
    Step("Check: every committed account is in Tokyo", Op("inventory", ("tokyo",))),
)

FAILBACK = (
    *(step for step in UNPLANNED[:8] if step.title != "Fence Tokyo"),
    Step(
        "Tokyo returns unfenced (its API did not answer): its old database restarts as it was, a diverged"
        " writer",
        Op("restart-db", ("tokyo",)),
    ),
    Step("Tokyo's surviving Keycloak nodes come back on it", Op("start-nodes-unfenced", ("tokyo", "2"))),
    Step("Watch the record: it must stay on Osaka", Op("watch-record", ("osaka",))),
    Step(
        "Tokyo's database rejoins as Osaka's secondary (what Aurora does after a managed failover)",
        Op("rebuild-standby", ("tokyo", "osaka")),
    ),
    Step(
        "Tokyo's Keycloak nodes come back on the read-only secondary, unfenced",
        Op("start-nodes-unfenced", ("tokyo", "2")),
    ),
    Step("Watch the record: it must still stay on Osaka", Op("watch-record", ("osaka",))),
)

DRILLS: dict[str, tuple[Step, ...]] = {
    "node-loss": NODE_LOSS,
    "unplanned": UNPLANNED,
    "switchover": SWITCHOVER,
    "failback": FAILBACK,
}


def drill(name: str) -> tuple[Step, ...]:
    if name not in DRILLS:
        raise ValueError(f"unknown drill {name!r}: one of {', '.join(DRILLS)}")
    return DRILLS[name]


def runbook_steps(part: str) -> list[Step]:
    """The runbook steps of one part, in drill order, each once (the fail-back drill reuses A's)."""
    seen: list[Step] = []
    for steps in DRILLS.values():
        for step in steps:
            if step.runbook == part and step not in seen:
                seen.append(step)
    return seen
