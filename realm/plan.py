"""Planning: compare the desired realm (`realm.build`, pure) with the live one (`realm.live`).

Objects are matched by natural key (realm name, client-scope name, clientId, flow alias) and only the
fields the definitions declare are compared: server-owned fields (ids, generated secrets and salts,
defaults we never set) are never compared, so a second `apply` finds nothing to do and makes zero writes.
`make_plan` is a pure function of its two arguments; `plan` reads the live realm first.
"""

from __future__ import annotations

import secrets
from typing import Any

from realm import build, smtp
from realm.admin_api import AdminApi
from realm.build import MANAGED_ATTRIBUTE, DesiredRealm
from realm.changes import Change, FieldDiff, Plan, _same, diff_fields
from realm.live import LiveRealm, fetch_live

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

    diffs = diff_fields(
        smtp.comparable(desired.realm),
        smtp.comparable(live.realm),
        json_attributes=build.JSON_REALM_ATTRIBUTES,
    )
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


def plan(api: AdminApi, desired: DesiredRealm) -> Plan:
    """What apply would change; reads only."""
    return make_plan(desired, fetch_live(api, desired))
