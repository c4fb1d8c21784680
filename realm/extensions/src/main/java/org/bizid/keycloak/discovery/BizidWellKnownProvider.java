package org.bizid.keycloak.discovery;

import java.util.List;

import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.protocol.oidc.OIDCLoginProtocol;
import org.keycloak.protocol.oidc.representations.OIDCConfigurationRepresentation;
import org.keycloak.wellknown.WellKnownProvider;

/** Keycloak's own discovery document, made truthful by {@link DiscoveryDocument}. */
public class BizidWellKnownProvider implements WellKnownProvider {

    private final KeycloakSession session;
    private final WellKnownProvider keycloaks;

    BizidWellKnownProvider(KeycloakSession session, WellKnownProvider keycloaks) {
        this.session = session;
        this.keycloaks = keycloaks;
    }

    @Override
    public Object getConfig() {
        Object config = keycloaks.getConfig();
        if (!(config instanceof OIDCConfigurationRepresentation rep)) {
            return config;
        }
        RealmModel realm = session.getContext().getRealm();
        List<ClientSwitches> clients = realm.getClientsStream()
                .filter(c -> c.getProtocol() == null || OIDCLoginProtocol.LOGIN_PROTOCOL.equals(c.getProtocol()))
                .map(BizidWellKnownProvider::switches)
                .toList();
        return DiscoveryDocument.apply(rep, clients, realm.getAttribute(DiscoveryDocument.ACR_LOA_MAP),
                realm.getAttribute(DiscoveryDocument.REALM_ATTRIBUTE));
    }

    static ClientSwitches switches(ClientModel c) {
        return new ClientSwitches(c.isEnabled(), c.isBearerOnly(), c.isStandardFlowEnabled(), c.isImplicitFlowEnabled(),
                c.isDirectAccessGrantsEnabled(), c.isServiceAccountsEnabled(), c.getAttributes());
    }

    @Override
    public void close() {
        keycloaks.close();
    }
}
