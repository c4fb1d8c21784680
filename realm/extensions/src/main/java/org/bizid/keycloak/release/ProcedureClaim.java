package org.bizid.keycloak.release;

import org.bizid.keycloak.access.ProcedureInput;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.representations.IDToken;

/**
 * The {@code procedure} claim: the procedure {@code bizid-access} judged at this sign-in (docs/rp-guide.md). It comes
 * only from the client note the authenticator set, never from the policy's claims or the request, and only with a
 * release the policy made for that procedure (the release input carries it as {@code rp.procedure}; nothing when OPA
 * gave no answer or refused every claim), so a token names at most the one procedure that was allowed, and the RP
 * cannot swap it after sign-in.
 */
final class ProcedureClaim {

    private ProcedureClaim() {
    }

    static void set(IDToken token, ReleaseDecision decision, ClientSessionContext clientSessionCtx) {
        token.getOtherClaims().remove(ProcedureInput.CLAIM);
        String procedure = procedure(clientSessionCtx);
        if (procedure != null && released(decision)) {
            token.getOtherClaims().put(ProcedureInput.CLAIM, procedure);
        }
    }

    static boolean released(ReleaseDecision decision) {
        return decision != ReleaseDecision.nothing() && decision.refusal() == null;
    }

    static String procedure(ClientSessionContext clientSessionCtx) {
        AuthenticatedClientSessionModel clientSession = clientSessionCtx == null ? null
                : clientSessionCtx.getClientSession();
        return clientSession == null ? null
                : ProcedureInput.normalise(clientSession.getNote(ProcedureInput.SELECTED_NOTE));
    }
}
