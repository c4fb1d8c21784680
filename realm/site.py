"""The site writability signal: one contract for the Keycloak extension, the Route 53 health check and tests.

`GET /realms/<realm>/bizid-site/writable` (no authentication, no personal data, `Cache-Control: no-store`)
answers **200 `{"writable":true}`** only when the database connection Keycloak itself uses takes writes
(`NOT pg_is_in_recovery()` and `transaction_read_only = off`), and **503** otherwise:
`{"writable":false,"reason":"read-only"}` when the query says so, `{"writable":false,"reason":"unreachable"}`
when it cannot run (no connection, a driver error). The status and the marker are the contract; `reason` is
for operators. It is served by `org.bizid.keycloak.site` (realm/extensions).

The Route 53 health check behind each failover record asks this path through the region's ALB and also
requires `WRITABLE_MARKER` in the body (`HTTPS_STR_MATCH`), so a site whose database is a read-only secondary
never gets DNS traffic; the ALB target-group check stays on `/health/ready`, which keeps its tasks in service.
"""

from __future__ import annotations

PROVIDER_ID = "bizid-site"
"""The RealmResourceProviderFactory id in Java (SiteResourceProviderFactory.ID): the path segment."""

WRITABLE_MARKER = '"writable":true'
"""In the body of a 200 only; Route 53 matches it in the first 5,120 bytes of the body."""

READ_ONLY = "read-only"
UNREACHABLE = "unreachable"
"""The `reason` of a 503."""


def writable_path(realm: str) -> str:
    """The path of the signal for a realm, as the health check and a client ask for it."""
    return f"/realms/{realm}/{PROVIDER_ID}/writable"
