"""Before the first write of `realm apply`: is everything the desired realm names known to this Keycloak?

Keycloak refuses, one request at a time, a user-profile validator it does not have, a password policy it
does not know, a flow step or form action that is not installed, a protocol mapper type that does not
exist. Each refusal half-way through an apply would leave the earlier writes in place, so all of them are
checked here against `/admin/serverinfo` first and reported together, naming the definitions file and
field. What Keycloak still refuses after that (a rule no server metadata describes) is reported by
`apply_failure` with what was already written; the next apply plans from the live realm and converges.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from realm.build import DesiredRealm


class PreflightError(ValueError):
    """The definitions name things this Keycloak does not have; nothing was written."""


class ApplyError(ValueError):
    """Keycloak refused a write during apply; the message says which definition and what was written."""


def _known(serverinfo: dict[str, Any], spi: str) -> set[str]:
    return set(((serverinfo.get("providers") or {}).get(spi) or {}).get("providers") or {})


def _listed(names: Iterable[str]) -> str:
    return ", ".join(sorted(names))


def problems(desired: DesiredRealm, serverinfo: dict[str, Any], directory: Path) -> list[str]:
    """Every name in the desired realm that the server's provider list lacks, as `file: field: message`."""
    found: list[str] = []
    validators = _known(serverinfo, "validator")
    for attr in desired.user_profile.get("attributes", []):
        for validator in attr.get("validations") or {}:
            if validator not in validators:
                found.append(
                    f"{directory / 'user-profile.yaml'}: attributes.{attr['name']}.validations.{validator}: "
                    f"Keycloak has no validator {validator!r} (it has: {_listed(validators)})"
                )
    policies = _known(serverinfo, "password-policy")
    for part in filter(
        None, (p.strip() for p in str(desired.realm.get("passwordPolicy") or "").split(" and "))
    ):
        policy = part.split("(", 1)[0]
        if policy not in policies:
            found.append(
                f"{directory / 'realm.yaml'}: password: Keycloak has no password policy {policy!r} "
                f"(it has: {_listed(policies)})"
            )
    steps = _known(serverinfo, "authenticator") | _known(serverinfo, "form-action")
    forms = _known(serverinfo, "form-authenticator")
    for flow in desired.flows:
        for row in flow.shape():
            if "step" in row and row["step"] not in steps:
                found.append(
                    f"{directory / 'realm.yaml'}: flow {flow.alias}: Keycloak has no authenticator or form "
                    f"action {row['step']!r} (is the bizid extension installed?)"
                )
            if row.get("provider") and row["provider"] not in forms:
                found.append(f"{directory / 'realm.yaml'}: flow {flow.alias}: no form {row['provider']!r}")
    mappers = _known(serverinfo, "protocol-mapper")
    for scope in desired.client_scopes:
        for mapper in scope.get("protocolMappers") or []:
            if mapper.get("protocolMapper") not in mappers:
                found.append(
                    f"{directory / 'scopes.yaml'}: {scope['name']}: Keycloak has no protocol mapper "
                    f"{mapper.get('protocolMapper')!r}"
                )
    for client in desired.clients:
        for mapper in client.get("protocolMappers") or []:
            if mapper.get("protocolMapper") not in mappers:
                found.append(
                    f"{directory / 'rps' / (client['clientId'] + '.yaml')}: Keycloak has no protocol mapper "
                    f"{mapper.get('protocolMapper')!r}"
                )
    return found


def check(desired: DesiredRealm, serverinfo: dict[str, Any], directory: Path) -> None:
    found = problems(desired, serverinfo, directory)
    if found:
        raise PreflightError(
            "nothing was written; the definitions name what this Keycloak lacks:\n" + "\n".join(found)
        )


def source_of(object_type: str, key: str) -> str:
    """The definitions file a planned change comes from."""
    return {
        "realm": "realm.yaml",
        "events": "realm.yaml (events)",
        "user-profile": "user-profile.yaml",
        "client-scope": "scopes.yaml",
        "client": f"rps/{key}.yaml",
        "flow": "realm.yaml and tiers.yaml (flows are built from them)",
        "flow-binding": "realm.yaml (flow bindings)",
    }.get(object_type, object_type)


def apply_failure(change: Any, error: Exception, written: list[Any]) -> ApplyError:
    """A clear message for a write Keycloak refused mid-apply: the change, its file and fields, the server's
    answer, and exactly which changes were already made before it."""
    fields = ", ".join(d.field for d in change.diffs) or "(whole object)"
    done = "; ".join(f"{c.kind} {c.object_type} {c.key}" for c in written) or "nothing"
    return ApplyError(
        f"Keycloak refused to {change.kind} {change.object_type} {change.key} "
        f"(from {source_of(change.object_type, change.key)}; fields: {fields}): {error}\n"
        f"already written before it: {done}. Nothing after it was written. Fix the definition and run "
        "`bizid realm apply` again: it plans from the live realm, so it finishes the rest."
    )
