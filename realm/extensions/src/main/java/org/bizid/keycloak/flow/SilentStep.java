package org.bizid.keycloak.flow;

import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;

/**
 * A flow step that shows no form and acts on the already identified user; subclasses only decide in
 * {@link #authenticate}. Holds the parts of Keycloak's Authenticator contract that every bizid step
 * answers the same way.
 */
public abstract class SilentStep implements Authenticator {

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
