package org.bizid.keycloak.enrolment;

import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;

import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.AuthenticationFlowError;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * {@code bizid-enrolment-code}: after an operator reset (the account's second factor removed and a one-time code
 * sent out of band), a new second factor may only be set up once the holder has typed that code. Put it in the
 * browser flow's "no second factor yet" sub-flow, before the OTP set-up. A password alone therefore never binds a new
 * device to a reset account.
 *
 * <ul>
 * <li>no {@code enrolment_code} attribute: no reset is pending; the step passes (first enrolment of a new account);
 * <li>issued and not expired: the code form; a right code marks the record {@code used} (consumed) and passes; a
 * wrong one counts an attempt, and at {@link #MAX_ATTEMPTS} locks the record;
 * <li>expired, used, locked or unreadable: refused; the holder asks the operations centre for a new code.
 * </ul>
 * A consumed code stays on the account as {@code used}: a holder who stops before the OTP set-up cannot come back on
 * the password alone.
 */
public class EnrolmentCodeAuthenticator implements Authenticator {

    public static final int MAX_ATTEMPTS = 5;
    static final String FIELD = "enrolment_code";
    static final String TEMPLATE = "bizid-enrolment-code.ftl";

    private static final Logger LOG = Logger.getLogger(EnrolmentCodeAuthenticator.class);

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        String stored = user.getFirstAttribute(EnrolmentCode.ATTRIBUTE);
        if (stored == null || stored.isBlank()) {
            context.success();
            return;
        }
        EnrolmentCode code = EnrolmentCode.parse(stored);
        String refusal = refusal(code);
        if (refusal != null) {
            refuse(context, refusal);
            return;
        }
        context.challenge(form(context, null));
    }

    @Override
    public void action(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        EnrolmentCode code = EnrolmentCode.parse(user.getFirstAttribute(EnrolmentCode.ATTRIBUTE));
        String refusal = refusal(code);
        if (refusal != null) {
            refuse(context, refusal);
            return;
        }
        MultivaluedMap<String, String> form = context.getHttpRequest().getDecodedFormParameters();
        String typed = form == null ? null : form.getFirst(FIELD);
        if (code.matches(typed)) {
            user.setSingleAttribute(EnrolmentCode.ATTRIBUTE, code.with(EnrolmentCode.USED, code.attempts()).format());
            LOG.infof("bizid-enrolment-code accepted user=%s: the code is consumed", user.getId());
            context.success();
            return;
        }
        int attempts = code.attempts() + 1;
        boolean locked = attempts >= MAX_ATTEMPTS;
        user.setSingleAttribute(EnrolmentCode.ATTRIBUTE,
                code.with(locked ? EnrolmentCode.LOCKED : EnrolmentCode.ISSUED, attempts).format());
        LOG.warnf("bizid-enrolment-code wrong code user=%s attempt=%d%s", user.getId(), attempts,
                locked ? " (locked)" : "");
        context.getEvent().user(user).detail("reason", "enrolment_code_wrong");
        if (locked) {
            refuse(context, "bizidEnrolmentCodeLocked");
            return;
        }
        context.failureChallenge(AuthenticationFlowError.INVALID_CREDENTIALS,
                form(context, "bizidEnrolmentCodeWrong"));
    }

    /** The message key of why the stored record admits no code, or null when a code may be tried. */
    static String refusal(EnrolmentCode code) {
        if (code == null) {
            return "bizidEnrolmentCodeRefused";
        }
        if (EnrolmentCode.USED.equals(code.state())) {
            return "bizidEnrolmentCodeUsed";
        }
        if (EnrolmentCode.LOCKED.equals(code.state()) || code.attempts() >= MAX_ATTEMPTS) {
            return "bizidEnrolmentCodeLocked";
        }
        if (!EnrolmentCode.ISSUED.equals(code.state())) {
            return "bizidEnrolmentCodeRefused";
        }
        if (System.currentTimeMillis() / 1000L >= code.expiresAt()) {
            return "bizidEnrolmentCodeExpired";
        }
        return null;
    }

    private static Response form(AuthenticationFlowContext context, String error) {
        var forms = context.form();
        if (error != null) {
            forms.setError(error);
        }
        return forms.createForm(TEMPLATE);
    }

    private static void refuse(AuthenticationFlowContext context, String message) {
        LOG.warnf("bizid-enrolment-code refused user=%s: %s", context.getUser().getId(), message);
        context.getEvent().user(context.getUser()).detail("reason", message);
        context.failure(AuthenticationFlowError.ACCESS_DENIED,
                context.form().setError(message).createErrorPage(Response.Status.FORBIDDEN));
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
