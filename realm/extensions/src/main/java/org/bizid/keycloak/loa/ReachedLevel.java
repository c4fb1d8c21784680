package org.bizid.keycloak.loa;

import org.keycloak.authentication.AuthenticatorUtil;
import org.keycloak.authentication.authenticators.util.AcrStore;
import org.keycloak.authentication.authenticators.util.LoAUtil;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.Constants;
import org.keycloak.models.KeycloakSession;
import org.keycloak.services.managers.AuthenticationManager;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * The level of authentication sent to OPA as {@code authn.loa}: the level the token's {@code acr} claim states.
 *
 * Keycloak's {@code AcrProtocolMapper} takes the level recorded on the client session (note
 * {@code level-of-authentication}, set by the "Condition - Level of Authentication" sub-flows) and, when none was
 * recorded (no such sub-flow ran, e.g. the registration flow), uses 1 for a fresh authentication and 0 for an SSO
 * (cookie-only) one. The same rule is applied here, during the flow (auth session) and in the release mapper (client
 * session), so the policy judges the level the RP will be told.
 */
public final class ReachedLevel {

    private ReachedLevel() {
    }

    /** During the flow: the level recorded so far in this authentication. */
    public static int of(KeycloakSession session, AuthenticationSessionModel authSession) {
        int recorded = new AcrStore(session, authSession).getLevelOfAuthenticationFromCurrentAuthentication();
        return effective(recorded, AuthenticatorUtil.isSSOAuthentication(authSession));
    }

    /** After the login (token, userinfo): the level recorded on the client session. */
    public static int of(AuthenticatedClientSessionModel clientSession) {
        int recorded = LoAUtil.getCurrentLevelOfAuthentication(clientSession);
        return effective(recorded, AuthenticationManager.isSSOAuthentication(clientSession));
    }

    /** {@code AcrProtocolMapper}'s rule: a recorded level as is; none recorded: 0 for SSO, else 1. */
    public static int effective(int recorded, boolean sso) {
        if (recorded >= Constants.MINIMUM_LOA) {
            return recorded;
        }
        return sso ? 0 : 1;
    }
}
