package org.bizid.keycloak.archive;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.opa.OpaClient;
import org.keycloak.events.Event;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.models.KeycloakSession;

/**
 * The archive line of one Keycloak event: {@code bizid-event {json}}, one log line per event, the durable copy
 * of the event store (locally the append-only {@code .bizid/logs/keycloak.log}, on AWS the log stream the
 * Object Lock archive subscribes to). It carries the ids of the OPA release decisions taken in the same
 * request, so an investigator joins a CODE_TO_TOKEN / REFRESH_TOKEN / USER_INFO_REQUEST event to OPA's
 * decision log. Personal data is left out: the account is its Keycloak id, no IP address, no username or
 * e-mail (only the detail keys in {@link #DETAILS}).
 */
public final class EventArchive {
    public static final String MARKER = "bizid-event ";
    static final String RELEASE_DECISIONS = "bizid.archive.release-decisions";
    static final List<String> DETAILS = List.of("grant_type", "auth_method", "credential_type");

    private EventArchive() {}

    /** Called by the release mapper: the decision id of a release decision taken in this request. */
    @SuppressWarnings("unchecked")
    public static void noteReleaseDecision(KeycloakSession session, String decisionId) {
        if (session == null || decisionId == null) {
            return;
        }
        Object held = session.getAttribute(RELEASE_DECISIONS);
        List<String> ids;
        if (held instanceof List) {
            ids = (List<String>) held;
        } else {
            ids = new ArrayList<>();
            session.setAttribute(RELEASE_DECISIONS, ids);
        }
        if (!ids.contains(decisionId)) {
            ids.add(decisionId);
        }
    }

    @SuppressWarnings("unchecked")
    static List<String> releaseDecisions(KeycloakSession session) {
        Object held = session == null ? null : session.getAttribute(RELEASE_DECISIONS);
        return held instanceof List ? List.copyOf((List<String>) held) : List.of();
    }

    static String line(Event event, List<String> releaseDecisions) {
        ObjectNode json = OpaClient.json().createObjectNode();
        json.put("kind", "login");
        json.put("id", event.getId());
        json.put("time", event.getTime());
        json.put("realm", event.getRealmName() != null ? event.getRealmName() : event.getRealmId());
        json.put("type", event.getType() == null ? null : event.getType().name());
        json.put("client", event.getClientId());
        json.put("user", event.getUserId());
        json.put("session", event.getSessionId());
        if (event.getError() != null) {
            json.put("error", event.getError());
        }
        Map<String, String> details = event.getDetails();
        if (details != null) {
            for (String key : DETAILS) {
                if (details.get(key) != null) {
                    json.put(key, details.get(key));
                }
            }
        }
        if (!releaseDecisions.isEmpty()) {
            ArrayNode ids = json.putArray("release_decision_ids");
            releaseDecisions.forEach(ids::add);
        }
        return MARKER + json;
    }

    static String line(AdminEvent event) {
        ObjectNode json = OpaClient.json().createObjectNode();
        json.put("kind", "admin");
        json.put("id", event.getId());
        json.put("time", event.getTime());
        json.put("realm", event.getRealmName() != null ? event.getRealmName() : event.getRealmId());
        json.put("operation", event.getOperationType() == null ? null : event.getOperationType().name());
        json.put("resource_type", event.getResourceType() == null ? null : event.getResourceType().name());
        json.put("resource_path", event.getResourcePath());
        if (event.getAuthDetails() != null) {
            json.put("by_user", event.getAuthDetails().getUserId());
            json.put("by_client", event.getAuthDetails().getClientId());
        }
        if (event.getError() != null) {
            json.put("error", event.getError());
        }
        return MARKER + json;
    }
}
