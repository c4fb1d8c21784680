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

        ObjectNode account = AccountJson.forRelease("u-1", "taro", "taro@example.jp", true, "Taro", "Yamada", attributes);

        assertEquals("u-1", account.get("id").asText());
        assertEquals("taro", account.get("username").asText());
        assertEquals("taro@example.jp", account.get("email").asText());
        assertTrue(account.get("emailVerified").booleanValue());
        assertEquals("Taro", account.get("firstName").asText());
        assertEquals("Yamada", account.get("lastName").asText());
        assertEquals("prime", account.get("tier").asText());
        assertEquals("active", account.get("status").asText());
        assertEquals("Example KK", account.get("corporate_name").asText());
        assertEquals(2, account.get("phone_number").size());
        assertEquals(1, account.get("provisional_rps").size());
        assertFalse(account.has("branch"));
    }
}
