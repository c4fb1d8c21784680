"""Reading the live realm: everything the definitions own, by natural key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from realm import admin_paths as paths
from realm.admin_api import AdminApi
from realm.build import DesiredRealm


@dataclass
class LiveRealm:
    realm: dict[str, Any]
    events: dict[str, Any]
    user_profile: dict[str, Any]
    client_scopes: list[dict[str, Any]]
    clients: list[dict[str, Any]]
    client_default_scopes: dict[str, list[str]]
    client_optional_scopes: dict[str, list[str]]
    flows: dict[str, list[dict[str, Any]] | None]
    """alias -> shape rows (None: flow absent)."""
    client_profiles: dict[str, Any] = field(default_factory=dict)
    client_policies: dict[str, Any] = field(default_factory=dict)


def _r(realm: str, pattern: str = paths.REALM, **values: str) -> str:
    """A path of `realm` from the table in `realm.admin_paths`."""
    return paths.path(pattern, realm=realm, **values)


def live_flow_shape(api: AdminApi, realm: str, alias: str) -> list[dict[str, Any]]:
    """The live flow flattened like `build.Flow.shape()` (depth-first, levels, requirement, config)."""
    rows = api.get(_r(realm, paths.FLOW_EXECUTIONS, flow_alias=alias))
    shape: list[dict[str, Any]] = []
    for row in rows:
        if row.get("authenticationFlow"):
            flow = api.get(_r(realm, paths.FLOW, id=row["flowId"]))
            provider = row.get("providerId") if flow.get("providerId") == "form-flow" else None
            shape.append(
                {
                    "level": row["level"],
                    "flow": row.get("displayName"),
                    "type": flow.get("providerId"),
                    "provider": provider,
                    "requirement": row.get("requirement"),
                }
            )
        else:
            config = None
            if row.get("authenticationConfig"):
                cfg = api.get(_r(realm, paths.AUTHENTICATOR_CONFIG, id=row["authenticationConfig"]))
                config = dict(cfg.get("config") or {})
            shape.append(
                {
                    "level": row["level"],
                    "step": row.get("providerId"),
                    "requirement": row.get("requirement"),
                    "config": config,
                }
            )
    return shape


def fetch_live(api: AdminApi, desired: DesiredRealm) -> LiveRealm | None:
    """Read everything the definitions own; None when the realm does not exist."""
    name = desired.name
    realm = api.get_or_none(_r(name))
    if realm is None:
        return None
    scopes = api.get(_r(name, paths.CLIENT_SCOPES))
    clients = api.get(_r(name, paths.CLIENTS))
    wanted_clients = {c["clientId"] for c in desired.clients}
    default_scopes: dict[str, list[str]] = {}
    optional_scopes: dict[str, list[str]] = {}
    for c in clients:
        if c["clientId"] in wanted_clients:
            default_scopes[c["clientId"]] = [
                s["name"] for s in api.get(_r(name, paths.CLIENT_DEFAULT_SCOPES, id=c["id"]))
            ]
            optional_scopes[c["clientId"]] = [
                s["name"] for s in api.get(_r(name, paths.CLIENT_OPTIONAL_SCOPES, id=c["id"]))
            ]
    top_flows = {f["alias"]: f["id"] for f in api.get(_r(name, paths.FLOWS))}
    flows: dict[str, list[dict[str, Any]] | None] = {}
    for flow in desired.flows:
        flows[flow.alias] = live_flow_shape(api, name, flow.alias) if flow.alias in top_flows else None
    return LiveRealm(
        realm=realm,
        events=api.get(_r(name, paths.EVENTS_CONFIG)),
        user_profile=api.get(_r(name, paths.USER_PROFILE)),
        client_scopes=scopes,
        clients=clients,
        client_default_scopes=default_scopes,
        client_optional_scopes=optional_scopes,
        flows=flows,
        client_profiles=api.get(_r(name, paths.CLIENT_POLICY_PROFILES)) or {},
        client_policies=api.get(_r(name, paths.CLIENT_POLICY_POLICIES)) or {},
    )
