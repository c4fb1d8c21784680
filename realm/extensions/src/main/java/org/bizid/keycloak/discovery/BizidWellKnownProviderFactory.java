package org.bizid.keycloak.discovery;

import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.protocol.oidc.OIDCWellKnownProviderFactory;
import org.keycloak.provider.ProviderFactory;
import org.keycloak.wellknown.WellKnownProvider;
import org.keycloak.wellknown.WellKnownProviderFactory;

/**
 * Serves {@code /realms/{realm}/.well-known/openid-configuration} in place of Keycloak's provider: Keycloak
 * picks, per alias, the factory with the lowest priority (its own has 100). The document itself is
 * Keycloak's, filtered by {@link DiscoveryDocument}.
 */
public class BizidWellKnownProviderFactory implements WellKnownProviderFactory {

    public static final String PROVIDER_ID = "bizid-openid-configuration";
    static final int PRIORITY = 10;

    private KeycloakSessionFactory factory;

    /** The alias this factory answers for, and Keycloak's provider it filters. */
    protected String keycloakProviderId() {
        return OIDCWellKnownProviderFactory.PROVIDER_ID;
    }

    @Override
    public WellKnownProvider create(KeycloakSession session) {
        ProviderFactory<WellKnownProvider> keycloaks = factory.getProviderFactory(WellKnownProvider.class,
                keycloakProviderId());
        if (keycloaks == null) {
            throw new IllegalStateException("Keycloak's well-known provider " + keycloakProviderId() + " is missing");
        }
        return new BizidWellKnownProvider(session, keycloaks.create(session));
    }

    @Override
    public String getAlias() {
        return keycloakProviderId();
    }

    @Override
    public int getPriority() {
        return PRIORITY;
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        this.factory = factory;
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }
}
