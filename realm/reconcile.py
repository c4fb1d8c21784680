"""Plan, apply and detect drift between the definitions and the live Keycloak realm.

The desired state comes from `realm.build` (pure). Here we read the live realm through the Admin REST
API, match objects by natural key (realm name, client-scope name, clientId, flow alias), and compare only
the fields the definitions declare: server-owned fields (ids, generated secrets and salts, defaults we
never set) are never compared, so a second `apply` finds nothing to do and makes zero writes.

Ownership: the definitions own the realm settings, the events configuration, the whole user profile,
every client scope named in scopes.yaml, every client in rps/, and the flows `bizid-browser` and
`bizid-registration`. Anything else (Keycloak's built-in clients and scopes, built-in flows, a client
created by hand) is left alone. Objects this code created carry the attribute `bizid.managed=true`;
only those are deleted when they disappear from the definitions.

Every POST/PUT/DELETE goes through `AdminApi`, which counts them.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from realm import build, preflight
from realm.build import MANAGED_ATTRIBUTE, DesiredRealm, Flow, Options, Step, SubFlow
from realm.loader import DEFINITIONS_DIR

KEYCLOAK_BUILTIN_SCOPES = frozenset(
    {
        "acr",
        "address",
        "basic",
        "email",
        "microprofile-jwt",
        "offline_access",
        "organization",
        "phone",
        "profile",
        "role_list",
        "roles",
        "saml_organization",
        "service_account",
        "web-origins",
    }
)
"""Never deleted, even if a definition that adopted one of them goes away."""

HOLD_FLOW = "bizid-hold"
"""Bound for the moment a wholly owned flow is rebuilt: denies every sign-in (fails closed)."""

FLOW_BINDINGS = (
    "browserFlow",
    "registrationFlow",
    "directGrantFlow",
    "resetCredentialsFlow",
    "clientAuthenticationFlow",
    "dockerAuthenticationFlow",
    "firstBrokerLoginFlow",
)
"""Realm attributes that bind a top-level flow; the hold flow is deleted only when none points at it."""

WITHOUT_EXTENSION_ENV = "BIZID_REALM_WITHOUT_EXTENSION"


class ReconcileError(RuntimeError):
    """The Admin API refused or failed a request; the message names method, path, status and body."""


class ExtensionMissingError(ValueError):
    """Keycloak lacks the bizid extension providers the definitions need."""


# --- the Admin API, with a write counter ------------------------------------------------------------


class AdminApi:
    """JSON over the Admin REST API through python-keycloak's (token-refreshing) connection.

    `writes` counts POST, PUT and DELETE requests: `apply` on an unchanged realm must leave it unchanged.
    """

    def __init__(self, connection: Any) -> None:
        self._c = connection
        self.writes = 0
        self.reads = 0

    @staticmethod
    def _check(method: str, path: str, response: Any, ok: Iterable[int] = (200, 201, 204)) -> Any:
        if response.status_code not in tuple(ok):
            raise ReconcileError(f"{method} {path}: HTTP {response.status_code}: {response.text[:500]}")
        return response

    def get(self, path: str, **params: Any) -> Any:
        self.reads += 1
        r = self._check("GET", path, self._c.raw_get(path, **params))
        return r.json() if r.content else None

    def get_or_none(self, path: str) -> Any:
        self.reads += 1
        r = self._c.raw_get(path)
        if r.status_code == 404:
            return None
        return self._check("GET", path, r).json()

    def post(self, path: str, body: Any) -> str | None:
        """POST; returns the id at the end of the Location header, if any."""
        self.writes += 1
        r = self._check("POST", path, self._c.raw_post(path, data=json.dumps(body)))
        location = r.headers.get("Location")
        return location.rstrip("/").rsplit("/", 1)[-1] if location else None

    def put(self, path: str, body: Any) -> None:
        self.writes += 1
        self._check("PUT", path, self._c.raw_put(path, data=json.dumps(body)))

    def delete(self, path: str) -> None:
        self.writes += 1
        self._check("DELETE", path, self._c.raw_delete(path))


# --- the plan ---------------------------------------------------------------------------------------

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


# --- live state -------------------------------------------------------------------------------------


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
    flow_ids: dict[str, str]


def _r(realm: str, path: str = "") -> str:
    return f"/admin/realms/{quote(realm)}{path}"


def live_flow_shape(api: AdminApi, realm: str, alias: str) -> list[dict[str, Any]]:
    """The live flow flattened like `build.Flow.shape()` (depth-first, levels, requirement, config)."""
    rows = api.get(_r(realm, f"/authentication/flows/{quote(alias)}/executions"))
    shape: list[dict[str, Any]] = []
    for row in rows:
        if row.get("authenticationFlow"):
            flow = api.get(_r(realm, f"/authentication/flows/{row['flowId']}"))
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
                cfg = api.get(_r(realm, f"/authentication/config/{row['authenticationConfig']}"))
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
    scopes = api.get(_r(name, "/client-scopes"))
    clients = api.get(_r(name, "/clients"))
    wanted_clients = {c["clientId"] for c in desired.clients}
    default_scopes: dict[str, list[str]] = {}
    optional_scopes: dict[str, list[str]] = {}
    for c in clients:
        if c["clientId"] in wanted_clients:
            default_scopes[c["clientId"]] = [
                s["name"] for s in api.get(_r(name, f"/clients/{c['id']}/default-client-scopes"))
            ]
            optional_scopes[c["clientId"]] = [
                s["name"] for s in api.get(_r(name, f"/clients/{c['id']}/optional-client-scopes"))
            ]
    top_flows = {f["alias"]: f["id"] for f in api.get(_r(name, "/authentication/flows"))}
    flows: dict[str, list[dict[str, Any]] | None] = {}
    for flow in desired.flows:
        flows[flow.alias] = live_flow_shape(api, name, flow.alias) if flow.alias in top_flows else None
    return LiveRealm(
        realm=realm,
        events=api.get(_r(name, "/events/config")),
        user_profile=api.get(_r(name, "/users/profile")),
        client_scopes=scopes,
        clients=clients,
        client_default_scopes=default_scopes,
        client_optional_scopes=optional_scopes,
        flows=flows,
        flow_ids=top_flows,
    )


# --- planning ---------------------------------------------------------------------------------------

PROFILE_ATTRIBUTE_KEYS = (
    "displayName",
    "validations",
    "permissions",
    "multivalued",
    "required",
    "group",
    "defaultValue",
    "annotations",
    "selector",
)


def _profile_diffs(desired: dict[str, Any], live: dict[str, Any]) -> list[FieldDiff]:
    """The user profile is wholly owned: extra or missing attributes and every listed key count."""
    diffs: list[FieldDiff] = []
    live_attrs = {a["name"]: a for a in live.get("attributes", [])}
    want_attrs = {a["name"]: a for a in desired["attributes"]}
    for name, want in want_attrs.items():
        have = live_attrs.get(name)
        if have is None:
            diffs.append(FieldDiff(f"attributes.{name}", None, want))
            continue
        for key in PROFILE_ATTRIBUTE_KEYS:
            if not _same(want.get(key), have.get(key)):
                diffs.append(FieldDiff(f"attributes.{name}.{key}", have.get(key), want.get(key)))
    for name in live_attrs.keys() - want_attrs.keys():
        diffs.append(FieldDiff(f"attributes.{name}", live_attrs[name], None))
    if [a["name"] for a in live.get("attributes", [])] != [
        a["name"] for a in desired["attributes"]
    ] and not diffs:
        diffs.append(
            FieldDiff(
                "attributes (order)",
                [a["name"] for a in live.get("attributes", [])],
                [a["name"] for a in desired["attributes"]],
            )
        )
    if not _same(desired.get("groups"), live.get("groups")):
        diffs.append(FieldDiff("groups", live.get("groups"), desired.get("groups")))
    if desired.get("unmanagedAttributePolicy") != live.get("unmanagedAttributePolicy"):
        diffs.append(
            FieldDiff(
                "unmanagedAttributePolicy",
                live.get("unmanagedAttributePolicy"),
                desired.get("unmanagedAttributePolicy"),
            )
        )
    return diffs


GENERATED_MAPPER_CONFIG = {"oidc-sha256-pairwise-sub-mapper": ("pairwiseSubAlgorithmSalt",)}
"""Mapper settings that must exist but are secret and server-owned: generated here when absent, then never
compared (Keycloak does not generate the pairwise salt for a mapper created through the Admin API, and the
token endpoint then fails)."""


def _missing_generated(want: dict[str, Any], config: dict[str, Any]) -> list[str]:
    return [k for k in GENERATED_MAPPER_CONFIG.get(want.get("protocolMapper", ""), ()) if not config.get(k)]


def _with_generated(mapper: dict[str, Any]) -> dict[str, Any]:
    config = dict(mapper.get("config") or {})
    for key in _missing_generated(mapper, config):
        config[key] = secrets.token_urlsafe(32)
    return {**mapper, "config": config}


def _mapper_diffs(desired: list[dict[str, Any]], live: list[dict[str, Any]]) -> list[FieldDiff]:
    """Protocol mappers of an owned client or scope, by name: missing, different or extra (hand-added)."""
    diffs: list[FieldDiff] = []
    live_by_name = {m["name"]: m for m in live}
    for want in desired:
        have = live_by_name.get(want["name"])
        if have is None:
            diffs.append(FieldDiff(f"protocolMappers.{want['name']}", None, want))
            continue
        for d in diff_fields({k: v for k, v in want.items() if k != "config"}, have):
            diffs.append(FieldDiff(f"protocolMappers.{want['name']}.{d.field}", d.live, d.desired))
        have_config = have.get("config") or {}
        for key, value in want.get("config", {}).items():
            if not _same(value, have_config.get(key)):
                diffs.append(
                    FieldDiff(f"protocolMappers.{want['name']}.config.{key}", have_config.get(key), value)
                )
        for key in _missing_generated(want, have_config):
            diffs.append(FieldDiff(f"protocolMappers.{want['name']}.config.{key}", None, "(generated)"))
    for name in live_by_name.keys() - {m["name"] for m in desired}:
        diffs.append(
            FieldDiff(
                f"protocolMappers.{name}", {"protocolMapper": live_by_name[name].get("protocolMapper")}, None
            )
        )
    return diffs


def _is_managed(obj: dict[str, Any]) -> bool:
    return (obj.get("attributes") or {}).get(MANAGED_ATTRIBUTE) == "true"


def make_plan(desired: DesiredRealm, live: LiveRealm | None) -> Plan:
    """Compare desired with live by natural key; a pure function of its two arguments."""
    changes: list[Change] = []
    if live is None:
        changes.append(Change("create", "realm", desired.name, desired=desired.realm))
        changes.append(Change("update", "events", "config", desired=desired.events))
        changes.append(Change("update", "user-profile", "config", desired=desired.user_profile))
        changes += [Change("create", "client-scope", s["name"], desired=s) for s in desired.client_scopes]
        changes += [Change("create", "client", c["clientId"], desired=c) for c in desired.clients]
        changes += [Change("create", "flow", f.alias, desired=f) for f in desired.flows]
        changes += [
            Change("update", "flow-binding", f.binding, (FieldDiff(f.binding, None, f.alias),), desired=f)
            for f in desired.flows
        ]
        return Plan(desired.name, tuple(changes))

    diffs = diff_fields(desired.realm, live.realm, json_attributes=build.JSON_REALM_ATTRIBUTES)
    if diffs:
        changes.append(Change("update", "realm", desired.name, tuple(diffs), desired.realm, live.realm))

    diffs = diff_fields(desired.events, live.events)
    if diffs:
        changes.append(Change("update", "events", "config", tuple(diffs), desired.events, live.events))

    diffs = _profile_diffs(desired.user_profile, live.user_profile)
    if diffs:
        changes.append(
            Change("update", "user-profile", "config", tuple(diffs), desired.user_profile, live.user_profile)
        )

    live_scopes = {s["name"]: s for s in live.client_scopes}
    for want in desired.client_scopes:
        have = live_scopes.get(want["name"])
        if have is None:
            changes.append(Change("create", "client-scope", want["name"], desired=want))
            continue
        diffs = diff_fields(want, have, skip=("protocolMappers",))
        diffs += _mapper_diffs(want["protocolMappers"], have.get("protocolMappers") or [])
        if diffs:
            changes.append(Change("update", "client-scope", want["name"], tuple(diffs), want, have))

    live_clients = {c["clientId"]: c for c in live.clients}
    for want in desired.clients:
        have = live_clients.get(want["clientId"])
        if have is None:
            changes.append(Change("create", "client", want["clientId"], desired=want))
            continue
        diffs = diff_fields(
            want, have, skip=("protocolMappers", "defaultClientScopes", "optionalClientScopes")
        )
        for key, live_names in (
            ("defaultClientScopes", live.client_default_scopes),
            ("optionalClientScopes", live.client_optional_scopes),
        ):
            have_names = live_names.get(want["clientId"], [])
            if not _same(want[key], have_names):
                diffs.append(FieldDiff(key, sorted(have_names), sorted(want[key])))
        diffs += _mapper_diffs(want["protocolMappers"], have.get("protocolMappers") or [])
        if diffs:
            changes.append(Change("update", "client", want["clientId"], tuple(diffs), want, have))

    for flow in desired.flows:
        live_shape = live.flows.get(flow.alias)
        if live_shape is None:
            changes.append(Change("create", "flow", flow.alias, desired=flow))
        elif live_shape != flow.shape():
            changes.append(
                Change("update", "flow", flow.alias, _shape_diffs(flow.shape(), live_shape), flow, live_shape)
            )
    for flow in desired.flows:
        bound = live.realm.get(flow.binding)
        if bound != flow.alias:
            changes.append(
                Change(
                    "update",
                    "flow-binding",
                    flow.binding,
                    (FieldDiff(flow.binding, bound, flow.alias),),
                    flow,
                )
            )

    wanted_clients = {c["clientId"] for c in desired.clients}
    for have in live.clients:
        if _is_managed(have) and have["clientId"] not in wanted_clients:
            changes.append(Change("delete", "client", have["clientId"], live=have))
    wanted_scopes = {s["name"] for s in desired.client_scopes}
    for have in live.client_scopes:
        if (
            _is_managed(have)
            and have["name"] not in wanted_scopes
            and have["name"] not in KEYCLOAK_BUILTIN_SCOPES
        ):
            changes.append(Change("delete", "client-scope", have["name"], live=have))
    return Plan(desired.name, tuple(changes))


def _row_label(row: dict[str, Any]) -> str:
    name = row.get("flow") or row.get("step")
    return f"{'  ' * int(row.get('level', 0))}{name}"


def _shape_diffs(desired: list[dict[str, Any]], live: list[dict[str, Any]]) -> tuple[FieldDiff, ...]:
    diffs: list[FieldDiff] = []
    for i in range(max(len(desired), len(live))):
        want = desired[i] if i < len(desired) else None
        have = live[i] if i < len(live) else None
        if want != have:
            label = _row_label(want or have or {})
            diffs.append(FieldDiff(f"executions[{i}] {label.strip()}", have, want))
    return tuple(diffs)


# --- applying ---------------------------------------------------------------------------------------


@dataclass
class Applier:
    api: AdminApi
    desired: DesiredRealm
    secrets_dir: Path | None
    _scope_ids: dict[str, str] | None = None

    @property
    def realm(self) -> str:
        return self.desired.name

    def r(self, path: str = "") -> str:
        return _r(self.realm, path)

    def scope_id(self, name: str) -> str:
        if self._scope_ids is None or name not in self._scope_ids:
            self._scope_ids = {s["name"]: s["id"] for s in self.api.get(self.r("/client-scopes"))}
        if name not in self._scope_ids:
            raise ReconcileError(f"client scope {name!r} does not exist in realm {self.realm}")
        return self._scope_ids[name]

    # realm-level objects

    def realm_update(self, change: Change) -> None:
        body: dict[str, Any] = {}
        for d in change.diffs:
            top = d.field.split(".", 1)[0]
            body[top] = change.desired[top]
        if "attributes" in body:
            body["attributes"] = {**(change.live.get("attributes") or {}), **change.desired["attributes"]}
        self.api.put(self.r(), body)

    def events_update(self, change: Change) -> None:
        live = change.live if change.live is not None else self.api.get(self.r("/events/config"))
        self.api.put(self.r("/events/config"), {**live, **change.desired})

    def profile_update(self, change: Change) -> None:
        self.api.put(self.r("/users/profile"), change.desired)

    # client scopes

    def scope_create(self, change: Change) -> None:
        self.api.post(self.r("/client-scopes"), change.desired)
        self._scope_ids = None

    def scope_update(self, change: Change) -> None:
        want, have = change.desired, change.live
        if any(not d.field.startswith("protocolMappers") for d in change.diffs):
            body = {k: v for k, v in have.items() if k != "protocolMappers"}
            body.update({k: v for k, v in want.items() if k != "protocolMappers"})
            body["attributes"] = {**(have.get("attributes") or {}), **want["attributes"]}
            self.api.put(self.r(f"/client-scopes/{have['id']}"), body)
        self._sync_mappers(
            f"/client-scopes/{have['id']}", want["protocolMappers"], have.get("protocolMappers") or []
        )

    def _sync_mappers(self, base: str, desired: list[dict[str, Any]], live: list[dict[str, Any]]) -> None:
        live_by_name = {m["name"]: m for m in live}
        for want in desired:
            have = live_by_name.get(want["name"])
            if have is None:
                self.api.post(self.r(f"{base}/protocol-mappers/models"), _with_generated(want))
            elif _mapper_diffs([want], [have]):
                merged = {**have, **{k: v for k, v in want.items() if k != "config"}}
                merged["config"] = {**(have.get("config") or {}), **want.get("config", {})}
                self.api.put(self.r(f"{base}/protocol-mappers/models/{have['id']}"), _with_generated(merged))
        for name in live_by_name.keys() - {m["name"] for m in desired}:
            self.api.delete(self.r(f"{base}/protocol-mappers/models/{live_by_name[name]['id']}"))

    # clients

    def client_secret(self, client_id: str) -> str:
        """The locally kept secret of a confidential client; generated (and saved) on first use."""
        if self.secrets_dir is None:
            return secrets.token_urlsafe(32)
        path = self.secrets_dir / "clients" / client_id
        if path.exists():
            return path.read_text().strip()
        value = secrets.token_urlsafe(32)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(value + "\n")
        return value

    def client_create(self, change: Change) -> None:
        body = dict(change.desired)
        body["protocolMappers"] = [_with_generated(m) for m in body.get("protocolMappers", [])]
        body["attributes"] = {k: v for k, v in body.get("attributes", {}).items() if v != ""}
        if body["clientId"] in self.desired.confidential_clients:
            body["secret"] = self.client_secret(body["clientId"])
        self.api.post(self.r("/clients"), body)

    def client_update(self, change: Change) -> None:
        want, have = change.desired, change.live
        collections = ("protocolMappers", "defaultClientScopes", "optionalClientScopes")
        if any(not d.field.startswith(collections) for d in change.diffs):
            body = {k: v for k, v in have.items() if k not in collections}
            body.update({k: v for k, v in want.items() if k not in collections})
            body["attributes"] = {**(have.get("attributes") or {}), **want["attributes"]}
            self.api.put(self.r(f"/clients/{have['id']}"), body)
        for key, kind in (
            ("defaultClientScopes", "default-client-scopes"),
            ("optionalClientScopes", "optional-client-scopes"),
        ):
            diff = next((d for d in change.diffs if d.field == key), None)
            if diff is None:
                continue
            have_names, want_names = set(diff.live or []), set(diff.desired or [])
            for name in sorted(have_names - want_names):
                self.api.delete(self.r(f"/clients/{have['id']}/{kind}/{self.scope_id(name)}"))
            for name in sorted(want_names - have_names):
                self.api.put(self.r(f"/clients/{have['id']}/{kind}/{self.scope_id(name)}"), {})
        if any(d.field.startswith("protocolMappers") for d in change.diffs):
            self._sync_mappers(
                f"/clients/{have['id']}", want["protocolMappers"], have.get("protocolMappers") or []
            )

    def delete(self, change: Change) -> None:
        kind = "clients" if change.object_type == "client" else "client-scopes"
        self.api.delete(self.r(f"/{kind}/{change.live['id']}"))

    # flows

    def _top_flows(self) -> dict[str, str]:
        return {f["alias"]: f["id"] for f in self.api.get(self.r("/authentication/flows"))}

    def _set_requirement(self, parent: str, execution_id: str, requirement: str) -> None:
        rows = self.api.get(self.r(f"/authentication/flows/{quote(parent)}/executions"))
        row = next(r for r in rows if r["id"] == execution_id)
        if row.get("requirement") != requirement:
            row["requirement"] = requirement
            self.api.put(self.r(f"/authentication/flows/{quote(parent)}/executions"), row)

    def _add(self, parent: str, nodes: tuple[Step | SubFlow, ...]) -> None:
        for node in nodes:
            if isinstance(node, SubFlow):
                self.api.post(
                    self.r(f"/authentication/flows/{quote(parent)}/executions/flow"),
                    {
                        "alias": node.alias,
                        "description": node.description,
                        "type": node.flow_type,
                        "provider": node.form_provider or "registration-page-form",
                    },
                )
                rows = self.api.get(self.r(f"/authentication/flows/{quote(parent)}/executions"))
                row = next(r for r in rows if r["level"] == 0 and r.get("displayName") == node.alias)
                self._set_requirement(parent, row["id"], node.requirement)
                self._add(node.alias, node.children)
            else:
                execution_id = self.api.post(
                    self.r(f"/authentication/flows/{quote(parent)}/executions/execution"),
                    {"provider": node.provider},
                )
                if execution_id is None:
                    rows = self.api.get(self.r(f"/authentication/flows/{quote(parent)}/executions"))
                    execution_id = [r for r in rows if r["level"] == 0][-1]["id"]
                self._set_requirement(parent, execution_id, node.requirement)
                if node.config is not None:
                    self.api.post(
                        self.r(f"/authentication/executions/{execution_id}/config"),
                        {"alias": node.config_alias or f"{parent}-{node.provider}", "config": node.config},
                    )

    def _create_flow(self, flow: Flow) -> None:
        self.api.post(
            self.r("/authentication/flows"),
            {
                "alias": flow.alias,
                "description": flow.description,
                "providerId": "basic-flow",
                "topLevel": True,
                "builtIn": False,
            },
        )
        self._add(flow.alias, flow.children)

    def flow_create(self, change: Change) -> None:
        self._create_flow(change.desired)

    def flow_rebuild(self, change: Change) -> None:
        """Wholly owned flow whose structure differs: replace it. While it is rebuilt, the realm binding
        (if it points at this flow) points at a flow that denies every sign-in, so nobody signs in through
        a half-built flow."""
        flow: Flow = change.desired
        realm = self.api.get(self.r())
        bound = [b for b in ("browserFlow", "registrationFlow") if realm.get(b) == flow.alias]
        flows = self._top_flows()
        if bound:
            if HOLD_FLOW not in flows:
                self._create_flow(
                    Flow(
                        HOLD_FLOW,
                        "bizid: denies sign-in while a flow is rebuilt",
                        "browserFlow",
                        (Step("deny-access-authenticator", "REQUIRED"),),
                    )
                )
            self.api.put(self.r(), dict.fromkeys(bound, HOLD_FLOW))
        self.api.delete(self.r(f"/authentication/flows/{flows[flow.alias]}"))
        self._create_flow(flow)
        if bound:
            self.api.put(self.r(), dict.fromkeys(bound, flow.alias))
            self.remove_hold_flow()

    def remove_hold_flow(self) -> None:
        """Delete the hold flow once no binding uses it. An apply interrupted mid-rebuild (e.g. the database
        restarted) can leave a binding on it; that binding is then a planned change, re-pointed later in the
        same apply, after which the final call here removes the hold flow."""
        flows = self._top_flows()
        if HOLD_FLOW not in flows:
            return
        realm = self.api.get(self.r())
        if any(realm.get(b) == HOLD_FLOW for b in FLOW_BINDINGS):
            return
        self.api.delete(self.r(f"/authentication/flows/{flows[HOLD_FLOW]}"))

    def bind(self, change: Change) -> None:
        flow: Flow = change.desired
        self.api.put(self.r(), {flow.binding: flow.alias})

    def apply(self, change: Change) -> None:
        handlers: dict[tuple[str, str], Callable[[Change], None]] = {
            ("update", "realm"): self.realm_update,
            ("update", "events"): self.events_update,
            ("update", "user-profile"): self.profile_update,
            ("create", "client-scope"): self.scope_create,
            ("update", "client-scope"): self.scope_update,
            ("delete", "client-scope"): self.delete,
            ("create", "client"): self.client_create,
            ("update", "client"): self.client_update,
            ("delete", "client"): self.delete,
            ("create", "flow"): self.flow_create,
            ("update", "flow"): self.flow_rebuild,
            ("update", "flow-binding"): self.bind,
        }
        handlers[(change.kind, change.object_type)](change)

    def ensure_local_secrets(self) -> None:
        """Confidential clients that exist but whose local secret file is missing (fresh checkout against
        an existing database): copy the server's secret to the file. Reads only."""
        if self.secrets_dir is None:
            return
        clients = {c["clientId"]: c for c in self.api.get(self.r("/clients"))}
        for client_id in sorted(self.desired.confidential_clients):
            path = self.secrets_dir / "clients" / client_id
            if client_id in clients and not path.exists():
                secret = self.api.get(self.r(f"/clients/{clients[client_id]['id']}/client-secret"))
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                path.touch(mode=0o600)
                path.write_text(str(secret["value"]) + "\n")


def plan(api: AdminApi, desired: DesiredRealm) -> Plan:
    """What apply would change; reads only."""
    return make_plan(desired, fetch_live(api, desired))


def apply(api: AdminApi, desired: DesiredRealm, secrets_dir: Path | None) -> tuple[Plan, int]:
    """Make exactly the changes of the plan; return the plan and the number of Admin API writes."""
    start = api.writes
    current = plan(api, desired)
    applier = Applier(api, desired, secrets_dir)
    if current.changes and current.changes[0].kind == "create" and current.changes[0].object_type == "realm":
        # A new realm comes with Keycloak's built-in scopes and flows: create it, then plan against it.
        api.post("/admin/realms", {"realm": desired.name, "enabled": True})
        current = Plan(desired.name, (current.changes[0], *plan(api, desired).changes))
        todo = current.changes[1:]
    else:
        todo = current.changes
    # The user profile first: it is what Keycloak validates most (validator configs), so a refusal there
    # leaves nothing else half-written.
    todo = tuple(sorted(todo, key=lambda c: c.object_type != "user-profile"))
    written: list[Change] = []
    for change in todo:
        try:
            applier.apply(change)
        except ReconcileError as exc:
            raise preflight.apply_failure(change, exc, written) from None
        written.append(change)
    if any(c.object_type in ("flow", "flow-binding") for c in todo):
        applier.remove_hold_flow()
    applier.ensure_local_secrets()
    return current, api.writes - start


# --- wiring with the local platform -----------------------------------------------------------------


def missing_extension_providers(api: AdminApi) -> list[str]:
    """bizid extension provider ids Keycloak does not know (empty: the extension is installed)."""
    info = api.get("/admin/serverinfo")
    providers = info.get("providers", {})
    missing = []
    for spi, ids in build.EXTENSION_PROVIDERS.items():
        known = set((providers.get(spi) or {}).get("providers", {}))
        missing += [f"{spi}:{pid}" for pid in sorted(ids - known)]
    return missing


def resolve_options(api: AdminApi, opa_url: str, without_extension: bool | None = None) -> Options:
    """Options for this server. Without the extension we refuse unless explicitly told (fail closed)."""
    if without_extension is None:
        without_extension = os.environ.get(WITHOUT_EXTENSION_ENV, "") not in ("", "0", "false")
    if without_extension:
        return Options(opa_url=opa_url, extension=False)
    missing = missing_extension_providers(api)
    if missing:
        raise ExtensionMissingError(
            f"Keycloak does not have the bizid extension providers {missing}: build and install "
            f"realm/extensions (bizid up does), or set {WITHOUT_EXTENSION_ENV}=1 / pass --without-extension "
            "to apply the realm without them (development only: sign-ins then skip the OPA access decision)"
        )
    return Options(opa_url=opa_url, extension=True)


def connect(settings: Any) -> AdminApi:
    from scripts.keycloak_admin import admin_client

    return AdminApi(admin_client(settings, realm="master").connection)


def prepare(
    settings: Any,
    directory: Path = DEFINITIONS_DIR,
    without_extension: bool | None = None,
    api: AdminApi | None = None,
) -> tuple[AdminApi, DesiredRealm]:
    """Validate the definitions first (no request before that), then connect and build the desired state."""
    defs, profile = build.load(directory)
    api = api or connect(settings)
    options = resolve_options(api, settings.opa_url, without_extension)
    desired = build.desired(defs, profile, options)
    preflight.check(desired, api.get("/admin/serverinfo"), directory)
    return api, desired


def plan_definitions(
    settings: Any, directory: Path = DEFINITIONS_DIR, without_extension: bool | None = None
) -> Plan:
    api, desired = prepare(settings, directory, without_extension)
    return plan(api, desired)


def apply_definitions(
    settings: Any, directory: Path = DEFINITIONS_DIR, without_extension: bool | None = None
) -> int:
    """Apply the definitions to the local platform; return the number of Admin API writes."""
    api, desired = prepare(settings, directory, without_extension)
    _, writes = apply(api, desired, settings.paths.secrets)
    return writes
