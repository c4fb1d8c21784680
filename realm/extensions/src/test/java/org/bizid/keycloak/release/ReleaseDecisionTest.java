package org.bizid.keycloak.release;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.OpaResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ReleaseDecisionTest {

    private static ReleaseDecision decide(String body) {
        return ReleaseDecision.from(OpaClient.parseResponse(200, body.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void releasesExactlyTheReturnedClaims() {
        ReleaseDecision decision = decide("{\"result\": {\"claims\": {"
                + "\"corporate_number\": \"7000012050002\", \"email_verified\": true, \"account_type\": 2,"
                + "\"address\": {\"locality\": \"Chiyoda\"}, \"rps\": [\"a\", \"b\"], \"dropped\": null}}}");
        Map<String, Object> claims = decision.claims();
        assertEquals(Set.of("corporate_number", "email_verified", "account_type", "address", "rps"), claims.keySet());
        assertEquals("7000012050002", claims.get("corporate_number"));
        assertEquals(Boolean.TRUE, claims.get("email_verified"));
        assertEquals(2, claims.get("account_type"));
        assertEquals(Map.of("locality", "Chiyoda"), claims.get("address"));
        assertEquals(List.of("a", "b"), claims.get("rps"));
    }

    @Test
    void aStringAddressIsReleasedAsTheStandardObjectForm() {
        // Keycloak's userinfo endpoint reads "address" as an AddressClaimSet; a bare string made it answer 500.
        ReleaseDecision decision = decide("{\"result\": {\"claims\": {\"address\": \"1-3-1 Kasumigaseki\"}}}");
        assertEquals(Map.of("formatted", "1-3-1 Kasumigaseki"), decision.claims().get("address"));
        ReleaseDecision odd = decide("{\"result\": {\"claims\": {\"address\": [\"x\"], \"name\": \"n\"}}}");
        assertEquals(Set.of("name"), odd.claims().keySet());
        assertEquals(Set.of("address"), odd.refused());
    }

    @Test
    void theRefusalReasonIsKeptForTheLog() {
        ReleaseDecision decision = decide("{\"result\": {\"claims\": {}, \"withheld\": [{\"claim\": \"*\","
                + "\"scope\": \"*\", \"reason\": \"malformed_input\", \"message\": \"input.now must be\"}]}}");
        assertEquals("malformed_input: input.now must be", decision.refusal());
    }

    @Test
    void protocolClaimsAreNeverOverwritten() {
        ReleaseDecision decision = decide("{\"result\": {\"claims\": {\"sub\": \"evil\", \"acr\": \"aal2\", \"name\": \"n\"}}}");
        assertEquals(Set.of("name"), decision.claims().keySet());
        assertEquals(Set.of("acr", "sub"), decision.refused());
    }

    @ParameterizedTest
    @ValueSource(strings = {"{}", "{\"result\": {}}", "{\"result\": {\"claims\": [\"x\"]}}",
            "{\"result\": {\"claims\": \"x\"}}", "{\"result\": true}", "garbage"})
    void anythingElseReleasesNothing(String body) {
        assertTrue(decide(body).claims().isEmpty());
    }

    @Test
    void transportFailureReleasesNothing() {
        assertTrue(ReleaseDecision.from(OpaResult.failed("connection refused")).claims().isEmpty());
    }
}
