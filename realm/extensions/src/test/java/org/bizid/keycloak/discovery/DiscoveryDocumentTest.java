package org.bizid.keycloak.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.keycloak.protocol.oidc.representations.OIDCConfigurationRepresentation;

class DiscoveryDocumentTest {

    private static final ClientSwitches RP = new ClientSwitches(true, false, true, false, false, false, Map.of());

    private static OIDCConfigurationRepresentation keycloaks() {
        OIDCConfigurationRepresentation rep = new OIDCConfigurationRepresentation();
        rep.setGrantTypesSupported(List.of("authorization_code", "client_credentials", "implicit", "password",
                "refresh_token", DiscoveryDocument.DEVICE_CODE, DiscoveryDocument.TOKEN_EXCHANGE, "something-new"));
        rep.setResponseTypesSupported(List.of("code", "none", "id_token", "token", "id_token token", "code id_token"));
        rep.setCodeChallengeMethodsSupported(List.of("plain", "S256"));
        rep.setAcrValuesSupported(List.of("0", "1", "2", "aal1", "aal2"));
        rep.setDeviceAuthorizationEndpoint("https://idp/device");
        return rep;
    }

    @Test
    void onlyTheCodeFlowWhenOnlyItIsEnabled() {
        OIDCConfigurationRepresentation rep = DiscoveryDocument.apply(keycloaks(), List.of(RP),
                "{\"aal2\":2,\"aal1\":1}", null);
        assertEquals(List.of("authorization_code", "refresh_token"), rep.getGrantTypesSupported());
        assertEquals(List.of("code"), rep.getResponseTypesSupported());
        assertEquals(List.of("S256"), rep.getCodeChallengeMethodsSupported());
        assertEquals(List.of("aal1", "aal2"), rep.getAcrValuesSupported());
        assertNull(rep.getDeviceAuthorizationEndpoint());
        assertEquals(List.of("openid"), rep.getScopesSupported());
        assertEquals(false, rep.getOtherClaims().get("verified_claims_supported"));
    }

    @Test
    void aDisabledOrBearerOnlyClientEnablesNothing() {
        ClientSwitches disabled = new ClientSwitches(false, false, true, true, true, true, Map.of());
        ClientSwitches bearer = new ClientSwitches(true, true, true, true, true, true, Map.of());
        assertEquals(Set.of(), DiscoveryDocument.enabledGrants(List.of(disabled, bearer)));
    }

    @Test
    void aHandEnabledGrantIsAdvertised() {
        ClientSwitches opened = new ClientSwitches(true, false, false, true, true, false,
                Map.of(ClientSwitches.DEVICE, "true"));
        OIDCConfigurationRepresentation rep = DiscoveryDocument.apply(keycloaks(), List.of(RP, opened), null, null);
        assertEquals(List.of("authorization_code", "implicit", "password", "refresh_token", DiscoveryDocument.DEVICE_CODE),
                rep.getGrantTypesSupported());
        assertEquals(List.of("code", "id_token", "token", "id_token token", "code id_token"),
                rep.getResponseTypesSupported());
        assertEquals("https://idp/device", rep.getDeviceAuthorizationEndpoint());
    }

    @Test
    void theGeneratedFactsAreAdvertised() {
        String generated = "{\"scopes_supported\":[\"openid\",\"profile\"],\"claims_supported\":[\"sub\",\"name\"],"
                + "\"assurance\":{\"verified_claims_supported\":true,\"trust_frameworks_supported\":[\"jp_gbizid\"]}}";
        OIDCConfigurationRepresentation rep = DiscoveryDocument.apply(keycloaks(), List.of(RP), null, generated);
        assertEquals(List.of("openid", "profile"), rep.getScopesSupported());
        assertEquals(List.of("sub", "name"), rep.getClaimsSupported());
        assertEquals(true, rep.getOtherClaims().get("verified_claims_supported"));
        assertEquals(List.of("jp_gbizid"), rep.getOtherClaims().get("trust_frameworks_supported"));
        assertEquals(List.of(), rep.getAcrValuesSupported());
    }

    @Test
    void refreshTokensCanBeSwitchedOff() {
        ClientSwitches noRefresh = new ClientSwitches(true, false, true, false, false, false,
                Map.of(ClientSwitches.REFRESH_TOKENS, "false"));
        assertEquals(Set.of("authorization_code"), DiscoveryDocument.enabledGrants(List.of(noRefresh)));
    }
}
