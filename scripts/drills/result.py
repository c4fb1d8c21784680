"""What one drill run produced: the steps as run, every sign-in and write, the record's samples, the figures
and the properties checked. The report (scripts/drills/report.py) renders it; the raw run is kept as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from scripts.drills.inventory import Write
from scripts.drills.recorder import SignIn


@dataclass
class StepRun:
    title: str
    command: str
    start: float
    end: float = 0.0
    ok: bool = True
    detail: str = ""


@dataclass(frozen=True)
class RecordSample:
    """Where the failover record pointed at `t`, and which sites' databases took writes then."""

    t: float
    points_to: str | None
    writable: dict[str, bool | None]


@dataclass
class Check:
    """A property the drill asserts (the tests assert the same ones); `ok` False fails the drill."""

    name: str
    ok: bool
    detail: str = ""


@dataclass
class DrillResult:
    name: str
    started: float
    command: str
    finished: float = 0.0
    steps: list[StepRun] = field(default_factory=list)
    signins: list[SignIn] = field(default_factory=list)
    writes: list[Write] = field(default_factory=list)
    record: list[RecordSample] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    """Named measurements for the report (RTO, RPO, lag at the kill, failed sign-ins ...)."""
    checks: list[Check] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    """Observations in words (what happened to Tokyo's sessions in Osaka, and why)."""
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps) and all(check.ok for check in self.checks)

    def check(self, name: str, ok: bool, detail: str = "") -> Check:
        found = Check(name, ok, detail)
        self.checks.append(found)
        return found

    def step_start(self, title: str) -> float | None:
        """When the first step with this title (or starting with it) began."""
        return next((s.start for s in self.steps if s.title.startswith(title)), None)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), indent=1, default=str), encoding="utf-8")
