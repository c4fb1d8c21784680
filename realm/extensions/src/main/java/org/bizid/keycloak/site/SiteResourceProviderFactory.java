package org.bizid.keycloak.site;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.services.resource.RealmResourceProvider;
import org.keycloak.services.resource.RealmResourceProviderFactory;

/**
 * The site writability signal ({@code /realms/<realm>/bizid-site/writable}), read by the Route 53 failover
 * health check through each region's ALB. The id is the path segment; realm/site.py holds the same contract.
 */
public final class SiteResourceProviderFactory implements RealmResourceProviderFactory {

    public static final String ID = "bizid-site";

    @Override
    public RealmResourceProvider create(KeycloakSession session) {
        return new SiteResourceProvider(session);
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return ID;
    }
}
