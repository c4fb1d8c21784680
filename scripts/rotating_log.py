"""Run a command with its output in a size-bounded log: `<file>`, `<file>.1` … `<file>.<keep>`.

OPA writes every decision to its console (the decision log, masked by `policies/system/log.rego`); over a
deadline day that grows without end (180 MB over ~70 k sign-ins, issue 14 §4). OPA has no file rotation of
its own, so the local platform starts it under this wrapper: `python -m scripts.rotating_log --max-bytes N
--keep K --file opa.log -- opa run …`. Each line is written (and flushed) as it arrives, so a reader sees a
decision at once; when the next line would take the file past `--max-bytes`, the files shift by one
(`opa.log` → `opa.log.1` …) and the oldest beyond `--keep` is deleted. The whole log is therefore never
more than (keep + 1) × max-bytes. A line longer than max-bytes is cut to it (and says so).

The wrapper and the command share one process group (the caller's `start_new_session`): stopping the group
stops both; the wrapper forwards SIGTERM/SIGINT to the command, keeps reading until it has exited (so its
last lines are kept) and exits with its status.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

CUT_MARK = b"...(line cut at the log's size bound)\n"


@dataclass(frozen=True)
class Bound:
    """How large one file may grow and how many rotated files are kept beside it."""

    max_bytes: int
    keep: int

    def __post_init__(self) -> None:
        if self.max_bytes < 1024:
            raise ValueError(f"max_bytes must be at least 1024 (got {self.max_bytes})")
        if not 1 <= self.keep <= 100:
            raise ValueError(f"keep must be between 1 and 100 (got {self.keep})")

    @property
    def total_bytes(self) -> int:
        return (self.keep + 1) * self.max_bytes

    def arguments(self, path: Path) -> list[str]:
        """This module's command line (before `--` and the command) writing to `path`."""
        return [
            sys.executable,
            "-m",
            "scripts.rotating_log",
            f"--max-bytes={self.max_bytes}",
            f"--keep={self.keep}",
            f"--file={path}",
            "--",
        ]


def rotated(path: Path, keep: int) -> list[Path]:
    """The files of one log, newest first: `path`, `path.1` … `path.<keep>` (those that exist)."""
    return [
        p for p in [path, *(path.with_name(f"{path.name}.{i}") for i in range(1, keep + 1))] if p.exists()
    ]


class RotatingFile:
    """Appends whole lines to `path`, shifting the files before a line would pass `max_bytes`."""

    def __init__(self, path: Path, bound: Bound) -> None:
        self.path = path
        self.bound = bound
        self.fd = self._open()
        self.size = os.fstat(self.fd).st_size

    def _open(self) -> int:
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # the log holds decision and account ids: its owner only
        return fd

    def _rotate(self) -> None:
        os.close(self.fd)
        name = self.path.name
        self.path.with_name(f"{name}.{self.bound.keep}").unlink(missing_ok=True)
        for i in range(self.bound.keep - 1, 0, -1):
            older = self.path.with_name(f"{name}.{i}")
            if older.exists():
                older.rename(self.path.with_name(f"{name}.{i + 1}"))
        if self.path.exists():
            self.path.rename(self.path.with_name(f"{name}.1"))
        self.fd = self._open()
        self.size = 0

    def write(self, line: bytes) -> None:
        if len(line) > self.bound.max_bytes:
            line = line[: self.bound.max_bytes - len(CUT_MARK)] + CUT_MARK
        if self.size and self.size + len(line) > self.bound.max_bytes:
            self._rotate()
        os.write(self.fd, line)
        self.size += len(line)

    def close(self) -> None:
        os.close(self.fd)


def run(command: Sequence[str], path: Path, bound: Bound) -> int:
    """Run `command`, its stdout and stderr into the rotating log at `path`; its exit status."""
    log = RotatingFile(path, bound)
    child = subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
    )

    def forward(signum: int, _frame: FrameType | None) -> None:
        if child.poll() is None:
            child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    assert child.stdout is not None
    try:
        for line in child.stdout:
            log.write(line)
    finally:
        log.close()
    return child.wait()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.rotating_log", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--max-bytes", type=int, required=True, help="largest size of one file")
    parser.add_argument("--keep", type=int, required=True, help="rotated files kept (file.1 … file.K)")
    parser.add_argument("--file", type=Path, required=True, help="the log file")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- then the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    try:
        bound = Bound(args.max_bytes, args.keep)
    except ValueError as exc:
        parser.error(str(exc))
    return run(command, args.file, bound)


if __name__ == "__main__":
    sys.exit(main())
