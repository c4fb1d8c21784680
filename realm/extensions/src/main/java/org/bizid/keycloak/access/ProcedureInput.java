package org.bizid.keycloak.access;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The procedure the RP names for this sign-in (docs/rp-guide.md, "Naming the procedure"): the authorization request
 * parameter {@code procedure=<id>}, sent to OPA as {@code input.rp.procedure} and judged there (an unknown value is
 * refused for every tier; a Member needs a permission for it or for the whole RP). Like the delegation selector, the
 * value judged at the sign-in is recorded as a client note, so the token refresh re-checks exactly it and
 * {@code bizid-release} releases exactly it as the {@code procedure} claim; the RP cannot swap it afterwards.
 */
public final class ProcedureInput {

    /** Keycloak keeps an unknown authorization request parameter as this auth-session client note. */
    public static final String REQUEST_PARAM_NOTE = "client_request_param_procedure";

    /**
     * Client note {@code bizid-access} sets on every sign-in: the procedure it judged, or "" for none. Copied to the
     * client session at login (overwriting what an earlier login at the same client left).
     */
    public static final String SELECTED_NOTE = "bizid.procedure";

    /** The claim the procedure judged at sign-in is released as. */
    public static final String CLAIM = "procedure";

    private ProcedureInput() {
    }

    /** Null or blank: no procedure named. Otherwise the value as sent (trimmed); the policy judges it. */
    public static String normalise(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    /** Sets {@code rp.procedure} on an OPA input built by {@link AccessInput#build} (null: none named). */
    public static ObjectNode addTo(ObjectNode input, String procedure) {
        ObjectNode rp = input.with("rp");
        if (procedure == null) {
            rp.putNull("procedure");
        } else {
            rp.put("procedure", procedure);
        }
        return input;
    }
}
