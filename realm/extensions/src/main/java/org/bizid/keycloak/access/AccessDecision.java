package org.bizid.keycloak.access;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import org.bizid.keycloak.opa.OpaResult;

/**
 * The access decision as Keycloak acts on it. Contract (docs/architecture.md):
 * {@code {"allow": bool, "reasons": [{"code", "message"}]}}; anything else is a deny.
 */
public final class AccessDecision {

    /** Reason code when OPA gave no usable answer (down, slow, error, malformed). */
    public static final String POLICY_UNAVAILABLE = "policy_unavailable";
    /** Reason code when the policy said no but gave no reason. */
    public static final String DENIED_WITHOUT_REASON = "access_denied";

    private final boolean allow;
    private final List<Reason> reasons;

    private AccessDecision(boolean allow, List<Reason> reasons) {
        this.allow = allow;
        this.reasons = Collections.unmodifiableList(reasons);
    }

    public static final class Reason {
        private final String code;
        private final String message;

        public Reason(String code, String message) {
            this.code = code;
            this.message = message;
        }

        public String code() {
            return code;
        }

        public String message() {
            return message;
        }

        @Override
        public String toString() {
            return message == null || message.isEmpty() ? code : code + ": " + message;
        }
    }

    /** {@code why} is for the server log only; the RP and the user just learn that the policy is unavailable. */
    public static AccessDecision unavailable(String why) {
        return new AccessDecision(false, List.of(new Reason(POLICY_UNAVAILABLE,
                "The access policy could not be evaluated; access is denied until it can.")));
    }

    public static AccessDecision deny(String code, String message) {
        return new AccessDecision(false, List.of(new Reason(code, message)));
    }

    /** Allow only when the result is an object whose {@code allow} is the JSON literal {@code true}. */
    public static AccessDecision from(OpaResult opa) {
        if (!opa.isOk()) {
            return unavailable(opa.failure());
        }
        JsonNode result = opa.result();
        if (!result.isObject()) {
            return unavailable("decision is not an object");
        }
        JsonNode allow = result.get("allow");
        if (allow == null || !allow.isBoolean()) {
            return unavailable("decision has no boolean 'allow'");
        }
        List<Reason> reasons = parseReasons(result.get("reasons"));
        if (allow.booleanValue()) {
            return new AccessDecision(true, reasons);
        }
        if (reasons.isEmpty()) {
            reasons = List.of(new Reason(DENIED_WITHOUT_REASON, "Access denied by policy."));
        }
        return new AccessDecision(false, reasons);
    }

    // Malformed reasons never turn a deny into an allow; they are just dropped.
    private static List<Reason> parseReasons(JsonNode node) {
        List<Reason> reasons = new ArrayList<>();
        if (node == null || !node.isArray()) {
            return reasons;
        }
        for (JsonNode item : node) {
            if (item.isObject() && item.path("code").isTextual()) {
                JsonNode message = item.get("message");
                reasons.add(new Reason(item.get("code").asText(),
                        message != null && message.isTextual() ? message.asText() : ""));
            } else if (item.isTextual()) {
                reasons.add(new Reason(item.asText(), ""));
            }
        }
        return reasons;
    }

    public boolean allowed() {
        return allow;
    }

    public List<Reason> reasons() {
        return reasons;
    }

    /** Comma-separated reason codes, for the event detail {@code bizid_reasons}. */
    public String reasonCodes() {
        return reasons.stream().map(Reason::code).collect(Collectors.joining(","));
    }

    /**
     * The RP-facing {@code error_description}: the first reason as "code: message", reduced to the
     * characters RFC 6749 allows there (%x20-21 / %x23-5B / %x5D-7E).
     */
    public String errorDescription() {
        String text = reasons.isEmpty() ? DENIED_WITHOUT_REASON : reasons.get(0).toString();
        return oauthSafe(text);
    }

    static String oauthSafe(String text) {
        StringBuilder out = new StringBuilder(Math.min(text.length(), 300));
        for (int i = 0; i < text.length() && out.length() < 300; i++) {
            char c = text.charAt(i);
            boolean allowed = c >= 0x20 && c <= 0x7E && c != '"' && c != '\\';
            out.append(allowed ? c : (c == '"' ? '\'' : c == '\\' ? '/' : '?'));
        }
        return out.toString();
    }

    @Override
    public String toString() {
        return (allow ? "allow" : "deny") + " " + reasons;
    }
}
