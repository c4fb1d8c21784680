package org.bizid.keycloak.profile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ProfileDefaultsTest {

    @Test
    void storesOnlyDefaultsOfUnsetAttributes() {
        Map<String, List<String>> user = new HashMap<>();
        user.put("account_status", List.of("suspended"));
        user.put("branch", List.of(""));
        Map<String, String> defaults = new LinkedHashMap<>();
        defaults.put("tier", "entry");
        defaults.put("account_status", "active");
        defaults.put("branch", "main");

        Map<String, String> stored = ProfileDefaultsAuthenticator.storeDefaults(defaults, user::get,
                (name, value) -> user.put(name, List.of(value)));

        assertEquals(Map.of("tier", "entry", "branch", "main"), stored);
        assertEquals(List.of("entry"), user.get("tier"));
        assertEquals(List.of("suspended"), user.get("account_status"), "a value already set is never overwritten");
    }
}
