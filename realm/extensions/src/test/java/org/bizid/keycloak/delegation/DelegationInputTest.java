package org.bizid.keycloak.delegation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.opa.OpaClient;
import org.junit.jupiter.api.Test;

class DelegationInputTest {

    private static final String DLG_1 = "{\"id\":\"dlg-1\",\"principal_corporate_number\":\"7000012050002\","
            + "\"granted_by\":\"yamada\",\"delegate_username\":\"tanaka\",\"rp\":\"jgrants\","
            + "\"procedures\":[\"subsidy-report\"],\"not_before\":\"2026-01-01T00:00:00Z\","
            + "\"not_after\":\"2026-12-31T23:59:59Z\",\"revoked\":false}";
    private static final String DLG_2 = DLG_1.replace("dlg-1", "dlg-2").replace("yamada", "sato");
    private static final String LICENCE = "{\"kind\":\"zeirishi\",\"number\":\"123456\","
            + "\"holder_username\":\"tanaka\",\"not_after\":null,\"revoked\":false}";

    private final List<String> looked = new ArrayList<>();

    private ObjectNode grantorOf(String username) {
        looked.add(username);
        return "yamada".equals(username) || "sato".equals(username)
                ? DelegationInput.grantor(username, Map.of(
                        "tier", List.of("prime"), "corporate_number", List.of("7000012050002"),
                        "valid_until", List.of("2030-03-31"), "corporate_name", List.of("Yamada KK"))::get)
                : null;
    }

    @Test
    void noSelectorMeansNoDelegationAtAll() {
        for (String id : new String[] {null, "", "   "}) {
            DelegationInput in = DelegationInput.of(id, List.of(DLG_1), List.of(LICENCE), this::grantorOf);
            assertTrue(in.delegation().isNull());
            assertTrue(in.grantor().isNull());
            assertTrue(in.licences().isNull());
        }
        assertTrue(looked.isEmpty());
    }

    @Test
    void theSelectedRecordComesFromTheAccountWithItsGrantorAndLicences() throws Exception {
        DelegationInput in = DelegationInput.of("dlg-2", List.of("not json", DLG_1, DLG_2), List.of(LICENCE),
                this::grantorOf);
        assertEquals(OpaClient.json().readTree(DLG_2), in.delegation());
        assertEquals(List.of("sato"), looked);
        JsonNode grantor = in.grantor();
        assertEquals("sato", grantor.get("username").asText());
        assertEquals("prime", grantor.get("tier").asText());
        assertEquals("7000012050002", grantor.get("corporate_number").asText());
        assertEquals("active", grantor.get("status").asText());
        assertEquals("2030-03-31", grantor.get("valid_until").asText());
        assertEquals("Yamada KK", grantor.get("corporate_name").asText());
        assertEquals(6, grantor.size());
        assertEquals(1, in.licences().size());
        assertEquals("zeirishi", in.licences().get(0).get("kind").asText());
    }

    @Test
    void anIdNotOnTheAccountIsSentAsABareIdThePolicyCannotAccept() throws Exception {
        DelegationInput in = DelegationInput.of("someone-elses", List.of(DLG_1), List.of(), this::grantorOf);
        assertEquals(OpaClient.json().readTree("{\"id\":\"someone-elses\"}"), in.delegation());
        assertTrue(in.grantor().isNull());
        assertTrue(looked.isEmpty(), "no grantor is looked up for a record the account does not hold");
    }

    @Test
    void anUnknownGrantorIsNull() {
        DelegationInput in = DelegationInput.of("dlg-1", List.of(DLG_1.replace("yamada", "ghost")), List.of(),
                this::grantorOf);
        assertTrue(in.grantor().isNull());
    }

    @Test
    void aBrokenLicenceRecordIsPassedOnForThePolicyToReject() {
        DelegationInput in = DelegationInput.of("dlg-1", List.of(DLG_1), List.of(LICENCE, "{broken", " "),
                this::grantorOf);
        assertEquals(2, in.licences().size());
        assertEquals("{broken", in.licences().get(1).asText());
    }

    @Test
    void addToSetsTheThreeFields() {
        ObjectNode input = OpaClient.json().createObjectNode();
        DelegationInput.none().addTo(input);
        assertTrue(input.get("delegation").isNull() && input.get("grantor").isNull() && input.get("licences").isNull());
    }
}
