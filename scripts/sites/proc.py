"""Stopping the topology's processes. Like `services._stop_pid`, but a process that has exited counts as
stopped even while it is an unreaped child of this process (a zombie still answers `kill -0`): the tests
and drills start and stop the sites from one Python process, and every stop would otherwise wait it out."""

from __future__ import annotations

import contextlib
import os
import signal
import time

from scripts import services
from scripts.settings import Settings


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def alive(pid: int) -> bool:
    _reap(pid)
    return services._pid_alive(pid) and services._running(pid)


def stop(settings: Settings, name: str, timeout: float = 30.0) -> None:
    """SIGTERM the process group, SIGKILL it after `timeout`; forget its pid file."""
    pid = services.read_pid(settings, name)
    if pid is not None and alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        if alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        _reap(pid)
    services._pid_file(settings, name).unlink(missing_ok=True)


def kill(settings: Settings, name: str) -> None:
    """SIGKILL the process group at once (a lost task or region)."""
    pid = services.read_pid(settings, name)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    services._pid_file(settings, name).unlink(missing_ok=True)


def running(settings: Settings, name: str) -> bool:
    pid = services.read_pid(settings, name)
    return pid is not None and alive(pid)
