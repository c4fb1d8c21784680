"""Every Admin REST API path bizid uses, in one table: python-keycloak's own URL patterns
(`keycloak.urls_patterns`) where they exist, ours beside them where they do not.

`path(PATTERN, realm=…, id=…)` fills a pattern's placeholders (`{realm-name}`, `{id}`, `{scope-id}`,
`{flow-alias}`, `{protocol-mapper-id}`, `{client_scope_id}`), URL-quoting each value, and returns it
with a leading slash as `realm.admin_api.AdminApi` expects.
"""

from __future__ import annotations

from urllib.parse import quote

from keycloak import urls_patterns as kc

SERVER_INFO: str = kc.URL_ADMIN_SERVER_INFO
REALMS: str = kc.URL_ADMIN_REALMS
REALM: str = kc.URL_ADMIN_REALM
EVENTS_CONFIG: str = kc.URL_ADMIN_EVENTS_CONFIG
USER_PROFILE: str = kc.URL_ADMIN_REALM_USER_PROFILE

CLIENT_SCOPES: str = kc.URL_ADMIN_CLIENT_SCOPES
CLIENT_SCOPE: str = kc.URL_ADMIN_CLIENT_SCOPE
CLIENT_SCOPE_MAPPERS: str = kc.URL_ADMIN_CLIENT_SCOPES_ADD_MAPPER
CLIENT_SCOPE_MAPPER: str = kc.URL_ADMIN_CLIENT_SCOPES_MAPPERS

CLIENTS: str = kc.URL_ADMIN_CLIENTS
CLIENT: str = kc.URL_ADMIN_CLIENT
CLIENT_SECRET: str = kc.URL_ADMIN_CLIENT_SECRETS
CLIENT_MAPPERS: str = kc.URL_ADMIN_CLIENT_PROTOCOL_MAPPERS
CLIENT_MAPPER: str = kc.URL_ADMIN_CLIENT_PROTOCOL_MAPPER
CLIENT_DEFAULT_SCOPES: str = kc.URL_ADMIN_CLIENT_DEFAULT_CLIENT_SCOPES
CLIENT_DEFAULT_SCOPE: str = kc.URL_ADMIN_CLIENT_DEFAULT_CLIENT_SCOPE
CLIENT_OPTIONAL_SCOPES: str = kc.URL_ADMIN_CLIENT_OPTIONAL_CLIENT_SCOPES
CLIENT_OPTIONAL_SCOPE: str = kc.URL_ADMIN_CLIENT_OPTIONAL_CLIENT_SCOPE

FLOWS: str = kc.URL_ADMIN_FLOWS
FLOW: str = kc.URL_ADMIN_FLOW
FLOW_EXECUTIONS: str = kc.URL_ADMIN_FLOWS_EXECUTIONS
FLOW_ADD_EXECUTION: str = kc.URL_ADMIN_FLOWS_EXECUTIONS_EXECUTION
FLOW_ADD_SUBFLOW: str = kc.URL_ADMIN_FLOWS_EXECUTIONS_FLOW
EXECUTION_CONFIG: str = kc.URL_ADMIN_FLOWS_EXECUTION_CONFIG
AUTHENTICATOR_CONFIG: str = kc.URL_ADMIN_AUTHENTICATOR_CONFIG

CLEAR_USER_CACHE: str = kc.URL_ADMIN_CLEAR_USER_CACHE
USER_LOGOUT: str = kc.URL_ADMIN_USER_LOGOUT

# Not in python-keycloak's table: the realm's client profiles and client policies documents.
CLIENT_POLICY_PROFILES: str = "admin/realms/{realm-name}/client-policies/profiles"
CLIENT_POLICY_POLICIES: str = "admin/realms/{realm-name}/client-policies/policies"
CLIENT_POLICY_DOCUMENTS = {"profiles": CLIENT_POLICY_PROFILES, "policies": CLIENT_POLICY_POLICIES}
"""The realm-level client-policy document (profiles or policies) by its key."""

CLIENT_SCOPE_LINKS = {
    "default-client-scopes": CLIENT_DEFAULT_SCOPE,
    "optional-client-scopes": CLIENT_OPTIONAL_SCOPE,
}
"""A client's default or optional scope link, by the kind name the Admin API uses."""
OBJECTS = {"clients": CLIENT, "client-scopes": CLIENT_SCOPE}
"""One managed object (client or client scope) by its collection name."""
MAPPERS = {
    "clients": (CLIENT_MAPPERS, CLIENT_MAPPER),
    "client-scopes": (CLIENT_SCOPE_MAPPERS, CLIENT_SCOPE_MAPPER),
}
"""Protocol mappers (collection, one) of a client or a client scope."""

_PLACEHOLDERS = {
    "realm": "realm-name",
    "id": "id",
    "scope_id": "scope-id",
    "flow_alias": "flow-alias",
    "mapper_id": "protocol-mapper-id",
    "client_scope_id": "client_scope_id",
}


def path(pattern: str, **values: str) -> str:
    """`/` + the pattern with its placeholders filled (values URL-quoted); a missing one is an error."""
    filled = {_PLACEHOLDERS[name]: quote(str(value), safe="") for name, value in values.items()}
    return "/" + pattern.format_map(filled)


# The service-account bootstrap (realm.service_account): a client's service-account user and role mappings.
CLIENT_SERVICE_ACCOUNT_USER: str = "admin/realms/{realm-name}/clients/{id}/service-account-user"
CLIENT_ROLES: str = "admin/realms/{realm-name}/clients/{id}/roles"
USER_REALM_ROLE_MAPPINGS: str = "admin/realms/{realm-name}/users/{user-id}/role-mappings/realm"
USER_CLIENT_ROLE_MAPPINGS: str = "admin/realms/{realm-name}/users/{user-id}/role-mappings/clients/{id}"
_PLACEHOLDERS["user_id"] = "user-id"
