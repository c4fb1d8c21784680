"""Run mutants through the real `opa`: discard what does not compile, and see which still pass the tests.

Each worker owns a private copy of the policy tree; a mutant is written over its file there, checked
with `opa check --strict`, tested with `opa test` (one test at a time, GOMAXPROCS=1, so two workers use
about two cores), and the original file is put back. The whole tree is loaded for every mutant, and
the tests of every package that can see the mutated one run (release -> access -> delegation ->
inputs: a mutant of inputs is caught by any of their tests, which is the behaviour a caller sees).
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from policies.mutation.operators import Mutant, generate

# Outcomes of one mutant.
KILLED = "killed"
SURVIVED = "survived"
INVALID = "invalid"  # does not compile under `opa check --strict`: not counted
TIMEOUT = "timeout"  # counted as killed (the tests did not pass)

_TIMEOUT_S = 120


@dataclass(frozen=True)
class Result:
    mutant: Mutant
    outcome: str


class OpaError(RuntimeError):
    """The unmutated policies do not check or test cleanly, or `opa` cannot be run."""


def policy_files(root: Path) -> list[Path]:
    """The policy files to mutate: every `.rego` under root except tests and test fixtures."""
    return sorted(
        p
        for p in root.rglob("*.rego")
        if not p.name.endswith("_test.rego") and "fixtures" not in p.relative_to(root).parts
    )


def all_mutants(root: Path, packages: Iterable[str] = ()) -> list[Mutant]:
    """The mutants of every policy file under root (only of the given top folders, when any)."""
    wanted = set(packages)
    mutants: list[Mutant] = []
    for path in policy_files(root):
        rel = path.relative_to(root).as_posix()
        if wanted and rel.split("/")[0] not in wanted:
            continue
        mutants.extend(generate(rel, path.read_text(encoding="utf-8")))
    return mutants


_PACKAGE = re.compile(r"^package\s+([\w.]+)", re.MULTILINE)
_DATA_REF = re.compile(r"\bdata\.([\w.]+)")


def test_selection(root: Path) -> dict[str, str]:
    """{policy file (relative): `opa test --run` pattern of the test packages that can see it}.

    A test package sees a policy package when it refers to it (`data.<pkg>`, e.g. through an import),
    directly or through the policy packages it refers to. Only those tests can kill a mutant of it;
    running just them saves time and changes no outcome.
    """
    texts = {
        p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in sorted(root.rglob("*.rego"))
    }
    package_of: dict[str, str] = {}
    for rel, text in texts.items():
        found = _PACKAGE.search(text)
        if found:
            package_of[rel] = found.group(1)
    packages = set(package_of.values())
    refers: dict[str, set[str]] = {pkg: set() for pkg in packages}
    for rel, text in texts.items():
        if rel not in package_of:
            continue
        code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        for ref in _DATA_REF.findall(code):
            parts = ref.split(".")
            refers[package_of[rel]].update(
                ".".join(parts[:n]) for n in range(1, len(parts) + 1) if ".".join(parts[:n]) in packages
            )

    def closure(pkg: str) -> set[str]:
        seen, todo = {pkg}, [pkg]
        while todo:
            for dep in refers.get(todo.pop(), set()) - seen:
                seen.add(dep)
                todo.append(dep)
        return seen

    tests = sorted(p for p in packages if p.endswith("_test"))
    selection: dict[str, str] = {}
    for rel, pkg in package_of.items():
        seeing = [t for t in tests if pkg in closure(t)]
        names = "|".join(re.escape(t) for t in seeing) or "(?!)"
        selection[rel] = f"^data\\.({names})\\."
    return selection


def _env() -> dict[str, str]:
    return {**os.environ, "GOMAXPROCS": "1"}


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=_TIMEOUT_S, env=_env())


def _check(opa: Path, tree: Path, *, policies_only: bool = False) -> subprocess.CompletedProcess[str]:
    """`opa check --strict`; for a mutant only the policy files, so that a mutant the tests' own
    compilation rejects (e.g. a changed type a test relies on) counts as killed, not as not compiling."""
    ignore = ["--ignore", "*_test.rego"] if policies_only else []
    return _run([str(opa), "check", "--strict", *ignore, str(tree)])


def _test(opa: Path, tree: Path, run: str = "") -> subprocess.CompletedProcess[str]:
    return _run([str(opa), "test", "--parallel", "1", *(["--run", run] if run else []), str(tree)])


def baseline(opa: Path, root: Path) -> None:
    """Fail early, with OPA's message, when the unmutated policies do not check or pass their tests."""
    if not opa.is_file():
        raise OpaError(f"opa binary not found at {opa} (run `make install`, or pass --opa / set BIZID_OPA)")
    check = _check(opa, root)
    if check.returncode != 0:
        raise OpaError(
            f"`opa check --strict {root}` fails before any mutation:\n{check.stdout}{check.stderr}"
        )
    test = _test(opa, root)
    if test.returncode != 0:
        raise OpaError(f"`opa test {root}` fails before any mutation:\n{test.stdout}{test.stderr}")


def run_one(opa: Path, tree: Path, mutant: Mutant, run: str = "") -> str:
    """The outcome of one mutant in a private copy `tree` of the policy root (restored afterwards)."""
    target = tree / mutant.path
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(mutant.source, encoding="utf-8")
        if _check(opa, tree, policies_only=True).returncode != 0:
            return INVALID
        try:
            return SURVIVED if _test(opa, tree, run).returncode == 0 else KILLED
        except subprocess.TimeoutExpired:
            return TIMEOUT
    finally:
        target.write_text(original, encoding="utf-8")


def run_all(
    opa: Path,
    root: Path,
    mutants: list[Mutant],
    workers: int = 2,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Result], float]:
    """Run every mutant with `workers` parallel workers; returns results (in input order) and seconds."""
    started = time.monotonic()
    selection = test_selection(root)
    with tempfile.TemporaryDirectory(prefix="bizid-mutants-") as tmp:
        trees: queue.Queue[Path] = queue.Queue()
        for n in range(max(1, workers)):
            tree = Path(tmp) / f"w{n}"
            shutil.copytree(root, tree)
            trees.put(tree)
        done = [0]
        lock = threading.Lock()

        def work(mutant: Mutant) -> Result:
            tree = trees.get()
            try:
                outcome = run_one(opa, tree, mutant, selection.get(mutant.path, ""))
            finally:
                trees.put(tree)
            with lock:
                done[0] += 1
                count = done[0]
            if progress:
                progress(count, len(mutants))
            return Result(mutant, outcome)

        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            results = list(pool.map(work, mutants))
    return results, time.monotonic() - started
