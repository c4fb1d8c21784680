"""The local scheduler of `bizid notify reminders`: a systemd timer (service + timer unit) for this clone.

Why a timer and not a worker started by `bizid up`: reminders are due once a day, the local platform is
up only while someone works with it, and a timer with `Persistent=true` runs a missed day as soon as the
machine is back, with no process of ours to supervise. That is safe because the command is idempotent
(realm/reminders.py: the ledger records each sent reminder by account or delegation and deadline, so a
second run the same day sends nothing twice). `bizid notify timer` prints the two units; install them
as user units (README, "Events kept, monthly report, reminders"). Each run is bounded: one pass, then
it exits (`Type=oneshot`, `TimeoutStartSec`).
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

UNIT = "bizid-reminders"
CALENDAR = "*-*-* 09:00:00 Asia/Tokyo"
"""Every day at 09:00 JST, when the operations centre opens (the deadlines are JST calendar days)."""
TIMEOUT_SECONDS = 900


@dataclass(frozen=True)
class TimerUnits:
    service: str
    timer: str

    def files(self) -> dict[str, str]:
        return {f"{UNIT}.service": self.service, f"{UNIT}.timer": self.timer}


def command(days: int) -> list[str]:
    """The arguments after `bizid` that each run executes."""
    return ["notify", "reminders", "--days", str(days)]


def units(repo: Path, port_offset: int, days: int = 30) -> TimerUnits:
    """The service (one bounded pass) and the daily timer for the clone at `repo`."""
    bizid = repo / ".venv" / "bin" / "bizid"
    exec_start = shlex.join([str(bizid), *command(days)])
    service = (
        "[Unit]\n"
        "Description=bizid: validity and delegation expiry reminders (idempotent, one pass)\n\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"WorkingDirectory={repo}\n"
        f"Environment=BIZID_PORT_OFFSET={port_offset}\n"
        f"ExecStart={exec_start}\n"
        f"TimeoutStartSec={TIMEOUT_SECONDS}\n"
    )
    timer = (
        "[Unit]\n"
        "Description=bizid: run the expiry reminders daily\n\n"
        "[Timer]\n"
        f"OnCalendar={CALENDAR}\n"
        "Persistent=true\n"
        f"Unit={UNIT}.service\n\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return TimerUnits(service, timer)
