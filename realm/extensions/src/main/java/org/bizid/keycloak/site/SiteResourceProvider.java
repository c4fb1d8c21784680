package org.bizid.keycloak.site;

import org.keycloak.models.KeycloakSession;
import org.keycloak.services.resource.RealmResourceProvider;

/** Serves {@link SiteResource} under {@code /realms/<realm>/bizid-site}. */
public final class SiteResourceProvider implements RealmResourceProvider {

    private final KeycloakSession session;

    SiteResourceProvider(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public Object getResource() {
        return new SiteResource(session);
    }

    @Override
    public void close() {
    }
}
