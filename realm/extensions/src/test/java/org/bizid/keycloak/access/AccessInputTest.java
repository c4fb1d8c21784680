package org.bizid.keycloak.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.delegation.DelegationInput;
import org.bizid.keycloak.opa.AccountJson;
import org.bizid.keycloak.opa.OpaClient;
import org.junit.jupiter.api.Test;

class AccessInputTest {

    @Test
    void matchesTheContractShape() throws Exception {
        Map<String, List<String>> attributes = Map.of(
                "tier", List.of("provisional-prime"),
                "valid_until", List.of("2030-03-31"),
                "corporate_number", List.of("7000012050002"),
                "provisional_rps", List.of("it-subsidy", "jgrants"));
        ObjectNode account = AccountJson.forAccess("u-1", "taro", attributes::get);
        ObjectNode input = AccessInput.build("jgrants", account, 2, AccessInput.PHASE_COMPLETE, null, null,
                Instant.parse("2026-04-01T09:30:00.123Z"), "6f1c1f0e-0000-4000-8000-000000000000");

        JsonNode expected = OpaClient.json().readTree("{"
                + "\"rp\": {\"client_id\": \"jgrants\"},"
                + "\"account\": {\"id\": \"u-1\", \"username\": \"taro\", \"tier\": \"provisional-prime\","
                + "  \"status\": \"active\", \"valid_until\": \"2030-03-31\", \"corporate_number\": \"7000012050002\","
                + "  \"prime_username\": null, \"provisional_rps\": [\"it-subsidy\", \"jgrants\"], \"member_permissions\": []},"
                + "\"authn\": {\"loa\": 2, \"phase\": \"complete\"},"
                + "\"delegation\": null, \"grantor\": null, \"licences\": null, \"prime\": null,"
                + "\"now\": \"2026-04-01T09:30:00Z\","
                + "\"decision_id\": \"6f1c1f0e-0000-4000-8000-000000000000\"}");
        assertEquals(expected, input);
    }

    @Test
    void statusComesFromAccountStatus() {
        ObjectNode account = AccountJson.forAccess("u", "n",
                Map.of("account_status", List.of("suspended"))::get);
        assertEquals("suspended", account.get("status").asText());
        assertTrue(account.get("provisional_rps").isArray());
        assertEquals(0, account.get("provisional_rps").size());
        assertTrue(account.get("tier").isNull());
    }

    @Test
    void delegationIsPassedThrough() {
        DelegationInput delegation = DelegationInput.of("d-1", List.of("{\"id\":\"d-1\",\"granted_by\":\"p\"}"),
                List.of(), username -> OpaClient.json().createObjectNode().put("username", username));
        ObjectNode input = AccessInput.build("rp", AccountJson.forAccess("u", "n", name -> null), 1,
                AccessInput.PHASE_IDENTIFIED, delegation, null, Instant.EPOCH, "id");
        assertEquals("d-1", input.path("delegation").path("id").asText());
        assertEquals("p", input.path("grantor").path("username").asText());
        assertTrue(input.get("licences").isArray());
        assertEquals("identified", input.path("authn").path("phase").asText());
        assertEquals("1970-01-01T00:00:00Z", input.get("now").asText());
    }

    @Test
    void theIssuingPrimesRecordIsPassedThrough() {
        PrimeInput prime = PrimeInput.of("yamada", username -> PrimeInput.record(username, true,
                Map.of("tier", List.of("prime"), "account_status", List.of("suspended"))::get));
        ObjectNode input = AccessInput.build("rp", AccountJson.forAccess("u", "n", name -> null), 2,
                AccessInput.PHASE_COMPLETE, null, prime, Instant.EPOCH, "id");
        assertEquals("yamada", input.path("prime").path("username").asText());
        assertEquals("suspended", input.path("prime").path("status").asText());
        assertTrue(input.path("prime").path("found").asBoolean());
    }

    @Test
    void phaseIsIdentifiedOnlyWhenSaidSoElseComplete() {
        assertEquals("identified", AccessInput.phase("identified"));
        assertEquals("identified", AccessInput.phase(" identified "));
        assertEquals("complete", AccessInput.phase(null));
        assertEquals("complete", AccessInput.phase("complete"));
        // A typo must not switch off the level check: anything unknown is the strict phase.
        assertEquals("complete", AccessInput.phase("identifed"));
        assertEquals("complete", AccessInput.phase(""));
    }
}
