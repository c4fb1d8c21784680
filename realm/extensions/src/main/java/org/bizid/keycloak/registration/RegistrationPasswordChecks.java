package org.bizid.keycloak.registration;

import java.util.List;

import jakarta.ws.rs.core.MultivaluedMap;

import org.keycloak.authentication.FormAction;
import org.keycloak.authentication.FormContext;
import org.keycloak.authentication.ValidationContext;
import org.keycloak.events.Errors;
import org.keycloak.forms.login.LoginFormsProvider;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.PasswordPolicy;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.FormMessage;

/**
 * Registration form action {@code bizid-registration-password}: the password rules that need the new account's
 * e-mail address ({@code notEmail}), which Keycloak's {@code registration-password-action} skips because no user
 * exists yet. Runs in the registration form after Keycloak's own password action; a refusal re-shows the form
 * with the message on the password field, and nothing is created.
 */
public class RegistrationPasswordChecks implements FormAction {

    static final String FIELD_PASSWORD = "password";
    static final String FIELD_EMAIL = "email";

    @Override
    public void buildPage(FormContext context, LoginFormsProvider form) {
    }

    @Override
    public void validate(ValidationContext context) {
        MultivaluedMap<String, String> formData = context.getHttpRequest().getDecodedFormParameters();
        PasswordPolicy policy = context.getRealm().getPasswordPolicy();
        boolean notEmail = policy != null && policy.getPolicies().contains(PasswordNotEmail.POLICY);
        if (notEmail && PasswordNotEmail.violates(formData.getFirst(FIELD_PASSWORD), formData.getFirst(FIELD_EMAIL))) {
            context.error(Errors.INVALID_REGISTRATION);
            formData.remove(FIELD_PASSWORD);
            formData.remove("password-confirm");
            context.validationError(formData, List.of(new FormMessage(FIELD_PASSWORD, PasswordNotEmail.MESSAGE)));
            return;
        }
        context.success();
    }

    @Override
    public void success(FormContext context) {
    }

    @Override
    public boolean requiresUser() {
        return false;
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
