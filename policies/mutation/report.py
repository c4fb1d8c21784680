"""Summaries of a mutation run: kill ratio per package, survivors to fix, stale list entries."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from policies.mutation.runner import INVALID, KILLED, SURVIVED, TIMEOUT, Result


@dataclass(frozen=True)
class PackageStats:
    package: str
    generated: int
    invalid: int
    killed: int
    equivalent: int
    survived: int  # survivors not on the equivalent list

    @property
    def compiling(self) -> int:
        return self.generated - self.invalid

    @property
    def kill_ratio(self) -> float:
        """Killed / (compiling - reviewed equivalent): 1.0 means every killable mutant is killed."""
        killable = self.compiling - self.equivalent
        return self.killed / killable if killable else 1.0


@dataclass(frozen=True)
class Summary:
    stats: list[PackageStats]
    unlisted: list[Result]  # surviving, not on the list: the check fails
    stale: list[str]  # list entries that no longer name a surviving mutant
    seconds: float


def summarise(
    results: list[Result], equivalent: dict[str, str], seconds: float, generated: set[str] | None = None
) -> Summary:
    """Count outcomes per package; `generated` is every mutant id of the files looked at (when only
    some mutants were run, e.g. --ids-from), so that entries not run this time are not called stale."""
    by_package: dict[str, Counter[str]] = {}
    unlisted: list[Result] = []
    surviving_ids: set[str] = set()
    for result in results:
        counts = by_package.setdefault(result.mutant.package, Counter())
        counts["generated"] += 1
        if result.outcome == INVALID:
            counts["invalid"] += 1
        elif result.outcome in (KILLED, TIMEOUT):
            counts["killed"] += 1
        elif result.outcome == SURVIVED:
            surviving_ids.add(result.mutant.mutant_id)
            if result.mutant.mutant_id in equivalent:
                counts["equivalent"] += 1
            else:
                counts["survived"] += 1
                unlisted.append(result)
    stats = [
        PackageStats(name, c["generated"], c["invalid"], c["killed"], c["equivalent"], c["survived"])
        for name, c in sorted(by_package.items())
    ]
    ran = {r.mutant.mutant_id for r in results}
    known = ran | (generated or set())
    packages = {r.mutant.package for r in results}
    stale = sorted(
        i
        for i in equivalent
        if (i in ran and i not in surviving_ids) or (i not in known and i.split("/")[0] in packages)
    )
    return Summary(stats, unlisted, stale, seconds)


def survivor_line(result: Result, root: str = "policies/bizid") -> str:
    """The survivor as `file:line: [operator] in rule`, the original and mutated line, and its id."""
    m = result.mutant
    return (
        f"{root}/{m.path}:{m.line}: [{m.operator}] in {m.rule}\n"
        f"    original: {m.original}\n"
        f"    mutant:   {m.mutated or '(removed)'}\n"
        f"    id: {m.mutant_id}"
    )


def table(summary: Summary) -> str:
    """A Markdown table of the kill ratio per package."""
    rows = [
        "| package | mutants | not compiling | compiling | killed | equivalent (reviewed) | survived "
        "| kill ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    total = Counter[str]()
    for s in summary.stats:
        rows.append(
            f"| {s.package} | {s.generated} | {s.invalid} | {s.compiling} | {s.killed} | {s.equivalent} "
            f"| {s.survived} | {s.kill_ratio:.1%} |"
        )
        total.update(
            generated=s.generated,
            invalid=s.invalid,
            killed=s.killed,
            equivalent=s.equivalent,
            survived=s.survived,
        )
    all_ = PackageStats(
        "all", total["generated"], total["invalid"], total["killed"], total["equivalent"], total["survived"]
    )
    a = all_
    rows.append(
        f"| **all** | {a.generated} | {a.invalid} | {a.compiling} | {a.killed} | {a.equivalent} "
        f"| {a.survived} | {a.kill_ratio:.1%} |"
    )
    return "\n".join(rows)


def markdown(summary: Summary, command: str, root: str = "policies/bizid") -> str:
    """The report file: the table, the command, the time, and any survivors or stale entries."""
    parts = [
        "# Policy mutants",
        "",
        f"Produced by `{command}` in {summary.seconds:.0f} s. Kill ratio = killed / (compiling - reviewed",
        "equivalent); mutants whose policy files fail `opa check --strict` are discarded.",
        "",
        table(summary),
        "",
    ]
    if summary.unlisted:
        parts += ["## Surviving mutants (not on the equivalent list)", "", "```"]
        parts += [survivor_line(r, root) for r in summary.unlisted]
        parts += ["```", ""]
    if summary.stale:
        parts += ["## Stale entries of policies/mutation/equivalent.yaml", ""]
        parts += [f"- `{i}`" for i in summary.stale]
        parts.append("")
    return "\n".join(parts)
