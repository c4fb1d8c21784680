package org.bizid.keycloak.access;

import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.opa.AccountJson;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * The {@code prime} part of the OPA input (docs/architecture.md, "OPA"; policies/bizid/access/prime.rego): the
 * CURRENT record of the account named in the signing-in account's {@code prime_username} (a Member's issuing Prime),
 * looked up at every decision, so that suspending or expiring a Prime locks its Members out at once.
 *
 * <ul>
 *   <li>no {@code prime_username}: {@code null} (the policy refuses a Member without one);</li>
 *   <li>no account of that name: {@code {"username": <name>, "found": false}};</li>
 *   <li>else {@code {"username", "found": true, "tier", "status", "valid_until", "corporate_number"}}. A Prime whose
 *       Keycloak user is disabled is sent as {@code "status": "suspended"}: it cannot vouch either.</li>
 * </ul>
 * Only what the policy decides on is sent (no names, no company name): the input lands in OPA's decision log.
 */
public final class PrimeInput {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private final JsonNode record;

    private PrimeInput(JsonNode record) {
        this.record = record;
    }

    /** The account names no Prime. */
    public static PrimeInput none() {
        return new PrimeInput(NODES.nullNode());
    }

    /** Looks up the Prime that {@code user} names, in {@code realm}. */
    public static PrimeInput lookup(KeycloakSession session, RealmModel realm, UserModel user) {
        String name = user.getAttributeStream(AccountJson.ATTR_PRIME_USERNAME)
                .filter(v -> v != null && !v.isBlank()).findFirst().orElse(null);
        return of(name, username -> {
            UserModel prime = session.users().getUserByUsername(realm, username);
            return prime == null ? null
                    : record(prime.getUsername(), prime.isEnabled(), attribute -> prime.getAttributeStream(attribute).toList());
        });
    }

    /** Pure part: {@code accounts} finds an account's current record by username (null: no such account). */
    public static PrimeInput of(String primeUsername, Function<String, ObjectNode> accounts) {
        if (primeUsername == null || primeUsername.isBlank()) {
            return none();
        }
        ObjectNode found = accounts.apply(primeUsername);
        if (found == null) {
            return new PrimeInput(NODES.objectNode().put("username", primeUsername).put("found", false));
        }
        return new PrimeInput(found);
    }

    /** The record of a found account: username, found, tier, status, valid_until, corporate_number. */
    public static ObjectNode record(String username, boolean enabled, Function<String, List<String>> attribute) {
        ObjectNode account = AccountJson.forAccess(null, username, attribute);
        ObjectNode record = NODES.objectNode();
        record.put("username", username);
        record.put("found", true);
        record.set("tier", account.get("tier"));
        record.put("status", enabled ? account.get("status").asText() : "suspended");
        record.set("valid_until", account.get("valid_until"));
        record.set("corporate_number", account.get("corporate_number"));
        return record;
    }

    public JsonNode record() {
        return record;
    }

    /** Sets {@code prime} on an OPA input. */
    public void addTo(ObjectNode input) {
        input.set("prime", record);
    }
}
