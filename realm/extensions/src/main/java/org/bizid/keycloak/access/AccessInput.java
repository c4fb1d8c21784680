package org.bizid.keycloak.access;

import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.delegation.DelegationInput;

/**
 * Builds the input document of {@code data.bizid.access.decision} (docs/architecture.md, "OPA"; docs/policies.md):
 * {@code {"rp": {"client_id"}, "account": {...}, "authn": {"loa", "phase"}, "delegation", "grantor", "licences",
 * "prime", "now", "decision_id"}}.
 */
public final class AccessInput {

    /** Right after the password step: every rule except the level of authentication; cannot admit by itself. */
    public static final String PHASE_IDENTIFIED = "identified";
    /** Last step of the flow: every rule applies. The default. */
    public static final String PHASE_COMPLETE = "complete";

    private AccessInput() {
    }

    public static ObjectNode build(String clientId, ObjectNode account, int loa, String phase,
                                   DelegationInput delegation, PrimeInput prime, Instant now, String decisionId) {
        JsonNodeFactory nodes = JsonNodeFactory.instance;
        ObjectNode input = nodes.objectNode();
        input.putObject("rp").put("client_id", clientId);
        input.set("account", account);
        input.putObject("authn").put("loa", loa).put("phase", phase);
        (delegation == null ? DelegationInput.none() : delegation).addTo(input);
        (prime == null ? PrimeInput.none() : prime).addTo(input);
        input.put("now", rfc3339(now));
        input.put("decision_id", decisionId);
        return input;
    }

    /** {@value #PHASE_IDENTIFIED} or {@value #PHASE_COMPLETE}; anything else (or nothing) is complete. */
    public static String phase(String configured) {
        return PHASE_IDENTIFIED.equals(configured == null ? null : configured.trim())
                ? PHASE_IDENTIFIED : PHASE_COMPLETE;
    }

    /** UTC, second precision, e.g. 2026-04-01T09:30:00Z. */
    public static String rfc3339(Instant instant) {
        return DateTimeFormatter.ISO_INSTANT.format(instant.truncatedTo(ChronoUnit.SECONDS));
    }
}
