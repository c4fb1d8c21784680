package org.bizid.keycloak.profile;

import java.util.List;

import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.AuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

/** Factory of {@code bizid-profile-defaults}; no configuration (the defaults are the user profile's). */
public class ProfileDefaultsAuthenticatorFactory implements AuthenticatorFactory {

    public static final String ID = "bizid-profile-defaults";

    private static final ProfileDefaultsAuthenticator SINGLETON = new ProfileDefaultsAuthenticator();

    private static final AuthenticationExecutionModel.Requirement[] REQUIREMENTS = {
            AuthenticationExecutionModel.Requirement.REQUIRED,
            AuthenticationExecutionModel.Requirement.DISABLED,
    };

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return SINGLETON;
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }

    @Override
    public String getDisplayType() {
        return "bizid: store user-profile defaults";
    }

    @Override
    public String getReferenceCategory() {
        return "bizid-profile-defaults";
    }

    @Override
    public boolean isConfigurable() {
        return false;
    }

    @Override
    public AuthenticationExecutionModel.Requirement[] getRequirementChoices() {
        return REQUIREMENTS;
    }

    @Override
    public boolean isUserSetupAllowed() {
        return false;
    }

    @Override
    public String getHelpText() {
        return "Registration flow, after the registration form: stores the user-profile default of every attribute "
                + "the new account has no value for (Keycloak does not store defaults of attributes the user may not "
                + "edit, e.g. tier).";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }
}
