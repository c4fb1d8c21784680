"""Read and validate realm/definitions/ before anything touches Keycloak or OPA.

Errors name the file, the path inside it and the offending value, so a reviewer can fix a definition
without reading Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import TypeAdapter, ValidationError

from realm.models import (
    Definitions,
    LicenceKind,
    PlatformClient,
    RealmSettings,
    RelyingParty,
    ScopeDefinition,
    TierDefinition,
)
from realm.platform import DEFINITIONS_DIR as DEFINITIONS_DIR  # re-exported

PLATFORM_CLIENTS_FILE = "platform-clients.yaml"

T = TypeVar("T")


class DefinitionError(ValueError):
    """A definition file is unreadable or invalid; the message names file, path and value."""


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DefinitionError(f"{path}: file not found") from exc
    except yaml.YAMLError as exc:
        raise DefinitionError(f"{path}: not valid YAML: {exc}") from exc


def _describe(path: Path, exc: ValidationError) -> DefinitionError:
    lines = []
    for err in exc.errors():
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = err.get("input")
        shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
        lines.append(f"{path}: {where}: {err['msg']} (value: {shown})")
    return DefinitionError("\n".join(lines))


def _validate(path: Path, shape: type[T], data: Any) -> T:
    try:
        return TypeAdapter(shape).validate_python(data)
    except ValidationError as exc:
        raise _describe(path, exc) from None


def load_file(path: Path, shape: type[T]) -> T:
    """One YAML file validated as `shape`, with the same file/field/value errors as `load`."""
    return _validate(path, shape, _read_yaml(path))


def _validate_list(path: Path, item: type[T], data: Any) -> tuple[T, ...]:
    try:
        return TypeAdapter(tuple[item, ...]).validate_python(data)  # type: ignore[valid-type]
    except ValidationError as exc:
        raise _describe(path, exc) from None


def load(directory: Path = DEFINITIONS_DIR) -> Definitions:
    """Load every definition file; raise DefinitionError naming the first bad file(s)."""
    realm = _validate(directory / "realm.yaml", RealmSettings, _read_yaml(directory / "realm.yaml"))
    tiers = _validate(
        directory / "tiers.yaml", tuple[TierDefinition, ...], _read_yaml(directory / "tiers.yaml")
    )
    scopes = _validate_list(directory / "scopes.yaml", ScopeDefinition, _read_yaml(directory / "scopes.yaml"))
    licences = _validate_list(
        directory / "licences.yaml", LicenceKind, _read_yaml(directory / "licences.yaml")
    )
    rps = []
    for rp_file in sorted((directory / "rps").glob("*.yaml")):
        rp = _validate(rp_file, RelyingParty, _read_yaml(rp_file))
        if rp.client_id != rp_file.stem:
            raise DefinitionError(f"{rp_file}: client_id: must match the file name (value: {rp.client_id!r})")
        rps.append(rp)
    platform_file = directory / PLATFORM_CLIENTS_FILE
    platform_clients = _validate_list(platform_file, PlatformClient, _read_yaml(platform_file))
    try:
        return Definitions(
            realm=realm,
            tiers=tiers,
            scopes=scopes,
            licences=licences,
            rps=tuple(rps),
            platform_clients=platform_clients,
        )
    except ValidationError as exc:
        raise DefinitionError("\n".join(f"{directory}: {e['msg']}" for e in exc.errors())) from None
