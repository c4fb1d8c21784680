"""The audit archive of a deployed stack, read back from S3: Keycloak's events and OPA's decision log.

On AWS both records reach the archive bucket through CloudWatch Logs subscription filters and Firehose
(infra/components/audit.py): `keycloak-events/YYYY/MM/DD/<stream>-<version>-<time>-<uuid>.gz` and
`opa-decisions/YYYY/MM/DD/...`, the date being Firehose's arrival time in UTC. What is inside, exactly as AWS
writes it (docs/audit.md, "The archive on AWS" cites the AWS pages):

- CloudWatch Logs hands Firehose one record per batch of log events, gzip-compressed; the stream stores it
  as it comes (`UNCOMPRESSED`), and Firehose concatenates the records of one object without a delimiter:
  an object is several gzip members back to back.
- Each record is JSON `{"messageType": "DATA_MESSAGE" | "CONTROL_MESSAGE", "owner", "logGroup",
  "logStream", "subscriptionFilters": [...], "logEvents": [{"id", "timestamp", "message"}]}`; a
  CONTROL_MESSAGE (CloudWatch Logs checking that the destination is reachable) holds no log event.
- `message` is the container's log line: for Keycloak a Quarkus JSON log line (`KC_LOG_CONSOLE_OUTPUT=json`,
  realm/keycloak_options.py) whose `message` field holds the archive listener's `bizid-event {json}`
  (realm/event_archive.py parses both forms); for OPA the decision-log JSON line (`"msg": "Decision Log"`),
  the same line OPA writes to `.bizid/logs/opa.log` locally.

A corrupt, truncated or unexpected object is an `ArchiveError` naming its s3:// URI: nothing is skipped in
silence. S3 errors are `realm.s3_store.S3StoreError` (bucket missing, no access), also naming the URI.
"""

from __future__ import annotations

import datetime as dt
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from realm import event_archive
from realm.event_archive import ArchivedEvent
from realm.s3_store import AppendOnceStore, S3Location, S3StoreError

KEYCLOAK_EVENTS = "keycloak-events"
OPA_DECISIONS = "opa-decisions"
SOURCES = (KEYCLOAK_EVENTS, OPA_DECISIONS)
"""The archive's prefixes, one per source (infra/components/audit.py `SOURCES`; tests/test_archive_s3.py
checks they agree)."""

MARGIN = dt.timedelta(days=1)
"""Days listed before and after the asked window: an object's date is when Firehose wrote it (up to its
buffering interval after the event, longer when CloudWatch Logs retried), not when the event happened."""


class ArchiveError(S3StoreError):
    """An archive object that is not what CloudWatch Logs and Firehose write; the message names it."""


@dataclass(frozen=True)
class LogEvent:
    """One CloudWatch Logs event as the subscription delivered it."""

    id: str
    timestamp: int
    """Milliseconds since the epoch (when CloudWatch Logs received it)."""
    message: str
    log_group: str
    log_stream: str
    object_uri: str
    """The s3:// URI of the archive object it was read from (named in errors)."""


def _members(uri: str, body: bytes) -> Iterator[bytes]:
    """The decompressed gzip members of an object, in order."""
    rest = body
    while rest:
        member = zlib.decompressobj(wbits=31)  # 31: a gzip header and trailer
        try:
            data = member.decompress(rest)
        except zlib.error as exc:
            raise ArchiveError(f"{uri}: not gzip at byte {len(body) - len(rest)} ({exc})") from None
        if not member.eof:
            raise ArchiveError(f"{uri}: truncated gzip member at byte {len(body) - len(rest)}")
        yield data
        rest = member.unused_data


def decode(uri: str, body: bytes) -> list[LogEvent]:
    """Every log event of the DATA_MESSAGE records in one archive object (CONTROL_MESSAGE records skipped)."""
    found: list[LogEvent] = []
    for index, data in enumerate(_members(uri, body), start=1):
        try:
            record = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise ArchiveError(f"{uri}: record {index} is not JSON") from None
        kind = record.get("messageType") if isinstance(record, dict) else None
        if kind == "CONTROL_MESSAGE":
            continue
        events = record.get("logEvents") if isinstance(record, dict) else None
        if kind != "DATA_MESSAGE" or not isinstance(events, list):
            raise ArchiveError(
                f"{uri}: record {index} is not a CloudWatch Logs subscription record (messageType {kind!r})"
            )
        for event in events:
            if not (
                isinstance(event, dict)
                and isinstance(event.get("message"), str)
                and isinstance(event.get("timestamp"), int)
            ):
                raise ArchiveError(f"{uri}: record {index} has a log event without message or timestamp")
            found.append(
                LogEvent(
                    id=str(event.get("id", "")),
                    timestamp=event["timestamp"],
                    message=event["message"],
                    log_group=str(record.get("logGroup", "")),
                    log_stream=str(record.get("logStream", "")),
                    object_uri=uri,
                )
            )
    return found


def day_prefixes(source: str, since: dt.datetime, until: dt.datetime) -> list[str]:
    """`<source>/YYYY/MM/DD/` for every UTC day from `since - MARGIN` to `until + MARGIN`."""
    day = (since.astimezone(dt.UTC) - MARGIN).date()
    last = (until.astimezone(dt.UTC) + MARGIN).date()
    prefixes: list[str] = []
    while day <= last:
        prefixes.append(f"{source}/{day:%Y/%m/%d}/")
        day += dt.timedelta(days=1)
    return prefixes


class S3AuditArchive:
    """The archive bucket of one region (the bucket the operator trail is kept in: `operator_trail`)."""

    def __init__(self, store: AppendOnceStore) -> None:
        self.store = store

    @classmethod
    def at(
        cls, bucket: str, region: str, endpoint_url: str | None = None, client: Any = None
    ) -> S3AuditArchive:
        location = S3Location.parse(f"s3://{bucket}/")
        return cls(AppendOnceStore(location, client, region=region, endpoint_url=endpoint_url))

    @property
    def where(self) -> str:
        return self.store.location.uri

    def _uri(self, name: str) -> str:
        return f"{self.store.location.uri}{name}"

    def log_events(
        self, source: str, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> Iterator[LogEvent]:
        """The source's log events in objects of the window's days (every object without `since`), oldest
        object first; events outside [since, until) are left out by the callers, who know their time."""
        if since is None:
            unders = [f"{source}/"]
        else:
            unders = day_prefixes(source, since, until or dt.datetime.now(dt.UTC))
        for under in unders:
            for stored in self.store.list(under):
                if not stored.name.endswith(".gz"):
                    raise ArchiveError(f"{self._uri(stored.name)}: not a Firehose object (.gz)")
                body = self.store.get(stored.name)
                if body is None:
                    raise ArchiveError(f"{self._uri(stored.name)}: listed but cannot be read")
                yield from decode(self._uri(stored.name), body)

    def keycloak_events(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> Iterator[ArchivedEvent]:
        """The archive listener's events (`bizid-event {json}` in Keycloak's JSON log lines), once each."""
        seen: set[str] = set()
        for log_event in self.log_events(KEYCLOAK_EVENTS, since, until):
            if event_archive.MARKER not in log_event.message:
                continue  # Keycloak's own jboss-logging event lines share the logger: not the archive's
            raw = event_archive.payload(log_event.message)
            if raw is None:
                raise ArchiveError(
                    f"{log_event.object_uri}: log event {log_event.id}: a bizid-event line that does not "
                    "parse (cut or changed)"
                )
            if str(raw["id"]) in seen:
                continue
            seen.add(str(raw["id"]))
            yield event_archive.parse(raw)

    def decisions(
        self, since: dt.datetime | None = None, until: dt.datetime | None = None
    ) -> Iterator[dict[str, Any]]:
        """OPA's decision-log events (the JSON lines of `msg` "Decision Log"), once each by decision id."""
        seen: set[str] = set()
        for log_event in self.log_events(OPA_DECISIONS, since, until):
            try:
                line = json.loads(log_event.message)
            except ValueError:
                line = None
            if not isinstance(line, dict):
                raise ArchiveError(
                    f"{log_event.object_uri}: log event {log_event.id}: not a JSON line (the subscription "
                    "filter passes only OPA's JSON decision-log lines)"
                )
            if line.get("msg") != "Decision Log":
                continue
            key = str(line.get("decision_id") or log_event.id)
            if key in seen:
                continue
            seen.add(key)
            yield line
