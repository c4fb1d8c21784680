"""`python -m policies.mutation`: run the mutation check of policies/bizid and fail on an unreviewed survivor.

Exit status: 0 when every compiling mutant is killed or on the reviewed equivalent list (stale entries
are only warned about), 1 when a mutant survives that is not on the list, 2 on a usage or setup error.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from policies.mutation import equivalent, report, runner

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POLICIES = REPO_ROOT / "policies" / "bizid"
DEFAULT_OPA = REPO_ROOT / ".bizid" / "bin" / "opa"
COMMAND = ".venv/bin/python -m policies.mutation"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m policies.mutation", description=__doc__)
    parser.add_argument(
        "--opa",
        type=Path,
        default=Path(os.environ.get("BIZID_OPA", str(DEFAULT_OPA))),
        help="the opa binary (default: $BIZID_OPA, else .bizid/bin/opa from `make install`)",
    )
    parser.add_argument(
        "--policies", type=Path, default=DEFAULT_POLICIES, help="policy root (policies/bizid)"
    )
    parser.add_argument("--equivalent", type=Path, default=equivalent.DEFAULT_PATH, help="reviewed list")
    parser.add_argument("--workers", type=int, default=2, help="parallel opa processes (default 2)")
    parser.add_argument(
        "--package",
        action="append",
        default=[],
        help="only this top folder (access, inputs, ...); repeatable",
    )
    parser.add_argument(
        "--ids-from",
        type=Path,
        help="only the mutants whose ids appear in this file (e.g. an earlier report): a quick re-run",
    )
    parser.add_argument("--report", type=Path, help="also write the Markdown report to this file")
    parser.add_argument("--list", action="store_true", help="only list the mutants, run nothing")
    return parser


def _label(path: Path) -> str:
    """The policy root as the user would type it: relative to the working directory when inside it."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _progress(done: int, total: int) -> None:
    if done % 100 == 0 or done == total:
        print(f"  {done}/{total}", flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.workers < 1:
        print(f"--workers must be at least 1, got {args.workers}", file=sys.stderr)
        return 2
    if not args.policies.is_dir():
        print(f"--policies: {args.policies} is not a directory", file=sys.stderr)
        return 2
    try:
        reviewed = equivalent.load(args.equivalent)
    except equivalent.ListError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    mutants = runner.all_mutants(args.policies, args.package)
    if args.package and not mutants:
        print(f"--package: no policy files under {args.policies} for {args.package}", file=sys.stderr)
        return 2
    generated = {m.mutant_id for m in mutants}
    if args.ids_from:
        try:
            wanted = args.ids_from.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"--ids-from: cannot read {args.ids_from}: {exc}", file=sys.stderr)
            return 2
        mutants = [m for m in mutants if m.mutant_id in wanted]
    if args.list:
        for m in mutants:
            print(f"{m.path}:{m.line}: [{m.operator}] {m.mutated or '(removed)'}\n    id: {m.mutant_id}")
        return 0
    try:
        runner.baseline(args.opa, args.policies)
    except runner.OpaError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"{len(mutants)} mutants of {args.policies}, {args.workers} workers ...", flush=True)
    results, seconds = runner.run_all(args.opa, args.policies, mutants, args.workers, _progress)
    summary = report.summarise(results, reviewed, seconds, generated)
    root = _label(args.policies)
    print(report.table(summary))
    print(f"time: {seconds:.0f} s")
    for entry in summary.stale:
        print(f"warning: stale entry in {args.equivalent} (mutant killed or gone): {entry}")
    if args.report:
        try:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            args.report.write_text(report.markdown(summary, COMMAND, root), encoding="utf-8")
        except OSError as exc:
            print(f"--report: cannot write {args.report}: {exc}", file=sys.stderr)
            return 2
    if summary.unlisted:
        print(f"\n{len(summary.unlisted)} mutant(s) survive `opa test` and are not on {args.equivalent}:")
        for result in summary.unlisted:
            print(report.survivor_line(result, root))
        print("Kill each with a test that pins the behaviour, or add its id with a reason to the list.")
        return 1
    print("mutation check: every compiling mutant is killed or reviewed as equivalent")
    return 0
