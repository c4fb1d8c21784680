"""Plan, apply and detect drift between the definitions and the live Keycloak realm.

The desired state comes from `realm.build` (pure). Here we read the live realm through the Admin REST
API, match objects by natural key (realm name, client-scope name, clientId, flow alias), and compare only
the fields the definitions declare: server-owned fields (ids, generated secrets and salts, defaults we
never set) are never compared, so a second `apply` finds nothing to do and makes zero writes.

Ownership: the definitions own the realm settings, the events configuration, the whole user profile,
every client scope named in scopes.yaml, every client in rps/, the flows bound to the realm (`bizid-browser`,
`bizid-registration`, `bizid-reset-credentials`, `bizid-direct-grant`, `bizid-first-broker-login`), and of
Keycloak's built-in clients (platform-clients.yaml) the fields that decide whether they can issue a token.
The realm's client profiles and policies are wholly owned too. Anything else (Keycloak's built-in scopes,
built-in flows, a client created by hand) is left alone. Objects this code created carry the attribute
`bizid.managed=true`; only those are deleted when they disappear from the definitions.

Every POST/PUT/DELETE goes through `AdminApi`, which counts them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from realm import admin_paths as paths
from realm import build
from realm.admin import admin_client
from realm.admin_api import AdminApi, ReconcileError
from realm.build import MANAGED_ATTRIBUTE, DesiredRealm, Flow, Options, Step, SubFlow
from realm.changes import Change, FieldDiff, Plan, _same, diff_fields
from realm.live import LiveRealm, fetch_live, live_flow_shape
from realm.loader import DEFINITIONS_DIR
from realm.target import Target

__all__ = [  # moved to their own modules; re-exported for reconcile's callers
    "AdminApi",
    "Change",
    "FieldDiff",
    "LiveRealm",
    "Plan",
    "ReconcileError",
    "diff_fields",
    "fetch_live",
    "live_flow_shape",
]

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


class ExtensionMissingError(ValueError):
    """Keycloak lacks the bizid extension providers the definitions need."""


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
        changes += plan_client_policies(desired, None)
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

    changes += plan_builtin_clients(desired, live)
    changes += plan_client_policies(desired, live)

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


def plan_builtin_clients(desired: DesiredRealm, live: LiveRealm) -> list[Change]:
    """Keycloak's built-in clients (platform-clients.yaml): only the declared fields are compared; a client
    Keycloak did not create is not created here, and none is ever deleted."""
    changes: list[Change] = []
    live_clients = {c["clientId"]: c for c in live.clients}
    for want in desired.builtin_clients:
        have = live_clients.get(want["clientId"])
        if have is None:
            continue
        diffs = diff_fields(want, have)
        if diffs:
            changes.append(Change("update", "builtin-client", want["clientId"], tuple(diffs), want, have))
    return changes


CLIENT_POLICY_DOCUMENTS = (("client-profiles", "profiles"), ("client-policies", "policies"))
"""(object type, key) of the realm's client-policy documents, profiles first: a policy names its profiles."""


def plan_client_policies(desired: DesiredRealm, live: LiveRealm | None) -> list[Change]:
    """The realm's client profiles and policies are wholly owned (global ones are Keycloak's, not listed)."""
    changes: list[Change] = []
    for object_type, key in CLIENT_POLICY_DOCUMENTS:
        want = desired.client_profiles if key == "profiles" else desired.client_policies
        have_doc = (live.client_profiles if key == "profiles" else live.client_policies) if live else {}
        have = (have_doc or {}).get(key) or []
        if not _same(want[key], have):
            changes.append(
                Change("update", object_type, key, (FieldDiff(key, have, want[key]),), want, have_doc)
            )
    return changes


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

    def p(self, pattern: str, **values: str) -> str:
        """A path of this realm from the table in `realm.admin_paths`."""
        return paths.path(pattern, realm=self.realm, **values)

    def scope_id(self, name: str) -> str:
        if self._scope_ids is None or name not in self._scope_ids:
            self._scope_ids = {s["name"]: s["id"] for s in self.api.get(self.p(paths.CLIENT_SCOPES))}
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
        self.api.put(self.p(paths.REALM), body)

    def events_update(self, change: Change) -> None:
        live = change.live if change.live is not None else self.api.get(self.p(paths.EVENTS_CONFIG))
        self.api.put(self.p(paths.EVENTS_CONFIG), {**live, **change.desired})

    def profile_update(self, change: Change) -> None:
        self.api.put(self.p(paths.USER_PROFILE), change.desired)

    # client scopes

    def scope_create(self, change: Change) -> None:
        self.api.post(self.p(paths.CLIENT_SCOPES), change.desired)
        self._scope_ids = None

    def scope_update(self, change: Change) -> None:
        want, have = change.desired, change.live
        if any(not d.field.startswith("protocolMappers") for d in change.diffs):
            body = {k: v for k, v in have.items() if k != "protocolMappers"}
            body.update({k: v for k, v in want.items() if k != "protocolMappers"})
            body["attributes"] = {**(have.get("attributes") or {}), **want["attributes"]}
            self.api.put(self.p(paths.CLIENT_SCOPE, scope_id=have["id"]), body)
        self._sync_mappers(
            "client-scopes", have["id"], want["protocolMappers"], have.get("protocolMappers") or []
        )

    def _sync_mappers(
        self, kind: str, object_id: str, desired: list[dict[str, Any]], live: list[dict[str, Any]]
    ) -> None:
        """Make the protocol mappers of one client or client scope (`kind`) match `desired`."""
        collection, one = paths.MAPPERS[kind]
        owner = {"id": object_id} if kind == "clients" else {"scope_id": object_id}
        live_by_name = {m["name"]: m for m in live}
        for want in desired:
            have = live_by_name.get(want["name"])
            if have is None:
                self.api.post(self.p(collection, **owner), _with_generated(want))
            elif _mapper_diffs([want], [have]):
                merged = {**have, **{k: v for k, v in want.items() if k != "config"}}
                merged["config"] = {**(have.get("config") or {}), **want.get("config", {})}
                self.api.put(self.p(one, **owner, mapper_id=have["id"]), _with_generated(merged))
        for name in live_by_name.keys() - {m["name"] for m in desired}:
            self.api.delete(self.p(one, **owner, mapper_id=live_by_name[name]["id"]))

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
        self.api.post(self.p(paths.CLIENTS), body)

    def client_update(self, change: Change) -> None:
        want, have = change.desired, change.live
        collections = ("protocolMappers", "defaultClientScopes", "optionalClientScopes")
        if any(not d.field.startswith(collections) for d in change.diffs):
            body = {k: v for k, v in have.items() if k not in collections}
            body.update({k: v for k, v in want.items() if k not in collections})
            body["attributes"] = {**(have.get("attributes") or {}), **want["attributes"]}
            self.api.put(self.p(paths.CLIENT, id=have["id"]), body)
        for key, kind in (
            ("defaultClientScopes", "default-client-scopes"),
            ("optionalClientScopes", "optional-client-scopes"),
        ):
            diff = next((d for d in change.diffs if d.field == key), None)
            if diff is None:
                continue
            have_names, want_names = set(diff.live or []), set(diff.desired or [])
            for name in sorted(have_names - want_names):
                link = paths.CLIENT_SCOPE_LINKS[kind]
                self.api.delete(self.p(link, id=have["id"], client_scope_id=self.scope_id(name)))
            for name in sorted(want_names - have_names):
                link = paths.CLIENT_SCOPE_LINKS[kind]
                self.api.put(self.p(link, id=have["id"], client_scope_id=self.scope_id(name)), {})
        if any(d.field.startswith("protocolMappers") for d in change.diffs):
            self._sync_mappers(
                "clients", have["id"], want["protocolMappers"], have.get("protocolMappers") or []
            )

    def builtin_client_update(self, change: Change) -> None:
        """PUT the live representation with the owned fields replaced (attributes merged, not replaced)."""
        want, have = change.desired, change.live
        body = {k: v for k, v in have.items() if k != "protocolMappers"}
        body.update(want)
        body["attributes"] = {**(have.get("attributes") or {}), **want["attributes"]}
        self.api.put(self.p(paths.CLIENT, id=have["id"]), body)

    def client_policies_update(self, change: Change) -> None:
        """PUT the whole realm-level document (profiles or policies); Keycloak validates its executors."""
        self.api.put(self.p(paths.CLIENT_POLICY_DOCUMENTS[change.key]), change.desired)

    def delete(self, change: Change) -> None:
        kind = "clients" if change.object_type == "client" else "client-scopes"
        key = "id" if kind == "clients" else "scope_id"
        self.api.delete(self.p(paths.OBJECTS[kind], **{key: change.live["id"]}))

    # flows

    def _top_flows(self) -> dict[str, str]:
        return {f["alias"]: f["id"] for f in self.api.get(self.p(paths.FLOWS))}

    def _set_requirement(self, parent: str, execution_id: str, requirement: str) -> None:
        rows = self.api.get(self.p(paths.FLOW_EXECUTIONS, flow_alias=parent))
        row = next(r for r in rows if r["id"] == execution_id)
        if row.get("requirement") != requirement:
            row["requirement"] = requirement
            self.api.put(self.p(paths.FLOW_EXECUTIONS, flow_alias=parent), row)

    def _add(self, parent: str, nodes: tuple[Step | SubFlow, ...]) -> None:
        for node in nodes:
            if isinstance(node, SubFlow):
                self.api.post(
                    self.p(paths.FLOW_ADD_SUBFLOW, flow_alias=parent),
                    {
                        "alias": node.alias,
                        "description": node.description,
                        "type": node.flow_type,
                        "provider": node.form_provider or "registration-page-form",
                    },
                )
                rows = self.api.get(self.p(paths.FLOW_EXECUTIONS, flow_alias=parent))
                row = next(r for r in rows if r["level"] == 0 and r.get("displayName") == node.alias)
                self._set_requirement(parent, row["id"], node.requirement)
                self._add(node.alias, node.children)
            else:
                execution_id = self.api.post(
                    self.p(paths.FLOW_ADD_EXECUTION, flow_alias=parent),
                    {"provider": node.provider},
                )
                if execution_id is None:
                    rows = self.api.get(self.p(paths.FLOW_EXECUTIONS, flow_alias=parent))
                    execution_id = [r for r in rows if r["level"] == 0][-1]["id"]
                self._set_requirement(parent, execution_id, node.requirement)
                if node.config is not None:
                    self.api.post(
                        self.p(paths.EXECUTION_CONFIG, id=execution_id),
                        {"alias": node.config_alias or f"{parent}-{node.provider}", "config": node.config},
                    )

    def _create_flow(self, flow: Flow) -> None:
        self.api.post(
            self.p(paths.FLOWS),
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
        realm = self.api.get(self.p(paths.REALM))
        bound = [b for b in FLOW_BINDINGS if realm.get(b) == flow.alias]
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
            self.api.put(self.p(paths.REALM), dict.fromkeys(bound, HOLD_FLOW))
        self.api.delete(self.p(paths.FLOW, id=flows[flow.alias]))
        self._create_flow(flow)
        if bound:
            self.api.put(self.p(paths.REALM), dict.fromkeys(bound, flow.alias))
            self.remove_hold_flow()

    def remove_hold_flow(self) -> None:
        """Delete the hold flow once no binding uses it. An apply interrupted mid-rebuild (e.g. the database
        restarted) can leave a binding on it; that binding is then a planned change, re-pointed later in the
        same apply, after which the final call here removes the hold flow."""
        flows = self._top_flows()
        if HOLD_FLOW not in flows:
            return
        realm = self.api.get(self.p(paths.REALM))
        if any(realm.get(b) == HOLD_FLOW for b in FLOW_BINDINGS):
            return
        self.api.delete(self.p(paths.FLOW, id=flows[HOLD_FLOW]))

    def bind(self, change: Change) -> None:
        flow: Flow = change.desired
        self.api.put(self.p(paths.REALM), {flow.binding: flow.alias})

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
            ("update", "builtin-client"): self.builtin_client_update,
            ("update", "client-profiles"): self.client_policies_update,
            ("update", "client-policies"): self.client_policies_update,
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
        clients = {c["clientId"]: c for c in self.api.get(self.p(paths.CLIENTS))}
        for client_id in sorted(self.desired.confidential_clients):
            path = self.secrets_dir / "clients" / client_id
            if client_id in clients and not path.exists():
                secret = self.api.get(self.p(paths.CLIENT_SECRET, id=clients[client_id]["id"]))
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
        api.post(paths.path(paths.REALMS), {"realm": desired.name, "enabled": True})
        current = Plan(desired.name, (current.changes[0], *plan(api, desired).changes))
        todo = current.changes[1:]
    else:
        todo = current.changes
    for change in todo:
        applier.apply(change)
    if any(c.object_type in ("flow", "flow-binding") for c in todo):
        applier.remove_hold_flow()
    applier.ensure_local_secrets()
    return current, api.writes - start


# --- wiring with the local platform -----------------------------------------------------------------


def missing_extension_providers(api: AdminApi) -> list[str]:
    """bizid extension provider ids Keycloak does not know (empty: the extension is installed)."""
    info = api.get(paths.path(paths.SERVER_INFO))
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


def connect(target: Target) -> AdminApi:
    return AdminApi(admin_client(target, realm=target.admin_realm).connection)


def prepare(
    target: Target,
    directory: Path = DEFINITIONS_DIR,
    without_extension: bool | None = None,
    api: AdminApi | None = None,
) -> tuple[AdminApi, DesiredRealm]:
    """Validate the definitions first (no request before that), then connect and build the desired state."""
    defs, profile = build.load(directory)
    api = api or connect(target)
    options = resolve_options(api, target.opa_url, without_extension)
    return api, build.desired(defs, profile, options)


def plan_definitions(
    target: Target, directory: Path = DEFINITIONS_DIR, without_extension: bool | None = None
) -> Plan:
    api, desired = prepare(target, directory, without_extension)
    return plan(api, desired)


def apply_definitions(
    target: Target,
    secrets_dir: Path,
    directory: Path = DEFINITIONS_DIR,
    without_extension: bool | None = None,
) -> int:
    """Apply the definitions to the target; confidential clients' secrets go to `secrets_dir`.
    Returns the number of Admin API writes."""
    api, desired = prepare(target, directory, without_extension)
    _, writes = apply(api, desired, secrets_dir)
    return writes
