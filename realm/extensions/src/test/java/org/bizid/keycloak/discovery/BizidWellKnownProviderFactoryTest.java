package org.bizid.keycloak.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.keycloak.protocol.oauth2.OAuth2WellKnownProviderFactory;
import org.keycloak.protocol.oidc.OIDCWellKnownProviderFactory;

class BizidWellKnownProviderFactoryTest {

    /** Keycloak serves, per alias, the factory with the lowest priority: ours must win over its own. */
    @Test
    void replacesKeycloaksDocumentsByAliasAndPriority() {
        BizidWellKnownProviderFactory oidc = new BizidWellKnownProviderFactory();
        BizidWellKnownProviderFactory oauth = new BizidOAuth2WellKnownProviderFactory();
        assertEquals(OIDCWellKnownProviderFactory.PROVIDER_ID, oidc.getAlias());
        assertEquals(OAuth2WellKnownProviderFactory.PROVIDER_ID, oauth.getAlias());
        assertTrue(oidc.getPriority() < new OIDCWellKnownProviderFactory().getPriority());
        assertTrue(oauth.getPriority() < new OAuth2WellKnownProviderFactory().getPriority());
        assertTrue(!oidc.getId().equals(oauth.getId()));
    }
}
