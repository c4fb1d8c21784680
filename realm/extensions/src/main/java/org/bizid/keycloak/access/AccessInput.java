package org.bizid.keycloak.access;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds the input document of {@code data.bizid.access.decision} (docs/architecture.md, "OPA"):
 * {@code {"rp": {"client_id"}, "account": {...}, "authn": {"loa"}, "delegation", "now", "decision_id"}}.
 */
public final class AccessInput {

    private AccessInput() {
    }

    public static ObjectNode build(String clientId, ObjectNode account, int loa, JsonNode delegation,
                                   Instant now, String decisionId) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        ObjectNode input = nodes.objectNode();
        input.putObject("rp").put("client_id", clientId);
        input.set("account", account);
        input.putObject("authn").put("loa", loa);
        input.set("delegation", delegation == null ? nodes.nullNode() : delegation);
        input.put("now", rfc3339(now));
        input.put("decision_id", decisionId);
        return input;
    }

    /** UTC, second precision, e.g. 2026-04-01T09:30:00Z. */
    public static String rfc3339(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }
}
