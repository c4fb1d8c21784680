package org.bizid.keycloak.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.opa.OpaClient;
import org.junit.jupiter.api.Test;

class PrimeInputTest {

    private final List<String> looked = new ArrayList<>();

    private ObjectNode accountOf(String username) {
        looked.add(username);
        if (!"yamada".equals(username)) {
            return null;
        }
        return PrimeInput.record(username, true, Map.of(
                "tier", List.of("prime"), "valid_until", List.of("2030-03-31"),
                "corporate_number", List.of("7000012050002"), "corporate_name", List.of("Yamada KK"),
                "firstName", List.of("Taro"))::get);
    }

    @Test
    void noPrimeUsernameMeansNoRecordAndNoLookup() {
        for (String name : new String[] {null, "", "  "}) {
            assertTrue(PrimeInput.of(name, this::accountOf).record().isNull());
        }
        assertTrue(looked.isEmpty());
    }

    @Test
    void anUnknownUsernameIsSentAsNotFound() throws Exception {
        JsonNode record = PrimeInput.of("nobody", this::accountOf).record();
        assertEquals(OpaClient.json().readTree("{\"username\": \"nobody\", \"found\": false}"), record);
        assertEquals(List.of("nobody"), looked);
    }

    @Test
    void aFoundAccountIsSentWithExactlyTheFactsThePolicyDecidesOn() throws Exception {
        JsonNode record = PrimeInput.of("yamada", this::accountOf).record();
        assertEquals(OpaClient.json().readTree("{\"username\": \"yamada\", \"found\": true, \"tier\": \"prime\","
                + " \"status\": \"active\", \"valid_until\": \"2030-03-31\", \"corporate_number\": \"7000012050002\"}"),
                record);
    }

    @Test
    void unsetAttributesAreNull() {
        ObjectNode record = PrimeInput.record("p", true, name -> null);
        assertTrue(record.get("tier").isNull());
        assertTrue(record.get("valid_until").isNull());
        assertTrue(record.get("corporate_number").isNull());
        assertEquals("active", record.get("status").asText());
    }

    @Test
    void aDisabledOrSuspendedPrimeIsSuspended() {
        assertEquals("suspended", PrimeInput.record("p", false, name -> null).get("status").asText());
        assertEquals("suspended", PrimeInput.record("p", true,
                Map.of("account_status", List.of("suspended"))::get).get("status").asText());
    }

    @Test
    void addToSetsThePrimeField() {
        ObjectNode input = OpaClient.json().createObjectNode();
        PrimeInput.none().addTo(input);
        assertTrue(input.has("prime") && input.get("prime").isNull());
    }
}
