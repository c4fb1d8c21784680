package org.bizid.keycloak.access;

import java.time.Instant;
import java.util.UUID;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.flow.RpDenial;
import org.bizid.keycloak.opa.AccountJson;
import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.OpaResult;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.authenticators.util.AcrStore;
import org.keycloak.models.AuthenticatorConfigModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * Last step of the browser flow: asks OPA {@code data.bizid.access.decision} whether this account may sign in
 * to this RP now, on every login including SSO (cookie) logins. Allows only on {@code "allow": true}.
 */
public class BizidAccessAuthenticator implements Authenticator {

    private static final Logger LOG = Logger.getLogger(BizidAccessAuthenticator.class);

    static final String DECISION_PATH = "bizid/access/decision";

    /** Event details joining Keycloak's login events to OPA's decision log. */
    public static final String DETAIL_DECISION_ID = "bizid_decision_id";
    public static final String DETAIL_REASONS = "bizid_reasons";

    /**
     * Hook for delegation (not used yet): an auth-session note holding the delegation as a JSON object.
     * A future step (e.g. a "file on behalf of" chooser) verifies the delegation and sets this note;
     * until then the input carries {@code "delegation": null}. A raw request parameter is deliberately
     * not trusted here, since anyone can put one on an authorization request.
     */
    public static final String DELEGATION_NOTE = "delegation";

    private final OpaClient opa;
    private final String spiOpaUrl;

    BizidAccessAuthenticator(OpaClient opa, String spiOpaUrl) {
        this.opa = opa;
        this.spiOpaUrl = spiOpaUrl;
    }

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        UserModel user = context.getUser();
        String clientId = authSession.getClient().getClientId();
        String decisionId = UUID.randomUUID().toString();

        AccessDecision decision;
        if (user == null) {
            // requiresUser() makes this unreachable in a sane flow; still never allow without an account.
            decision = AccessDecision.deny("no_account", "No account was identified before the access check.");
        } else {
            ObjectNode input = AccessInput.build(
                    clientId,
                    AccountJson.forAccess(user),
                    new AcrStore(context.getSession(), authSession).getLevelOfAuthenticationFromCurrentAuthentication(),
                    delegation(authSession),
                    Instant.now(),
                    decisionId);
            OpaResult result = opa.query(opaUrl(context), DECISION_PATH, input);
            if (!result.isOk()) {
                LOG.warnf("OPA access decision %s failed, denying: %s", decisionId, result.failure());
            }
            decision = AccessDecision.from(result);
            if (result.isOk() && decision.reasonCodes().equals(AccessDecision.POLICY_UNAVAILABLE)) {
                LOG.warnf("OPA access decision %s is malformed, denying: %s", decisionId, result.result());
            }
        }

        context.getEvent()
                .detail(DETAIL_DECISION_ID, decisionId)
                .detail(DETAIL_REASONS, decision.reasonCodes());
        String username = user == null ? null : user.getUsername();
        if (decision.allowed()) {
            LOG.debugf("bizid access %s: client=%s user=%s -> %s", decisionId, clientId, username, decision);
            context.success();
        } else {
            LOG.infof("bizid access %s: client=%s user=%s -> %s", decisionId, clientId, username, decision);
            RpDenial.deny(context, decision.errorDescription());
        }
    }

    private String opaUrl(AuthenticationFlowContext context) {
        AuthenticatorConfigModel config = context.getAuthenticatorConfig();
        String configured = config == null || config.getConfig() == null
                ? null : config.getConfig().get(BizidAccessAuthenticatorFactory.CONFIG_OPA_URL);
        return OpaClient.resolveBaseUrl(configured, spiOpaUrl);
    }

    // A malformed note must not become "no delegation" silently for the policy: send it as a string, which the
    // policy will not accept as a delegation object.
    private static JsonNode delegation(AuthenticationSessionModel authSession) {
        String note = authSession.getAuthNote(DELEGATION_NOTE);
        if (note == null || note.isBlank()) {
            return null;
        }
        try {
            return OpaClient.json().readTree(note);
        } catch (Exception e) {
            return OpaClient.json().getNodeFactory().textNode(note);
        }
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        // No form: everything happens in authenticate().
    }

    @Override
    public boolean requiresUser() {
        return true;
    }

    @Override
    public boolean configuredFor(KeycloakSession session, RealmModel realm, UserModel user) {
        return true;
    }

    @Override
    public void setRequiredActions(KeycloakSession session, RealmModel realm, UserModel user) {
    }

    @Override
    public void close() {
    }
}
