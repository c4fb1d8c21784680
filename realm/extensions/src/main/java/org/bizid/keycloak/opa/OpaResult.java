package org.bizid.keycloak.opa;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Outcome of one OPA query: either the document under {@code result}, or why there is none.
 * Callers turn a failure into their own fail-closed answer (deny / release nothing).
 */
public final class OpaResult {

    private final JsonNode result;
    private final String failure;

    private OpaResult(JsonNode result, String failure) {
        this.result = result;
        this.failure = failure;
    }

    public static OpaResult ok(JsonNode result) {
        if (result == null) {
            throw new IllegalArgumentException("result must not be null");
        }
        return new OpaResult(result, null);
    }

    public static OpaResult failed(String failure) {
        return new OpaResult(null, failure);
    }

    public boolean isOk() {
        return result != null;
    }

    /** The {@code result} document; only when {@link #isOk()}. */
    public JsonNode result() {
        return result;
    }

    /** Short, log-friendly reason; only when not {@link #isOk()}. */
    public String failure() {
        return failure;
    }

    @Override
    public String toString() {
        return isOk() ? "OpaResult[ok]" : "OpaResult[failed: " + failure + "]";
    }
}
