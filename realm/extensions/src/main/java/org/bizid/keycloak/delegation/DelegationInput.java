package org.bizid.keycloak.delegation;

import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.opa.AccountJson;
import org.bizid.keycloak.opa.OpaClient;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * The delegation part of the OPA input (docs/architecture.md, "Delegation and licences"):
 * {@code delegation}, {@code grantor} and {@code licences}.
 *
 * <p>The RP names a delegation with the authorization request parameter {@code delegation=<id>}. That id is only a
 * selector: the record is looked up among the signed-in user's own {@code delegations} attribute, the granting
 * account is looked up in the realm by the record's {@code granted_by}, and the policy judges the result. An id that
 * is not on the user's account is sent as {@code {"id": <id>}} alone, which the policy reports as
 * {@code unknown_delegation}, so the sign-in is refused ({@code delegation_invalid: unknown_delegation: ...}).
 * Nothing the RP or the browser sends ever becomes part of a record.
 */
public final class DelegationInput {

    /** Keycloak keeps an unknown authorization request parameter as this auth-session client note. */
    public static final String REQUEST_PARAM_NOTE = "client_request_param_delegation";

    /**
     * Client note {@code bizid-access} sets on every sign-in: the delegation id it judged, or "" for none. Client
     * notes are copied to the client session at login (and overwrite what an earlier login at the same client left),
     * so {@code bizid-release} releases exactly the delegation that was checked at this sign-in.
     */
    public static final String SELECTED_NOTE = "bizid.delegation";

    public static final String ATTR_DELEGATIONS = "delegations";
    public static final String ATTR_LICENCES = "licences";
    public static final String ATTR_CORPORATE_NAME = "corporate_name";

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final JsonNode delegation;
    private final JsonNode grantor;
    private final JsonNode licences;

    private DelegationInput(JsonNode delegation, JsonNode grantor, JsonNode licences) {
        this.delegation = delegation;
        this.grantor = grantor;
        this.licences = licences;
    }

    /** No delegation requested: all three are null. */
    public static DelegationInput none() {
        return new DelegationInput(NODES.nullNode(), NODES.nullNode(), NODES.nullNode());
    }

    /** Null, blank or whitespace-only: no delegation requested. */
    public static String normaliseId(String id) {
        return id == null || id.isBlank() ? null : id.trim();
    }

    /** Looks everything up in Keycloak for {@code user} signing in with the selector {@code id} (null: none). */
    public static DelegationInput lookup(KeycloakSession session, RealmModel realm, UserModel user, String id) {
        return of(id,
                user.getAttributeStream(ATTR_DELEGATIONS).toList(),
                user.getAttributeStream(ATTR_LICENCES).toList(),
                username -> {
                    UserModel grantor = session.users().getUserByUsername(realm, username);
                    return grantor == null ? null : grantor(grantor);
                });
    }

    /**
     * Pure part: {@code records} are the user's {@code delegations} values, {@code licenceRecords} its
     * {@code licences} values, {@code grantors} finds an account's current record by username (null: none).
     */
    public static DelegationInput of(String id, List<String> records, List<String> licenceRecords,
                                     Function<String, ObjectNode> grantors) {
        String wanted = normaliseId(id);
        if (wanted == null) {
            return none();
        }
        ObjectNode record = find(records, wanted);
        if (record == null) {
            // Not on this account: a delegation the policy cannot find valid (fail closed).
            return new DelegationInput(NODES.objectNode().put("id", wanted), NODES.nullNode(),
                    licences(licenceRecords));
        }
        JsonNode grantedBy = record.get("granted_by");
        ObjectNode grantor = grantedBy != null && grantedBy.isTextual() && !grantedBy.asText().isEmpty()
                ? grantors.apply(grantedBy.asText())
                : null;
        return new DelegationInput(record, grantor == null ? NODES.nullNode() : grantor, licences(licenceRecords));
    }

    /** The first stored record whose {@code id} is {@code id}; values that are not JSON objects are skipped. */
    static ObjectNode find(List<String> records, String id) {
        if (records == null) {
            return null;
        }
        for (String value : records) {
            JsonNode node = parse(value);
            if (node != null && node.isObject() && node.path("id").isTextual() && id.equals(node.get("id").asText())) {
                return (ObjectNode) node;
            }
        }
        return null;
    }

    /**
     * The stored licence records as an array. A value that is not JSON is passed on as a string, so the policy reports
     * it as malformed (and refuses the delegation) instead of silently not seeing a licence record.
     */
    static ArrayNode licences(List<String> values) {
        ArrayNode array = NODES.arrayNode();
        if (values != null) {
            for (String value : values) {
                if (value == null || value.isBlank()) {
                    continue;
                }
                JsonNode node = parse(value);
                array.add(node == null ? NODES.textNode(value) : node);
            }
        }
        return array;
    }

    /** The grantor's current record: username, tier, corporate_number, status, valid_until, corporate_name. */
    public static ObjectNode grantor(UserModel user) {
        return grantor(user.getUsername(), name -> user.getAttributeStream(name).toList());
    }

    public static ObjectNode grantor(String username, Function<String, List<String>> attribute) {
        ObjectNode account = AccountJson.forAccess(null, username, attribute);
        ObjectNode grantor = NODES.objectNode();
        grantor.put("username", username);
        grantor.set("tier", account.get("tier"));
        grantor.set("corporate_number", account.get("corporate_number"));
        grantor.set("status", account.get("status"));
        grantor.set("valid_until", account.get("valid_until"));
        List<String> names = attribute.apply(ATTR_CORPORATE_NAME);
        String name = names == null ? null : names.stream().filter(v -> v != null && !v.isEmpty()).findFirst().orElse(null);
        grantor.put("corporate_name", name);
        return grantor;
    }

    private static JsonNode parse(String value) {
        if (value == null) {
            return null;
        }
        try {
            return OpaClient.json().readTree(value);
        } catch (Exception e) {
            return null;
        }
    }

    public JsonNode delegation() {
        return delegation;
    }

    public JsonNode grantor() {
        return grantor;
    }

    public JsonNode licences() {
        return licences;
    }

    /** Sets {@code delegation}, {@code grantor} and {@code licences} on an OPA input. */
    public void addTo(ObjectNode input) {
        input.set("delegation", delegation);
        input.set("grantor", grantor);
        input.set("licences", licences);
    }
}
