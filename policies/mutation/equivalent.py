"""The reviewed list of equivalent mutants (equivalent.yaml): survivors that no test can or should kill."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

DEFAULT_PATH = Path(__file__).resolve().parent / "equivalent.yaml"


class Equivalent(BaseModel):
    """One reviewed survivor: its stable id and why it behaves exactly like the original."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class EquivalentList(BaseModel):
    model_config = ConfigDict(extra="forbid")

    equivalent: list[Equivalent] = Field(default_factory=list)


class ListError(ValueError):
    """The equivalent list cannot be read; the message names the file and the problem."""


def load(path: Path = DEFAULT_PATH) -> dict[str, str]:
    """{mutant id: reason}; a missing file is an empty list, a malformed one a ListError naming the file."""
    if not path.exists():
        return {}
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        parsed = EquivalentList.model_validate(data)
    except (yaml.YAMLError, UnicodeDecodeError, ValidationError) as exc:
        raise ListError(f"{path}: not a valid list of equivalent mutants: {exc}") from exc
    entries: dict[str, str] = {}
    for entry in parsed.equivalent:
        if entry.id in entries:
            raise ListError(f"{path}: mutant id listed twice: {entry.id}")
        entries[entry.id] = entry.reason
    return entries
