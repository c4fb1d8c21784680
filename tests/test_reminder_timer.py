"""The local reminders scheduler (scripts/reminder_timer.py): a systemd timer running one bounded pass.

The pass itself (idempotent, through the real Mailpit) is tests/test_report_e2e.py
`test_reminders_mail_once_per_deadline`; this checks the units run exactly that command of this clone.
"""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from scripts import cli, reminder_timer
from tests.conftest import run_cli


def _parse(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(text)
    return parser


def test_the_service_runs_one_pass_of_this_clones_reminders() -> None:
    units = reminder_timer.units(Path("/work/x"), 1100, days=14)
    service = _parse(units.service)["Service"]
    assert service["Type"] == "oneshot" and int(service["TimeoutStartSec"]) > 0
    assert service["WorkingDirectory"] == "/work/x"
    assert service["Environment"] == "BIZID_PORT_OFFSET=1100"
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/work/x/.venv/bin/bizid"
    assert argv[1:] == ["notify", "reminders", "--days", "14"]
    # The very command the CLI knows (not a typo that would fail every day).
    args = cli.build_parser().parse_args(argv[1:])
    assert args.days == 14 and args.func.__name__ == "_reminders_cmd"


def test_the_timer_is_daily_in_jst_and_catches_up() -> None:
    timer = _parse(reminder_timer.units(Path("/r"), 0).timer)
    assert timer["Timer"]["OnCalendar"] == "*-*-* 09:00:00 Asia/Tokyo"
    assert timer["Timer"]["Persistent"] == "true"
    assert timer["Timer"]["Unit"] == "bizid-reminders.service"
    assert timer["Install"]["WantedBy"] == "timers.target"


def test_notify_timer_writes_both_units(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "notify", "timer", "--write", str(tmp_path / "units"))
    assert code == 0, err
    assert sorted(p.name for p in (tmp_path / "units").iterdir()) == [
        "bizid-reminders.service",
        "bizid-reminders.timer",
    ]
    code, _, err = run_cli(capsys, "notify", "timer", "--days", "999")
    assert code == 2 and "--days 999" in err
