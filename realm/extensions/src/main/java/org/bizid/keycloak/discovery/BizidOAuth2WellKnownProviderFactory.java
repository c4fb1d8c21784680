package org.bizid.keycloak.discovery;

import org.keycloak.protocol.oauth2.OAuth2WellKnownProviderFactory;

/** The same filtering for the RFC 8414 document ({@code /.well-known/oauth-authorization-server}). */
public class BizidOAuth2WellKnownProviderFactory extends BizidWellKnownProviderFactory {

    public static final String PROVIDER_ID = "bizid-oauth-authorization-server";

    @Override
    protected String keycloakProviderId() {
        return OAuth2WellKnownProviderFactory.PROVIDER_ID;
    }

    @Override
    public String getId() {
        return PROVIDER_ID;
    }
}
