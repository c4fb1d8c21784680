package org.bizid.keycloak.release;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.OpaResult;

/**
 * The claims OPA allows for this RP and request: {@code data.bizid.release.decision = {"claims": {name: value}}}.
 * Anything else releases nothing (fail closed); the token itself is still issued.
 */
public final class ReleaseDecision {

    /**
     * Claims that carry the protocol's own meaning; a policy must never overwrite them, whatever it returns.
     */
    static final Set<String> PROTECTED_CLAIMS = Set.of(
            "iss", "sub", "aud", "exp", "iat", "nbf", "jti", "azp", "typ", "sid", "session_state",
            "acr", "amr", "auth_time", "nonce", "at_hash", "c_hash", "s_hash", "scope", "cnf",
            "allowed-origins", "realm_access", "resource_access");

    /**
     * OpenID Connect's standard {@code address} claim is a JSON object (Core 1.0, 5.1.1), and Keycloak reads it
     * as one: {@code IDToken.getAddress()} converts it to {@code AddressClaimSet}, so a string value makes the
     * userinfo endpoint fail with HTTP 500. A string from the policy is therefore released as the object's
     * one-line form {@code {"formatted": value}}; any other non-object value is not released.
     */
    static final String ADDRESS = "address";
    static final String ADDRESS_FORMATTED = "formatted";

    private static final ReleaseDecision NOTHING = new ReleaseDecision(Map.of(), Set.of(), null);

    private final Map<String, Object> claims;
    private final Set<String> refused;
    private final String refusal;

    private ReleaseDecision(Map<String, Object> claims, Set<String> refused, String refusal) {
        this.claims = Collections.unmodifiableMap(claims);
        this.refused = Collections.unmodifiableSet(refused);
        this.refusal = refusal;
    }

    public static ReleaseDecision nothing() {
        return NOTHING;
    }

    public static ReleaseDecision from(OpaResult opa) {
        if (!opa.isOk() || !opa.result().isObject()) {
            return NOTHING;
        }
        JsonNode claimsNode = opa.result().get("claims");
        if (claimsNode == null || !claimsNode.isObject()) {
            return NOTHING;
        }
        Map<String, Object> claims = new LinkedHashMap<>();
        Set<String> refused = new java.util.TreeSet<>();
        for (Map.Entry<String, JsonNode> entry : claimsNode.properties()) {
            String name = entry.getKey();
            JsonNode value = entry.getValue();
            if (name.isEmpty() || PROTECTED_CLAIMS.contains(name)) {
                refused.add(name);
            } else if (ADDRESS.equals(name) && value != null && value.isTextual()) {
                claims.put(name, Map.of(ADDRESS_FORMATTED, value.asText()));
            } else if (ADDRESS.equals(name) && value != null && !value.isNull() && !value.isObject()) {
                refused.add(name);
            } else if (value != null && !value.isNull()) {
                // Plain Java values (Map/List/String/Number/Boolean) serialise like any other claim.
                claims.put(name, OpaClient.json().convertValue(value, Object.class));
            }
        }
        return new ReleaseDecision(claims, refused, refusal(opa.result().get("withheld")));
    }

    // The policy's "nothing may be released" entry: {"claim": "*", "reason", "message"}, for the server log.
    private static String refusal(JsonNode withheld) {
        if (withheld == null || !withheld.isArray()) {
            return null;
        }
        StringBuilder text = new StringBuilder();
        for (JsonNode item : withheld) {
            if ("*".equals(item.path("claim").asText())) {
                text.append(text.length() == 0 ? "" : "; ")
                        .append(item.path("reason").asText()).append(": ").append(item.path("message").asText());
            }
        }
        return text.length() == 0 ? null : text.toString();
    }

    public Map<String, Object> claims() {
        return claims;
    }

    /** Why the policy released nothing ({@code withheld} entries with claim "*"), or null. */
    public String refusal() {
        return refusal;
    }

    /** Names the policy returned but that were not released because they are protocol claims. */
    public Set<String> refused() {
        return refused;
    }
}
