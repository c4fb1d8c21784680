package org.bizid.keycloak.session;

import java.time.Instant;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.access.AccessDecision;
import org.bizid.keycloak.access.AccessInput;
import org.bizid.keycloak.access.PrimeInput;
import org.bizid.keycloak.access.ProcedureInput;
import org.bizid.keycloak.delegation.DelegationInput;
import org.bizid.keycloak.loa.ReachedLevel;
import org.bizid.keycloak.opa.AccountJson;
import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.OpaResult;
import org.jboss.logging.Logger;
import org.keycloak.OAuth2Constants;
import org.keycloak.OAuthErrorException;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.representations.RefreshToken;
import org.keycloak.representations.idm.ClientPolicyExecutorConfigurationRepresentation;
import org.keycloak.services.clientpolicy.ClientPolicyContext;
import org.keycloak.services.clientpolicy.ClientPolicyException;
import org.keycloak.services.clientpolicy.context.TokenRefreshContext;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.util.TokenUtil;

/**
 * Client-policy executor {@code bizid-access-recheck}: before Keycloak refreshes a token, asks OPA
 * {@code data.bizid.access.decision} again on the account's <em>current</em> facts (same input as the
 * {@code bizid-access} authenticator, phase complete, with the level and the delegation of the session). When the
 * policy does not allow it, or cannot decide, the refresh fails with {@code invalid_grant} and the user session ends
 * (docs/claims.md, "Withdrawal"): a suspension, an expiry or a revoked delegation takes effect at the RP's next
 * refresh instead of yielding tokens without claims.
 */
public class AccessRecheckExecutor implements ClientPolicyExecutorProvider<AccessRecheckExecutor.Configuration> {

    private static final Logger LOG = Logger.getLogger(AccessRecheckExecutor.class);

    static final String DECISION_PATH = "bizid/access/decision";

    /** Executor configuration in the client-policy profile: {@code {"opaUrl": "http://..."}} (optional). */
    public static class Configuration extends ClientPolicyExecutorConfigurationRepresentation {
        @JsonProperty("opaUrl")
        protected String opaUrl;

        public String getOpaUrl() {
            return opaUrl;
        }

        public void setOpaUrl(String opaUrl) {
            this.opaUrl = opaUrl;
        }
    }

    private final KeycloakSession session;
    private final OpaClient opa;
    private final String spiOpaUrl;
    private Configuration configuration = new Configuration();

    AccessRecheckExecutor(KeycloakSession session, OpaClient opa, String spiOpaUrl) {
        this.session = session;
        this.opa = opa;
        this.spiOpaUrl = spiOpaUrl;
    }

    @Override
    public String getProviderId() {
        return AccessRecheckExecutorFactory.ID;
    }

    @Override
    public Class<Configuration> getExecutorConfigurationClass() {
        return Configuration.class;
    }

    @Override
    public void setupConfiguration(Configuration config) {
        this.configuration = config == null ? new Configuration() : config;
    }

    @Override
    public void executeOnEvent(ClientPolicyContext context) throws ClientPolicyException {
        switch (context.getEvent()) {
            case TOKEN_REFRESH:
                recheck(((TokenRefreshContext) context).getParams().getFirst(OAuth2Constants.REFRESH_TOKEN));
                return;
            default:
                return;
        }
    }

    private void recheck(String encodedRefreshToken) throws ClientPolicyException {
        RealmModel realm = session.getContext().getRealm();
        ClientModel client = session.getContext().getClient();
        if (encodedRefreshToken == null || realm == null || client == null) {
            return; // Keycloak refuses the request itself
        }
        RefreshToken token = session.tokens().decode(encodedRefreshToken, RefreshToken.class);
        if (token == null || token.getSessionId() == null) {
            return; // not a valid refresh token of this realm: Keycloak refuses it itself
        }
        boolean offline = TokenUtil.TOKEN_TYPE_OFFLINE.equals(token.getType());
        UserSessionModel userSession = offline
                ? session.sessions().getOfflineUserSession(realm, token.getSessionId())
                : session.sessions().getUserSession(realm, token.getSessionId());
        if (userSession == null || userSession.getUser() == null) {
            return; // session gone: Keycloak refuses the refresh itself
        }
        UserModel user = userSession.getUser();
        AuthenticatedClientSessionModel clientSession = userSession.getAuthenticatedClientSessionByClient(client.getId());
        if (clientSession == null) {
            return; // Keycloak refuses a refresh without a client session itself
        }
        String decisionId = UUID.randomUUID().toString();
        String delegationId = DelegationInput.normaliseId(clientSession.getNote(DelegationInput.SELECTED_NOTE));
        ObjectNode input = AccessInput.build(
                client.getClientId(),
                AccountJson.forAccess(user),
                ReachedLevel.of(clientSession),
                AccessInput.PHASE_COMPLETE,
                DelegationInput.lookup(session, realm, user, delegationId),
                PrimeInput.lookup(session, realm, user),
                Instant.now(),
                decisionId);
        // The procedure judged at sign-in: a refresh re-checks exactly it and can never name another.
        ProcedureInput.addTo(input, ProcedureInput.normalise(clientSession.getNote(ProcedureInput.SELECTED_NOTE)));
        OpaResult result = opa.query(OpaClient.resolveBaseUrl(configuration.getOpaUrl(), spiOpaUrl), DECISION_PATH, input);
        AccessDecision decision = AccessDecision.from(result);
        if (decision.allowed()) {
            LOG.debugf("bizid refresh %s: client=%s user=%s -> %s", decisionId, client.getClientId(), user.getUsername(), decision);
            return;
        }
        if (!result.isOk()) {
            LOG.warnf("OPA access decision %s (refresh) failed, ending the session: %s", decisionId, result.failure());
        }
        LOG.infof("bizid refresh %s: client=%s user=%s -> %s; session ended", decisionId, client.getClientId(),
                user.getUsername(), decision);
        if (offline) {
            session.sessions().removeOfflineUserSession(realm, userSession);
        } else {
            session.sessions().removeUserSession(realm, userSession);
        }
        throw new ClientPolicyException(OAuthErrorException.INVALID_GRANT,
                "access withdrawn (" + decision.errorDescription() + "); decision " + decisionId);
    }
}
