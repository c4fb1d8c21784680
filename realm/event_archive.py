"""The durable copy of Keycloak's events: the `bizid-event {json}` lines of the `bizid-event-archive`
listener.

Keycloak's event store (PostgreSQL, `events.expiration_seconds` in realm.yaml) keeps the default event types
for the retention; the listener logs *every* event (also REFRESH_TOKEN and USER_INFO_REQUEST, which the
store skips by default) as one JSON line with the ids of the OPA release decisions taken in the same request
(`release_decision_ids`, the `decision_id` of OPA's decision log). Locally the lines land in the
append-only `.bizid/logs/keycloak.log`; on AWS in the task's log stream, which the Object Lock archive
subscribes to (docs/audit.md). `bizid audit trace` and `bizid report monthly` read them from here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MARKER = "bizid-event "
"""As in the extension's `EventArchive.MARKER`."""


@dataclass(frozen=True)
class ArchivedEvent:
    """One archived Keycloak event (login kind: `type`; admin kind: `operation` on `resource_path`)."""

    kind: str
    id: str
    time: dt.datetime
    type: str = ""
    client: str | None = None
    user: str | None = None
    session: str | None = None
    error: str | None = None
    release_decision_ids: tuple[str, ...] = ()
    operation: str = ""
    resource_type: str = ""
    resource_path: str = ""
    by_user: str | None = None
    details: dict[str, str] = field(default_factory=dict)


def payload(line: str) -> dict[str, Any] | None:
    """The `bizid-event` JSON of a log line (plain, or inside a JSON log line's `message`); None if none."""
    text = line
    if line.lstrip().startswith("{"):  # JSON console logs (AWS): the marker is in the message
        try:
            text = str(json.loads(line).get("message", ""))
        except ValueError:
            return None
    at = text.find(MARKER)
    if at < 0:
        return None
    try:
        raw = json.loads(text[at + len(MARKER) :])
    except ValueError:
        return None
    return raw if isinstance(raw, dict) and raw.get("id") and raw.get("time") is not None else None


def parse(raw: dict[str, Any]) -> ArchivedEvent:
    known = {"kind", "id", "time", "type", "client", "user", "session", "error", "release_decision_ids"}
    known |= {"operation", "resource_type", "resource_path", "by_user", "realm", "by_client"}
    return ArchivedEvent(
        kind=str(raw.get("kind", "login")),
        id=str(raw["id"]),
        time=dt.datetime.fromtimestamp(int(raw["time"]) / 1000, dt.UTC),
        type=str(raw.get("type") or ""),
        client=raw.get("client"),
        user=raw.get("user"),
        session=raw.get("session"),
        error=raw.get("error"),
        release_decision_ids=tuple(str(i) for i in raw.get("release_decision_ids") or ()),
        operation=str(raw.get("operation") or ""),
        resource_type=str(raw.get("resource_type") or ""),
        resource_path=str(raw.get("resource_path") or ""),
        by_user=raw.get("by_user"),
        details={k: str(v) for k, v in raw.items() if k not in known and v is not None},
    )


def read(paths: Iterable[Path]) -> Iterator[ArchivedEvent]:
    """Every archived event in the log files, once each (a line read twice, e.g. rotated, counts once)."""
    seen: set[str] = set()
    for path in paths:
        if not path.exists():
            continue
        with path.open(encoding="utf-8", errors="replace") as f:
            for line in f:
                if MARKER not in line:
                    continue
                raw = payload(line)
                if raw is None or str(raw["id"]) in seen:
                    continue
                seen.add(str(raw["id"]))
                yield parse(raw)


def log_files(logs: Path) -> list[Path]:
    """Keycloak's log files under the platform's log folder, oldest rotation first."""
    return sorted(logs.glob("keycloak.log*"), reverse=True)
