package org.bizid.keycloak.loa;

import java.util.List;

import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.authentication.AuthenticatorFactory;
import org.keycloak.models.AuthenticationExecutionModel;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;

/** Factory of {@code bizid-tier-loa}; no configuration (the table is the realm attribute bizid.tier.loa). */
public class TierLoaAuthenticatorFactory implements AuthenticatorFactory {

    public static final String ID = "bizid-tier-loa";

    private static final TierLoaAuthenticator SINGLETON = new TierLoaAuthenticator();

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
        return "bizid: tier level of authentication";
    }

    @Override
    public String getReferenceCategory() {
        return "bizid-tier-loa";
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
        return "After the user is identified, raises the requested level of authentication to the minimum of the "
                + "user's tier (realm attribute bizid.tier.loa), so a following 'Condition - Level of "
                + "Authentication' sub-flow runs the second factor. Unknown tier or missing table: deny.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return List.of();
    }
}
