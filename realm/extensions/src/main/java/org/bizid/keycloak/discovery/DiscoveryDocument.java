package org.bizid.keycloak.discovery;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import org.bizid.keycloak.opa.OpaClient;
import org.keycloak.protocol.oidc.representations.OIDCConfigurationRepresentation;

/**
 * Makes Keycloak's discovery document say what this realm actually does (docs/rp-guide.md, "Discovery"):
 * grants and response types only when some client enables them, PKCE only {@code S256}, the acr values
 * of the realm's {@code acr.loa.map}, and the scopes, claims and OpenID Connect for Identity Assurance
 * metadata the realm build generated from the definitions (realm attribute {@value #REALM_ATTRIBUTE}).
 * Pure: no session, so the rules are unit-tested.
 */
public final class DiscoveryDocument {

    /** Realm attribute written by {@code bizid realm apply}: {scopes_supported, claims_supported, assurance}. */
    public static final String REALM_ATTRIBUTE = "bizid.discovery";
    public static final String ACR_LOA_MAP = "acr.loa.map";

    static final String AUTHORIZATION_CODE = "authorization_code";
    static final String REFRESH_TOKEN = "refresh_token";
    static final String IMPLICIT = "implicit";
    static final String PASSWORD = "password";
    static final String CLIENT_CREDENTIALS = "client_credentials";
    static final String DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code";
    static final String CIBA = "urn:openid:params:grant-type:ciba";
    static final String TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange";

    private DiscoveryDocument() {
    }

    /** The grant types some token-issuing client enables; a grant this code does not know is never listed. */
    static Set<String> enabledGrants(Collection<ClientSwitches> clients) {
        Set<String> grants = new LinkedHashSet<>();
        for (ClientSwitches c : clients) {
            if (!c.issuesTokens()) {
                continue;
            }
            if (c.standardFlow()) {
                grants.add(AUTHORIZATION_CODE);
            }
            if ((c.standardFlow() || c.directAccessGrants() || c.attribute(ClientSwitches.DEVICE, false)
                    || c.attribute(ClientSwitches.CIBA, false))
                    && c.attribute(ClientSwitches.REFRESH_TOKENS, true)) {
                grants.add(REFRESH_TOKEN);
            }
            if (c.implicitFlow()) {
                grants.add(IMPLICIT);
            }
            if (c.directAccessGrants()) {
                grants.add(PASSWORD);
            }
            if (c.serviceAccounts()) {
                grants.add(CLIENT_CREDENTIALS);
            }
            if (c.attribute(ClientSwitches.DEVICE, false)) {
                grants.add(DEVICE_CODE);
            }
            if (c.attribute(ClientSwitches.CIBA, false)) {
                grants.add(CIBA);
            }
            if (c.attribute(ClientSwitches.TOKEN_EXCHANGE, false)) {
                grants.add(TOKEN_EXCHANGE);
            }
        }
        return grants;
    }

    /** A response type is offered only when each of its parts is: {@code code} needs the code grant, tokens need implicit. */
    static boolean responseTypeEnabled(String responseType, Set<String> grants) {
        String[] parts = responseType.trim().split("\\s+");
        if (parts.length == 0) {
            return false;
        }
        for (String part : parts) {
            boolean ok = switch (part) {
                case "code" -> grants.contains(AUTHORIZATION_CODE);
                case "id_token", "token" -> grants.contains(IMPLICIT);
                default -> false;
            };
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** The acr values of the realm's acr.loa.map, lowest level first; empty when absent or malformed. */
    static List<String> acrValues(String acrLoaMap) {
        List<String> values = new ArrayList<>();
        if (acrLoaMap == null || acrLoaMap.isBlank()) {
            return values;
        }
        try {
            Map<String, Integer> map = OpaClient.json().readValue(acrLoaMap, new TypeReference<Map<String, Integer>>() { });
            map.entrySet().stream()
                    .sorted(Map.Entry.<String, Integer>comparingByValue().thenComparing(Map.Entry.comparingByKey()))
                    .forEach(e -> values.add(e.getKey()));
        } catch (Exception e) {
            values.clear();
        }
        return values;
    }

    private static List<String> strings(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node != null && node.isArray()) {
            for (JsonNode item : node) {
                if (item.isTextual()) {
                    out.add(item.asText());
                }
            }
        }
        return out;
    }

    private static JsonNode parse(String json) {
        if (json == null || json.isBlank()) {
            return null;
        }
        try {
            JsonNode node = OpaClient.json().readTree(json);
            return node != null && node.isObject() ? node : null;
        } catch (Exception e) {
            return null;
        }
    }

    /**
     * Rewrites {@code rep} in place. Without the generated attribute (realm not applied by bizid) only
     * {@code openid} and the protocol's own claims are advertised: nothing is claimed that was not declared.
     */
    public static OIDCConfigurationRepresentation apply(OIDCConfigurationRepresentation rep,
                                                        Collection<ClientSwitches> clients,
                                                        String acrLoaMap, String generated) {
        Set<String> grants = enabledGrants(clients);
        rep.setGrantTypesSupported(keep(rep.getGrantTypesSupported(), grants::contains));
        rep.setResponseTypesSupported(keep(rep.getResponseTypesSupported(), t -> responseTypeEnabled(t, grants)));
        rep.setCodeChallengeMethodsSupported(List.of("S256"));
        rep.setAcrValuesSupported(acrValues(acrLoaMap));
        if (!grants.contains(DEVICE_CODE)) {
            rep.setDeviceAuthorizationEndpoint(null);
        }
        if (!grants.contains(CIBA)) {
            rep.setBackchannelAuthenticationEndpoint(null);
            rep.setBackchannelTokenDeliveryModesSupported(null);
            rep.setBackchannelAuthenticationRequestSigningAlgValuesSupported(null);
        }

        JsonNode facts = parse(generated);
        List<String> scopes = facts == null ? List.of("openid") : strings(facts.get("scopes_supported"));
        List<String> claims = facts == null ? List.of("sub", "iss", "aud") : strings(facts.get("claims_supported"));
        rep.setScopesSupported(scopes);
        rep.setClaimsSupported(claims);
        JsonNode assurance = facts == null ? null : facts.get("assurance");
        if (assurance != null && assurance.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> fields = assurance.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                rep.setOtherClaims(field.getKey(), OpaClient.json().convertValue(field.getValue(), Object.class));
            }
        } else {
            rep.setOtherClaims("verified_claims_supported", false);
        }
        return rep;
    }

    private static List<String> keep(List<String> values, java.util.function.Predicate<String> wanted) {
        List<String> out = new ArrayList<>();
        if (values != null) {
            for (String v : values) {
                if (wanted.test(v)) {
                    out.add(v);
                }
            }
        }
        return out;
    }
}
