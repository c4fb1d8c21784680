package org.bizid.keycloak.site;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.CacheControl;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

import org.keycloak.connections.jpa.JpaConnectionProvider;
import org.keycloak.models.KeycloakSession;

/**
 * {@code GET /realms/<realm>/bizid-site/writable}: 200 {@code {"writable":true}} when this site's database
 * takes writes, else 503 {@code {"writable":false,"reason":"read-only"|"unreachable"}}. No authentication, no
 * personal data, one cheap query on Keycloak's own connection.
 */
public final class SiteResource {

    private final KeycloakSession session;

    SiteResource(KeycloakSession session) {
        this.session = session;
    }

    @GET
    @Path("writable")
    @Produces(MediaType.APPLICATION_JSON)
    public Response writable() {
        SiteWritability.State state = SiteWritability.of(() -> session.getProvider(JpaConnectionProvider.class)
                .getEntityManager()
                .createNativeQuery(SiteWritability.QUERY)
                .getSingleResult());
        CacheControl noStore = new CacheControl();
        noStore.setNoStore(true);
        boolean writable = state == SiteWritability.State.WRITABLE;
        return Response.status(writable ? Response.Status.OK : Response.Status.SERVICE_UNAVAILABLE)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .cacheControl(noStore)
                .entity(state.body())
                .build();
    }
}
