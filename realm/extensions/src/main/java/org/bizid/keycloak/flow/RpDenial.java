package org.bizid.keycloak.flow;

import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.events.Errors;
import org.keycloak.protocol.LoginProtocol;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * Ends the login by sending the browser back to the RP with an OAuth error it understands.
 *
 * For OIDC, {@code LoginProtocol.Error.CONSENT_DENIED} is what Keycloak itself uses when a user declines
 * consent; {@code OIDCLoginProtocol} renders it as a redirect to the request's redirect_uri with
 * {@code error=access_denied&error_description=<description>&state=...&iss=...} (query or fragment per
 * response_mode), and drops this tab's authentication session.
 */
public final class RpDenial {

    private static final Logger LOG = Logger.getLogger(RpDenial.class);

    private RpDenial() {
    }

    /**
     * Emits the LOGIN_ERROR event (error {@code access_denied}) with whatever details the caller already put on
     * {@code context.getEvent()}, and ends the flow with the redirect.
     *
     * Uses {@code forceChallenge}, not {@code failure}: {@code failure} counts as a failed login for brute-force
     * protection, so a policy deny or an OPA outage would lock accounts out long after OPA recovered.
     */
    public static void deny(AuthenticationFlowContext context, String errorDescription) {
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        Response response = null;
        try {
            LoginProtocol protocol = context.getSession().getProvider(LoginProtocol.class, authSession.getProtocol());
            if (protocol != null) {
                protocol.setRealm(context.getRealm())
                        .setHttpHeaders(context.getHttpRequest().getHttpHeaders())
                        .setUriInfo(context.getUriInfo())
                        .setEventBuilder(context.getEvent());
                response = protocol.sendError(authSession, LoginProtocol.Error.CONSENT_DENIED, errorDescription);
            }
        } catch (RuntimeException e) {
            LOG.warnf(e, "Could not build the error redirect for client %s; showing an error page instead",
                    authSession.getClient() == null ? "?" : authSession.getClient().getClientId());
        }
        if (response == null) {
            // No usable protocol / redirect: the user at least sees why.
            response = context.form()
                    .setError(errorDescription)
                    .createErrorPage(Response.Status.FORBIDDEN);
        }
        if (context.getUser() != null) {
            context.getEvent().user(context.getUser());
        }
        context.getEvent().error(Errors.ACCESS_DENIED);
        context.forceChallenge(response);
    }
}
