package org.bizid.keycloak.profile;

import org.bizid.keycloak.flow.SilentStepFactory;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;

/** Factory of {@code bizid-profile-defaults}; no configuration (the defaults are the user profile's). */
public class ProfileDefaultsAuthenticatorFactory extends SilentStepFactory {

    public static final String ID = "bizid-profile-defaults";

    private static final ProfileDefaultsAuthenticator SINGLETON = new ProfileDefaultsAuthenticator();

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
        return "bizid: store user-profile defaults";
    }

    @Override
    public String getHelpText() {
        return "Registration flow, after the registration form: stores the user-profile default of every attribute "
                + "the new account has no value for (Keycloak does not store defaults of attributes the user may not "
                + "edit, e.g. tier).";
    }
}
