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

    private static final ReleaseDecision NOTHING = new ReleaseDecision(Map.of(), Set.of());

    private final Map<String, Object> claims;
    private final Set<String> refused;

    private ReleaseDecision(Map<String, Object> claims, Set<String> refused) {
        this.claims = Collections.unmodifiableMap(claims);
        this.refused = Collections.unmodifiableSet(refused);
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
            } else if (value != null && !value.isNull()) {
                // Plain Java values (Map/List/String/Number/Boolean) serialise like any other claim.
                claims.put(name, OpaClient.json().convertValue(value, Object.class));
            }
        }
        return new ReleaseDecision(claims, refused);
    }

    public Map<String, Object> claims() {
        return claims;
    }

    /** Names the policy returned but that were not released because they are protocol claims. */
    public Set<String> refused() {
        return refused;
    }
}
