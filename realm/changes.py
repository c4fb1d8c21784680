"""The plan model (per object and field) and the comparison of desired with live values."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

ChangeKind = Literal["create", "update", "delete"]


@dataclass(frozen=True)
class FieldDiff:
    field: str
    live: Any
    desired: Any


@dataclass(frozen=True)
class Change:
    """One object to create, update or delete, with the fields that differ (for update)."""

    kind: ChangeKind
    object_type: str
    key: str
    diffs: tuple[FieldDiff, ...] = ()
    desired: Any = field(default=None, compare=False, repr=False)
    live: Any = field(default=None, compare=False, repr=False)

    def render(self) -> str:
        mark = {"create": "+", "update": "~", "delete": "-"}[self.kind]
        lines = [f"{mark} {self.kind} {self.object_type} {self.key}"]
        lines += [f"    {d.field}: {_show(d.live)} -> {_show(d.desired)}" for d in self.diffs]
        return "\n".join(lines)


@dataclass(frozen=True)
class Plan:
    realm: str
    changes: tuple[Change, ...]

    @property
    def empty(self) -> bool:
        return not self.changes

    def render(self) -> str:
        if self.empty:
            return f"realm {self.realm}: no changes (live realm matches the definitions)"
        head = f"realm {self.realm}: {len(self.changes)} change(s)"
        return "\n".join([head, *(c.render() for c in self.changes)])


def _show(value: Any) -> str:
    if value is None:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 160 else text[:157] + "..."


# --- comparison -------------------------------------------------------------------------------------


def _norm(value: Any) -> Any:
    """Order-insensitive, empty-as-absent normal form for comparison."""
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in sorted(value.items()) if _norm(v) is not None}
    if isinstance(value, list | tuple):
        items = [_norm(v) for v in value]
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True)) if items else None
    if value in ({}, ""):
        return None
    return value


def _same(desired: Any, live: Any) -> bool:
    return bool(_norm(desired) == _norm(live))


def _json_or_raw(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def diff_fields(
    desired: dict[str, Any],
    live: dict[str, Any],
    skip: Iterable[str] = (),
    json_attributes: Iterable[str] = (),
) -> list[FieldDiff]:
    """Differences in the fields `desired` declares; for `attributes`, only the declared keys."""
    skipped = set(skip)
    as_json = set(json_attributes)
    diffs: list[FieldDiff] = []
    for key, want in desired.items():
        if key in skipped:
            continue
        have = live.get(key)
        if key == "attributes" and isinstance(want, dict):
            have_attrs = have if isinstance(have, dict) else {}
            for name, value in want.items():
                live_value = have_attrs.get(name)
                if name in as_json:
                    equal = _json_or_raw(live_value) == _json_or_raw(value)
                else:
                    equal = _same(value, live_value)
                if not equal:
                    diffs.append(FieldDiff(f"attributes.{name}", live_value, value))
        elif not _same(want, have):
            diffs.append(FieldDiff(key, have, want))
    return diffs
