package org.bizid.keycloak.registration;

import java.util.Locale;

/**
 * The realm's {@code notEmail} password rule, as a pure function: Keycloak's own check needs a stored user,
 * so its registration form (which validates before the user exists) never applies it.
 */
public final class PasswordNotEmail {

    public static final String POLICY = "notEmail";
    /** Keycloak's own message key for the rule (theme messages). */
    public static final String MESSAGE = "invalidPasswordNotEmailMessage";

    private PasswordNotEmail() {
    }

    /** True when the password equals the e-mail address, ignoring case and surrounding blanks. */
    public static boolean violates(String password, String email) {
        if (password == null || email == null || email.isBlank()) {
            return false;
        }
        return password.trim().toLowerCase(Locale.ROOT).equals(email.trim().toLowerCase(Locale.ROOT));
    }
}
