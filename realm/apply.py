"""Applying: make exactly the changes of a plan through the Admin API (every write counted by `AdminApi`).

Handlers merge the owned fields into the live representation, so fields the definitions do not declare
are kept. A wholly owned flow is rebuilt behind a flow that denies every sign-in (fails closed). A
confidential client's secret comes from a `ClientSecrets` store (`realm.client_secrets`), so the same
secret survives a re-created client; without a store it is random and kept nowhere.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from realm import admin_paths as paths
from realm import preflight
from realm.admin_api import AdminApi, ReconcileError
from realm.build import DesiredRealm, Flow, Step, SubFlow
from realm.changes import Change, Plan
from realm.client_secrets import ClientSecrets
from realm.plan import _mapper_diffs, _with_generated, plan

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


@dataclass
class Applier:
    api: AdminApi
    desired: DesiredRealm
    secrets: ClientSecrets | None
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
        """The kept secret of a confidential client; generated (and saved) on first use."""
        if self.secrets is None:
            return secrets.token_urlsafe(32)
        value = self.secrets.get(client_id)
        if value is not None:
            return value
        value = secrets.token_urlsafe(32)
        self.secrets.put(client_id, value)
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
        """Confidential clients that exist but whose kept secret is missing (fresh checkout against an
        existing database): copy the server's secret to the store. Reads only (from Keycloak)."""
        if self.secrets is None:
            return
        clients = {c["clientId"]: c for c in self.api.get(self.p(paths.CLIENTS))}
        for client_id in sorted(self.desired.confidential_clients):
            if client_id in clients and self.secrets.get(client_id) is None:
                secret = self.api.get(self.p(paths.CLIENT_SECRET, id=clients[client_id]["id"]))
                self.secrets.put(client_id, str(secret["value"]))


def apply(api: AdminApi, desired: DesiredRealm, secrets: ClientSecrets | None) -> tuple[Plan, int]:
    """Make exactly the changes of the plan; return the plan and the number of Admin API writes.
    Confidential clients' secrets come from and go to `secrets` (None: random, kept nowhere)."""
    start = api.writes
    current = plan(api, desired)
    applier = Applier(api, desired, secrets)
    if current.changes and current.changes[0].kind == "create" and current.changes[0].object_type == "realm":
        # A new realm comes with Keycloak's built-in scopes and flows: create it, then plan against it.
        api.post(paths.path(paths.REALMS), {"realm": desired.name, "enabled": True})
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
