package org.bizid.keycloak.access;

import java.time.Instant;
import java.util.UUID;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.delegation.DelegationInput;
import org.bizid.keycloak.flow.RpDenial;
import org.bizid.keycloak.loa.ReachedLevel;
import org.bizid.keycloak.opa.AccountJson;
import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.OpaResult;
import org.bizid.keycloak.flow.SilentStep;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.models.AuthenticatorConfigModel;
import org.keycloak.models.UserModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * Asks OPA {@code data.bizid.access.decision} whether this account may sign in to this RP now. Runs twice in the
 * browser flow (docs/architecture.md, "Access checks happen twice"): with execution config {@code phase=identified}
 * right after the password step (every rule except the level, so an account that will be refused is refused before
 * it is asked for a second factor), and last, at top level, with {@code phase=complete} (the default; every rule,
 * on every login including SSO). Continues only on {@code "allow": true}; only the last call can admit.
 */
public class BizidAccessAuthenticator extends SilentStep {

    private static final Logger LOG = Logger.getLogger(BizidAccessAuthenticator.class);

    static final String DECISION_PATH = "bizid/access/decision";

    /** Event details joining Keycloak's login events to OPA's decision log. */
    public static final String DETAIL_DECISION_ID = "bizid_decision_id";
    public static final String DETAIL_REASONS = "bizid_reasons";

    public static final String DETAIL_PHASE = "bizid_phase";
    public static final String DETAIL_DELEGATION = "bizid_delegation";
    public static final String DETAIL_PROCEDURE = "bizid_procedure";

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
        String phase = AccessInput.phase(configValue(context, BizidAccessAuthenticatorFactory.CONFIG_PHASE));
        // The RP's selector (authorization request parameter delegation=<id>); only ever looked up on this user.
        String delegationId = DelegationInput.normaliseId(
                authSession.getClientNote(DelegationInput.REQUEST_PARAM_NOTE));
        // Recorded for bizid-release (copied to the client session at login, overwriting an earlier login's).
        authSession.setClientNote(DelegationInput.SELECTED_NOTE, delegationId == null ? "" : delegationId);
        // The procedure the RP names (procedure=<id>); judged by the policy, recorded like the delegation.
        String procedure = ProcedureInput.normalise(authSession.getClientNote(ProcedureInput.REQUEST_PARAM_NOTE));
        authSession.setClientNote(ProcedureInput.SELECTED_NOTE, procedure == null ? "" : procedure);

        AccessDecision decision;
        if (user == null) {
            // requiresUser() makes this unreachable in a sane flow; still never allow without an account.
            decision = AccessDecision.deny("no_account", "No account was identified before the access check.");
        } else {
            ObjectNode input = AccessInput.build(
                    clientId,
                    AccountJson.forAccess(user),
                    ReachedLevel.of(context.getSession(), authSession),
                    phase,
                    DelegationInput.lookup(context.getSession(), context.getRealm(), user, delegationId),
                    PrimeInput.lookup(context.getSession(), context.getRealm(), user),
                    Instant.now(),
                    decisionId);
            ProcedureInput.addTo(input, procedure);
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
                .detail(DETAIL_PHASE, phase)
                .detail(DETAIL_REASONS, decision.reasonCodes());
        if (delegationId != null) {
            context.getEvent().detail(DETAIL_DELEGATION, delegationId);
        }
        if (procedure != null) {
            context.getEvent().detail(DETAIL_PROCEDURE, procedure);
        }
        String username = user == null ? null : user.getUsername();
        if (decision.allowed()) {
            LOG.debugf("bizid access %s (%s): client=%s user=%s -> %s", decisionId, phase, clientId, username, decision);
            context.success();
        } else {
            LOG.infof("bizid access %s (%s): client=%s user=%s -> %s", decisionId, phase, clientId, username, decision);
            RpDenial.deny(context, decision.errorDescription());
        }
    }

    private String opaUrl(AuthenticationFlowContext context) {
        return OpaClient.resolveBaseUrl(configValue(context, BizidAccessAuthenticatorFactory.CONFIG_OPA_URL), spiOpaUrl);
    }

    private static String configValue(AuthenticationFlowContext context, String key) {
        AuthenticatorConfigModel config = context.getAuthenticatorConfig();
        return config == null || config.getConfig() == null ? null : config.getConfig().get(key);
    }
}
