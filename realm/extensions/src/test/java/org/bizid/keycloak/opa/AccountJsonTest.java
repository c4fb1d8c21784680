package org.bizid.keycloak.opa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

class AccountJsonTest {

    @Test
    void releaseAccountHasProfileFieldsAndEveryAttribute() {
        Map<String, List<String>> attributes = new LinkedHashMap<>();
        attributes.put("username", List.of("taro"));
        attributes.put("email", List.of("taro@example.jp"));
        attributes.put("tier", List.of("prime"));
        attributes.put("corporate_name", List.of("Example KK"));
        attributes.put("branch", List.of());
        attributes.put("provisional_rps", List.of("it-subsidy"));
        attributes.put("phone_number", List.of("+81300000000", "+81300000001"));
        attributes.put("delegations", List.of("{\"id\":\"d-1\"}"));
        attributes.put("licences", List.of("{\"kind\":\"zeirishi\"}"));
        attributes.put("disabled_reason", List.of("internal"));
        Map<String, Boolean> profile = Map.of("tier", false, "corporate_name", false, "branch", false,
                "provisional_rps", true, "phone_number", false, "delegations", true, "licences", true);

        ObjectNode account = AccountJson.forRelease("u-1", "taro", "taro@example.jp", true, "Taro", "Yamada",
                attributes, profile);

        assertEquals("u-1", account.get("id").asText());
        assertEquals("taro", account.get("username").asText());
        assertEquals("taro@example.jp", account.get("email").asText());
        assertTrue(account.get("emailVerified").booleanValue());
        assertEquals("Taro", account.get("firstName").asText());
        assertEquals("Yamada", account.get("lastName").asText());
        assertEquals("prime", account.get("tier").asText());
        assertEquals("active", account.get("status").asText());
        assertEquals("Example KK", account.get("corporate_name").asText());
        // Single-valued attributes are scalars (the first value), whatever is stored; multivalued ones arrays.
        assertTrue(account.get("phone_number").isTextual());
        assertEquals("+81300000000", account.get("phone_number").asText());
        assertTrue(account.get("provisional_rps").isArray());
        assertEquals(1, account.get("provisional_rps").size());
        assertFalse(account.has("branch"));
        // Records with their own input fields, and attributes the profile does not declare, are not sent.
        assertFalse(account.has("delegations"));
        assertFalse(account.has("licences"));
        assertFalse(account.has("disabled_reason"));
    }

    @Test
    void accessAccountCarriesTheMembersPermissions() {
        Map<String, List<String>> attributes = new LinkedHashMap<>();
        attributes.put("tier", List.of("member"));
        attributes.put("member_permissions", List.of("jgrants", "", "shaho/insurance-notification"));

        ObjectNode account = AccountJson.forAccess("u-2", "jiro", attributes::get);

        assertTrue(account.get("member_permissions").isArray());
        assertEquals(2, account.get("member_permissions").size());
        assertEquals("jgrants", account.get("member_permissions").get(0).asText());
        assertEquals("shaho/insurance-notification", account.get("member_permissions").get(1).asText());
        // Unset: an empty array (no permission at all), never absent.
        ObjectNode none = AccountJson.forAccess("u-3", "saburo", name -> null);
        assertEquals(0, none.get("member_permissions").size());
    }
}
