package org.bizid.keycloak.enrolment;

import org.bizid.keycloak.flow.SilentStepFactory;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;

/** Factory of {@code bizid-enrolment-code}; no configuration (the code is on the account). */
public class EnrolmentCodeAuthenticatorFactory extends SilentStepFactory {

    public static final String ID = "bizid-enrolment-code";

    private static final EnrolmentCodeAuthenticator SINGLETON = new EnrolmentCodeAuthenticator();

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return SINGLETON;
    }

    @Override
    public String getDisplayType() {
        return "bizid: one-time enrolment code after an operator reset";
    }

    @Override
    public String getHelpText() {
        return "Browser flow, before the second-factor set-up: when an operator reset the account's second factor, "
                + "asks for the one-time enrolment code sent by mail or letter; refuses when it is wrong too often, "
                + "expired or already used.";
    }
}
