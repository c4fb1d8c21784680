package org.bizid.keycloak.access;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;

import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.OpaResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class AccessDecisionTest {

    private static AccessDecision decide(String opaBody) {
        return AccessDecision.from(OpaClient.parseResponse(200, opaBody.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void allowsOnlyOnLiteralTrue() {
        AccessDecision decision = decide("{\"result\": {\"allow\": true, \"reasons\": []}}");
        assertTrue(decision.allowed());
        assertEquals("", decision.reasonCodes());
    }

    @Test
    void denyCarriesThePolicyReasons() {
        AccessDecision decision = decide("{\"result\": {\"allow\": false, \"reasons\": ["
                + "{\"code\": \"tier_not_accepted\", \"message\": \"This service accepts Prime accounts only.\"},"
                + "{\"code\": \"loa_too_low\", \"message\": \"Sign in with your second factor.\"}]}}");
        assertFalse(decision.allowed());
        assertEquals("tier_not_accepted,loa_too_low", decision.reasonCodes());
        assertEquals("tier_not_accepted: This service accepts Prime accounts only.", decision.errorDescription());
    }

    @Test
    void denyWithoutReasonsStillExplainsItself() {
        AccessDecision decision = decide("{\"result\": {\"allow\": false}}");
        assertFalse(decision.allowed());
        assertEquals(AccessDecision.DENIED_WITHOUT_REASON, decision.reasonCodes());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "{\"result\": {\"allow\": \"true\"}}",
            "{\"result\": {\"allow\": 1}}",
            "{\"result\": {\"allowed\": true}}",
            "{\"result\": {}}",
            "{\"result\": true}",
            "{\"result\": [true]}",
            "{\"result\": null}",
            "{}",
            "not json",
    })
    void anythingElseIsPolicyUnavailable(String body) {
        AccessDecision decision = decide(body);
        assertFalse(decision.allowed());
        assertEquals(AccessDecision.POLICY_UNAVAILABLE, decision.reasonCodes());
        assertTrue(decision.errorDescription().startsWith("policy_unavailable: "), decision.errorDescription());
    }

    @Test
    void transportFailureIsPolicyUnavailable() {
        AccessDecision decision = AccessDecision.from(OpaResult.failed("timeout calling http://127.0.0.1:18181"));
        assertFalse(decision.allowed());
        assertEquals(AccessDecision.POLICY_UNAVAILABLE, decision.reasonCodes());
    }

    @Test
    void malformedReasonsNeverAllow() {
        AccessDecision decision = decide("{\"result\": {\"allow\": false, \"reasons\": [42, {\"message\": \"m\"}, \"plain\"]}}");
        assertFalse(decision.allowed());
        assertEquals("plain", decision.reasonCodes());
    }

    @Test
    void errorDescriptionKeepsToRfc6749Characters() {
        AccessDecision decision = decide("{\"result\": {\"allow\": false, \"reasons\": ["
                + "{\"code\": \"x\", \"message\": \"say \\\"hi\\\" \\\\ 日本\\n\"}]}}");
        assertEquals("x: say 'hi' / ???", decision.errorDescription());
        String longText = "a".repeat(1000);
        assertEquals(300, AccessDecision.oauthSafe(longText).length());
    }
}
