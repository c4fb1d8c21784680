"""`bizid drill node-loss|unplanned|switchover|failback`, `bizid drill op …`, `bizid drill runbook`.

A drill runs the runbook's steps (scripts/drills/steps.py) against the two-site topology (`bizid up --sites
2`) under a bounded sign-in load, and writes docs/bench/drill-<name>.md/.html. Every option is checked, and
every step's operation validated, before anything starts.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from scripts import arguments, settings
from scripts.drills import steps

DURATION = arguments.int_range(0, 300)


def _drill_cmd(args: argparse.Namespace) -> int:
    from scripts.drills import engine, report

    options = engine.Options(
        before=args.before,
        after=args.after,
        workers=args.workers,
        accounts=args.accounts,
        held=args.held,
        watch=args.watch,
        max_seconds=args.max_seconds,
    )
    engine.validate(args.drill)
    cfg = settings.load()
    command = (
        "bizid drill " + " ".join(shlex.quote(a) for a in sys.argv[2:]) if sys.argv[1:2] == ["drill"] else ""
    )
    result = engine.run(cfg, args.drill, options, command or f"bizid drill {args.drill}")
    result.save(cfg.paths.state / "drills" / f"{args.drill}-{int(result.started)}.json")
    if args.out is not None:
        md, page = report.write(result, args.out)
        print(f"wrote {md} and {page}")
    for name, value in result.figures.items():
        print(f"  {name}: {value}")
    for check in result.checks:
        print(f"  {'ok  ' if check.ok else 'FAIL'} {check.name}: {check.detail}")
    for step in result.steps:
        if not step.ok:
            print(f"  FAIL step {step.title!r}: {step.detail}")
    return 0 if result.ok else 1


def _op_cmd(args: argparse.Namespace) -> int:
    from scripts.drills import engine, ops
    from scripts.drills.result import DrillResult

    op = steps.Op(args.operation, tuple(args.args))
    ops.validate(op)
    cfg = settings.load()
    ctx = ops.Context(cfg, DrillResult(name="op", started=0.0, command=op.command))
    if op.name in ("watch-record", "wait-record"):
        ctx.sample = engine.Sampler(ctx).sample
    print(ops.run(ctx, op))
    for finding in ctx.result.findings + ctx.result.notes:
        print(f"  {finding}")
    return 0


def _runbook_cmd(args: argparse.Namespace) -> int:
    from scripts.drills import runbook

    if args.check:
        if runbook.stale():
            print(
                f"{runbook.RUNBOOK}: step lists differ from scripts/drills/steps.py (`bizid drill runbook`)"
            )
            return 1
        print(f"{runbook.RUNBOOK}: up to date")
        return 0
    print(f"{runbook.RUNBOOK}: {'rewritten' if runbook.write() else 'up to date'}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from scripts.drills.ops import OPERATIONS
    from scripts.drills.report import BENCH_DIR

    drill = sub.add_parser("drill", help="failover drills on the two-site topology (bizid up --sites 2)")
    d_sub = drill.add_subparsers(dest="drill_command", required=True)
    helps = {
        "node-loss": "kill one Tokyo Keycloak node mid-load",
        "unplanned": "kill Tokyo (database and nodes) mid-load, fail over to Osaka; RTO and RPO",
        "switchover": "planned switchover to Osaka and back, no committed write lost",
        "failback": "after the unplanned loss, bring Tokyo back unfenced: the record must stay on Osaka",
    }
    for name in steps.DRILLS:
        p = d_sub.add_parser(name, help=helps.get(name, name))
        p.add_argument(
            "--before", type=DURATION, default=15, help="seconds of load before the failure (0-300)"
        )
        p.add_argument(
            "--after", type=DURATION, default=15, help="seconds of load after the last step (0-300)"
        )
        p.add_argument(
            "--watch", type=DURATION, default=20, help="failback: seconds to watch the record (0-300)"
        )
        p.add_argument("--workers", type=arguments.int_range(1, 8), default=2, help="sign-in threads (1-8)")
        p.add_argument("--accounts", type=arguments.int_range(1, 50), default=6, help="load accounts (1-50)")
        p.add_argument(
            "--held", type=arguments.int_range(0, 20), default=4, help="sessions held across (0-20)"
        )
        p.add_argument(
            "--max-seconds",
            type=arguments.int_range(60, 900),
            default=600,
            help="hard bound of the load (60-900)",
        )
        p.add_argument(
            "--out", type=arguments.output_dir, default=BENCH_DIR, help="report folder (default docs/bench)"
        )
        p.set_defaults(func=_drill_cmd, drill=name)
    op = d_sub.add_parser("op", help="run one site operation as a runbook step names it")
    op.add_argument("operation", choices=sorted(OPERATIONS))
    op.add_argument("args", nargs="*", help="its arguments (sites: tokyo|osaka; nodes: 1|2)")
    op.set_defaults(func=_op_cmd)
    rb = d_sub.add_parser("runbook", help="regenerate docs/runbook-failover.md's step lists from the drills")
    rb.add_argument("--check", action="store_true", help="only say whether they differ (exit 1 if so)")
    rb.set_defaults(func=_runbook_cmd)
