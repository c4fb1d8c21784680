package org.bizid.keycloak.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.opa.AccountJson;
import org.junit.jupiter.api.Test;

class ProcedureInputTest {

    private static ObjectNode input() {
        return AccessInput.build("jgrants", AccountJson.forAccess("u", "n", name -> null), 2,
                AccessInput.PHASE_COMPLETE, null, null, Instant.EPOCH, "id");
    }

    @Test
    void theNamedProcedureGoesUnderRp() {
        ObjectNode input = ProcedureInput.addTo(input(), "subsidy-report");
        assertEquals("jgrants", input.path("rp").path("client_id").asText());
        assertEquals("subsidy-report", input.path("rp").path("procedure").asText());
    }

    @Test
    void noProcedureIsAnExplicitNull() {
        ObjectNode input = ProcedureInput.addTo(input(), null);
        assertTrue(input.path("rp").has("procedure"));
        assertTrue(input.path("rp").get("procedure").isNull());
    }

    @Test
    void blankIsNoneAndAnythingElseIsPassedOnForThePolicyToJudge() {
        assertNull(ProcedureInput.normalise(null));
        assertNull(ProcedureInput.normalise(""));
        assertNull(ProcedureInput.normalise("  "));
        assertEquals("subsidy-report", ProcedureInput.normalise(" subsidy-report "));
        // Not validated here: an unknown or odd value reaches OPA, which refuses it (unknown_procedure).
        assertEquals("x y/../z", ProcedureInput.normalise("x y/../z"));
    }
}
