package org.bizid.keycloak.loa;

import java.util.Collections;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import org.bizid.keycloak.opa.OpaClient;

/**
 * The realm attribute {@value #REALM_ATTRIBUTE}: a JSON object tier → minimum Keycloak level of
 * authentication, e.g. {@code {"entry":1,"prime":2,"member":2,"provisional-prime":2}}.
 */
public final class TierLevels {

    public static final String REALM_ATTRIBUTE = "bizid.tier.loa";

    private final Map<String, Integer> levels;

    private TierLevels(Map<String, Integer> levels) {
        this.levels = Collections.unmodifiableMap(levels);
    }

    /**
     * Parses the attribute; empty when absent or malformed in any way (not an object, a level that is
     * not a non-negative integer), because a half-understood table must not weaken a tier.
     */
    public static Optional<TierLevels> parse(String json) {
        if (json == null || json.isBlank()) {
            return Optional.empty();
        }
        JsonNode root;
        try {
            root = OpaClient.json().readTree(json);
        } catch (Exception e) {
            return Optional.empty();
        }
        if (root == null || !root.isObject()) {
            return Optional.empty();
        }
        Map<String, Integer> levels = new HashMap<>();
        for (Map.Entry<String, JsonNode> entry : root.properties()) {
            JsonNode level = entry.getValue();
            if (!level.isIntegralNumber() || !level.canConvertToInt() || level.intValue() < 0) {
                return Optional.empty();
            }
            levels.put(entry.getKey(), level.intValue());
        }
        return Optional.of(new TierLevels(levels));
    }

    /** The tier's level; empty for an unknown (or absent) tier. */
    public Optional<Integer> levelOf(String tier) {
        return tier == null ? Optional.empty() : Optional.ofNullable(levels.get(tier));
    }

    /** The requested level after raising it to the tier's minimum; never lowers a request. */
    public static int raise(int requested, int tierLevel) {
        return Math.max(requested, tierLevel);
    }
}
