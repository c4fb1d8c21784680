"""The runbook's numbered step lists, generated from the drill steps (scripts/drills/steps.py).

Generated rather than compared: the runbook then cannot list a step the drill does not run, nor the drill
rehearse one the runbook does not list, and a reviewer reads the AWS command and the local command that
rehearses it side by side. Each generated list sits between two markers in docs/runbook-failover.md; the
prose around them (when to decide, names, the AWS-only parts) stays hand-written.
`bizid drill runbook --check` (and tests/test_drills_steps.py) fail when the file and the data differ.
"""

from __future__ import annotations

import re
from pathlib import Path

from scripts.drills.steps import DRILLS, RUNBOOK_PARTS, Step, runbook_steps
from scripts.settings import REPO_ROOT

RUNBOOK = REPO_ROOT / "docs" / "runbook-failover.md"

BEGIN = "<!-- drill-steps:{part} begin: generated from scripts/drills/steps.py (`bizid drill runbook`) -->"
END = "<!-- drill-steps:{part} end -->"


def _indent(text: str, prefix: str = "   ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _drills_using(step: Step) -> list[str]:
    return [name for name, steps in DRILLS.items() if step in steps]


def render_step(number: int, step: Step) -> str:
    lines = [f"{number}. **{step.title}.**" + (f" {step.text}" if step.text else "")]
    for command in step.aws:
        lines.append(_indent(f"```\n{command}\n```"))
    if step.op is None:
        lines.append("   *AWS only, not rehearsed.*")
    else:
        used = _drills_using(step)
        drills = ", ".join(f"`bizid drill {d}`" for d in used)
        lines.append(f"   Rehearsed locally: `{step.op.command}` (in {drills}).")
    return "\n".join(lines)


def render_part(part: str) -> str:
    steps = runbook_steps(part)
    body = "\n".join(render_step(n, step) for n, step in enumerate(steps, 1))
    return f"{BEGIN.format(part=part)}\n{body}\n{END.format(part=part)}"


def generate(text: str) -> str:
    """`text` with every generated part replaced by its current rendering; a missing marker is an error."""
    for part in RUNBOOK_PARTS:
        pattern = re.compile(
            re.escape(BEGIN.format(part=part)) + r".*?" + re.escape(END.format(part=part)), re.S
        )
        if not pattern.search(text):
            raise ValueError(
                f"{RUNBOOK}: no generated step list for {part!r} (marker {BEGIN.format(part=part)})"
            )
        start, end = pattern.search(text).span()  # type: ignore[union-attr]  # checked just above
        text = text[:start] + render_part(part) + text[end:]
    return text


def stale(path: Path = RUNBOOK) -> bool:
    """True when the runbook's step lists differ from the drill steps."""
    text = path.read_text(encoding="utf-8")
    return generate(text) != text


def write(path: Path = RUNBOOK) -> bool:
    """Regenerate the step lists in place; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    new = generate(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text
