"""The lifecycle commands' own login on a deployed target: the confidential client `bizid-operator`.

Separate from the reconciler (`realm.service_account`, `bizid-realm-admin`: realm and client settings, and
deliberately no user management), so that neither secret can do the other's work: a leaked reconciler
secret reads no account; a leaked operator secret changes no flow, client, policy hook or realm setting.

Like the reconciler it lives in the **master** realm (a client-credentials client in the bizid realm would
be a token path no policy asks), is client credentials only, and its service-account user holds nothing of
master itself — only `OPERATOR_ROLES` of master's `<realm>-realm` client. Each role is there because a
lifecycle command makes the Admin API call that needs it (python-keycloak's names in brackets):

- `query-users`: search accounts by username, attribute or page (`GET /users`: show, list, every command
  that finds its account; reminders; trace's Members of a Prime).
- `view-users`: read one account, its credentials and sessions (`GET /users/{id}`, `/credentials`,
  `/sessions`: show, reset-authenticator, suspend's session count, the monthly report's tier lookup).
- `manage-users`: write an account's attributes, enabled flag and credentials, end its sessions
  (`PUT /users/{id}`, `DELETE /users/{id}/credentials/{cid}`, `POST /users/{id}/logout`: suspend, reactivate,
  renew, review approve, members permit/revoke, delegation grant/revoke, licence record/revoke,
  change-representative, reset-authenticator).
- `view-events`: read login and admin events (`GET /events`, `/admin-events`: audit trace, monthly report).

Not held, on purpose: `manage-realm`, `manage-clients`, `view-clients`, `view-realm`, `manage-events`,
`manage-authorization`, `impersonation`, `create-realm`, `query-groups`/`query-clients`/`query-realms`
(no command lists groups, clients or realms), and no role of master itself. Keycloak's `manage-users` also
lets its holder set a user's password or credentials through the Admin API — that is what an operator's
reset does; it does not let it impersonate (that is `impersonation`) nor change a role mapping to a role
it does not hold itself (Keycloak refuses granting roles the caller lacks).

Bootstrap: the same one-time `bizid realm bootstrap --target <name>` that makes the reconciler also makes
this client when the target file has an `operator_account:` block (idempotent: 0 writes the second time).
"""

from __future__ import annotations

from typing import Any

from realm import service_account
from realm.admin_api import AdminApi
from realm.service_account import BootstrapResult

OPERATOR_ROLES = ("query-users", "view-users", "manage-users", "view-events")
"""Roles of master's `<realm>-realm` client the lifecycle commands need, and no more (module docstring)."""

PURPOSE = "bizid lifecycle commands: bizid accounts/review/members/delegation/audit --target"


def client_representation(client_id: str, secret: str) -> dict[str, Any]:
    return service_account.client_representation(
        client_id,
        secret,
        OPERATOR_ROLES,
        name="bizid operator (account lifecycle)",
        purpose=f"{PURPOSE} (realm/operator_account.py)",
    )


def bootstrap(api: AdminApi, realm: str, client_id: str, secret: str) -> BootstrapResult:
    """Make `client_id` exist in master with `secret` and exactly `OPERATOR_ROLES` of `<realm>-realm`.
    `api` is logged in as the bootstrap administrator."""
    return service_account.bootstrap(
        api, realm, client_id, secret, OPERATOR_ROLES, client_representation(client_id, secret)
    )
