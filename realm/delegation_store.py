"""Reading and writing the `delegations` and `licences` attributes through the Admin API.

`admin` is a python-keycloak `KeycloakAdmin` of the realm. Every write replaces one attribute's values on
the freshest copy of the account and is read back (`write_values`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from realm.delegation_records import (
    DELEGATIONS_ATTRIBUTE,
    LICENCES_ATTRIBUTE,
    USERNAME,
    DelegationError,
    DelegationRecord,
    LicenceRecord,
    Parsed,
    parse,
)

SCAN_PAGE = 500
"""Users read per Admin API page when a command must search every account (see `_all_users`)."""


def _user(admin: Any, username: str) -> dict[str, Any] | None:
    users: list[dict[str, Any]] = admin.get_users({"username": username, "exact": True})
    return next((u for u in users if u.get("username") == username.lower()), users[0] if users else None)


def _values(user: dict[str, Any], name: str) -> list[str]:
    return [str(v) for v in (user.get("attributes") or {}).get(name) or []]


def _all_users(admin: Any, search: str | None = None) -> Iterator[dict[str, Any]]:
    """Every account (or those whose username, e-mail or name contains `search`), a page at a time.

    Keycloak's attribute search (`q=name:value`) matches whole values only, so finding the delegations a
    principal granted means reading every account: O(accounts), minutes on a realm of 100,000. Hence
    `--search` to narrow it, and `revoke` needs the delegate. An index attribute would make it cheap
    (left open: it needs a user-profile change).
    """
    first = 0
    query: dict[str, Any] = {"max": SCAN_PAGE, "briefRepresentation": False}
    if search:
        query["search"] = search
    while True:
        page: list[dict[str, Any]] = admin.get_users({**query, "first": first})
        yield from page
        if len(page) < SCAN_PAGE:
            return
        first += SCAN_PAGE


def write_values(admin: Any, user: dict[str, Any], attribute: str, values: list[str]) -> None:
    """Replace one attribute's values on the freshest copy of the user; verify Keycloak kept them.

    Keycloak silently drops attributes its user profile does not declare (unmanaged attribute policy
    ADMIN_VIEW), so the write is read back: an attribute that did not stick is an error, not a success.
    """
    user_id = user["id"]
    fresh: dict[str, Any] = admin.get_user(user_id)
    attributes = dict(fresh.get("attributes") or {})
    attributes[attribute] = values
    fresh["attributes"] = attributes
    admin.update_user(user_id, fresh)
    stored = _values(admin.get_user(user_id), attribute)
    if sorted(stored) != sorted(values):
        raise DelegationError(
            f"Keycloak did not store the {attribute!r} attribute of {user['username']!r} "
            f"(sent {len(values)} value(s), it kept {len(stored)}): the realm's user profile must declare "
            f"{attribute!r} (realm/definitions/user-profile.yaml), else Keycloak drops it"
        )


def _account(admin: Any, option: str, username: str) -> dict[str, Any]:
    if not username or not re.fullmatch(USERNAME, username):
        raise DelegationError(f"{option} {username!r}: not a username")
    user = _user(admin, username)
    if user is None:
        raise DelegationError(f"{option} {username!r}: no such account")
    return user


def _delegations_of(user: dict[str, Any]) -> Parsed[DelegationRecord]:
    return parse(
        DelegationRecord,
        str(user.get("username")),
        DELEGATIONS_ATTRIBUTE,
        _values(user, DELEGATIONS_ATTRIBUTE),
    )


def _licences_of(user: dict[str, Any]) -> Parsed[LicenceRecord]:
    return parse(
        LicenceRecord, str(user.get("username")), LICENCES_ATTRIBUTE, _values(user, LICENCES_ATTRIBUTE)
    )
