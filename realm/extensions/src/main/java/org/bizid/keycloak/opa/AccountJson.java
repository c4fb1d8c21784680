package org.bizid.keycloak.opa;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.keycloak.models.UserModel;

/**
 * The {@code account} object sent to OPA, built from Keycloak user attributes
 * (names fixed by docs/architecture.md, "User attributes").
 */
public final class AccountJson {

    public static final String ATTR_TIER = "tier";
    public static final String ATTR_STATUS = "account_status";
    public static final String ATTR_VALID_UNTIL = "valid_until";
    public static final String ATTR_CORPORATE_NUMBER = "corporate_number";
    public static final String ATTR_PRIME_USERNAME = "prime_username";
    public static final String ATTR_PROVISIONAL_RPS = "provisional_rps";
    /** A Member's permissions, set by its Prime: RP client ids, or {@code rp/procedure} (bizid members permit). */
    public static final String ATTR_MEMBER_PERMISSIONS = "member_permissions";

    /** An account without {@value #ATTR_STATUS} was never suspended. */
    public static final String DEFAULT_STATUS = "active";

    // Already present under their own names in the access shape, or as Keycloak's built-in fields.
    private static final Set<String> HANDLED_ATTRIBUTES = Set.of(
            ATTR_TIER, ATTR_STATUS, ATTR_VALID_UNTIL, ATTR_CORPORATE_NUMBER, ATTR_PRIME_USERNAME, ATTR_PROVISIONAL_RPS,
            ATTR_MEMBER_PERMISSIONS,
            UserModel.USERNAME, UserModel.EMAIL, UserModel.EMAIL_VERIFIED, UserModel.FIRST_NAME, UserModel.LAST_NAME,
            "id");

    /** Records with their own place in the input ({@code delegation}, {@code licences}), not account claims. */
    private static final Set<String> NOT_ACCOUNT_ATTRIBUTES = Set.of("delegations", "licences", "enrolment_code");

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private AccountJson() {
    }

    /**
     * Access input shape: id, username, tier, status, valid_until, corporate_number, prime_username, provisional_rps,
     * member_permissions.
     */
    public static ObjectNode forAccess(UserModel user) {
        return forAccess(user.getId(), user.getUsername(), name -> values(user, name));
    }

    public static ObjectNode forAccess(String id, String username, Function<String, List<String>> attribute) {
        ObjectNode account = NODES.objectNode();
        account.put("id", id);
        account.put("username", username);
        account.put("tier", first(attribute.apply(ATTR_TIER)));
        String status = first(attribute.apply(ATTR_STATUS));
        account.put("status", status == null || status.isBlank() ? DEFAULT_STATUS : status);
        account.put("valid_until", first(attribute.apply(ATTR_VALID_UNTIL)));
        account.put("corporate_number", first(attribute.apply(ATTR_CORPORATE_NUMBER)));
        account.put("prime_username", first(attribute.apply(ATTR_PRIME_USERNAME)));
        putArray(account, "provisional_rps", attribute.apply(ATTR_PROVISIONAL_RPS));
        putArray(account, "member_permissions", attribute.apply(ATTR_MEMBER_PERMISSIONS));
        return account;
    }

    /**
     * Release input shape: the access fields, the profile fields (username, email, emailVerified, firstName,
     * lastName) and every other attribute declared in the user profile ({@code profile}: name → multivalued).
     * Declared single-valued attributes are sent as one string (the first value), multivalued ones as an array of
     * strings, unset ones not at all. Attributes the profile does not declare (Keycloak's internal ones), and the
     * delegation and licence records (sent as their own input fields), are never part of the account.
     */
    public static ObjectNode forRelease(UserModel user, Map<String, Boolean> profile) {
        Map<String, List<String>> attributes = user.getAttributes();
        return forRelease(user.getId(), user.getUsername(), user.getEmail(), user.isEmailVerified(),
                user.getFirstName(), user.getLastName(), attributes == null ? Map.of() : attributes, profile);
    }

    public static ObjectNode forRelease(String id, String username, String email, boolean emailVerified,
                                        String firstName, String lastName, Map<String, List<String>> attributes,
                                        Map<String, Boolean> profile) {
        ObjectNode account = forAccess(id, username, attributes::get);
        account.put("email", email);
        account.put("emailVerified", emailVerified);
        account.put("firstName", firstName);
        account.put("lastName", lastName);
        for (Map.Entry<String, List<String>> entry : attributes.entrySet()) {
            String name = entry.getKey();
            if (name == null || HANDLED_ATTRIBUTES.contains(name) || NOT_ACCOUNT_ATTRIBUTES.contains(name)
                    || !profile.containsKey(name)) {
                continue;
            }
            List<String> values = entry.getValue() == null ? List.of()
                    : entry.getValue().stream().filter(v -> v != null && !v.isEmpty()).collect(Collectors.toList());
            if (values.isEmpty()) {
                continue;
            }
            if (Boolean.TRUE.equals(profile.get(name))) {
                ArrayNode array = account.putArray(name);
                values.forEach(array::add);
            } else {
                account.put(name, values.get(0));
            }
        }
        return account;
    }

    private static void putArray(ObjectNode account, String field, List<String> values) {
        ArrayNode array = account.putArray(field);
        if (values != null) {
            values.stream().filter(v -> v != null && !v.isBlank()).forEach(array::add);
        }
    }

    private static List<String> values(UserModel user, String name) {
        return user.getAttributeStream(name).collect(Collectors.toList());
    }

    private static String first(List<String> values) {
        if (values == null) {
            return null;
        }
        return values.stream().filter(v -> v != null && !v.isEmpty()).findFirst().orElse(null);
    }
}
