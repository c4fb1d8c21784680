package org.bizid.keycloak.notify;

import java.util.Map;
import java.util.Set;
import org.keycloak.events.EventType;
import org.keycloak.events.admin.OperationType;
import org.keycloak.events.admin.ResourceType;

/** Which Keycloak events become which notification (pure: unit-tested without a server). */
public final class NotifyEvents {
    static final Set<String> SECOND_FACTORS = Set.of("otp", "webauthn", "webauthn-passwordless");
    static final Map<String, String> FACTOR_NAMES = Map.of(
            "otp", "TOTP",
            "webauthn", "WebAuthn",
            "webauthn-passwordless", "Passkey");

    private NotifyEvents() {}

    /** A user event: the notification kind, or null for none. Only the generalized credential events
     * count (Keycloak also sends the deprecated UPDATE_PASSWORD / UPDATE_TOTP for the same change). */
    public static String kindOf(EventType type, Map<String, String> details) {
        String credential = details == null ? "" : details.getOrDefault("credential_type", "");
        return switch (type) {
            case REGISTER -> "registration";
            case UPDATE_CREDENTIAL -> "password".equals(credential)
                    ? "password-changed"
                    : SECOND_FACTORS.contains(credential) ? "second-factor-added" : null;
            case REMOVE_CREDENTIAL -> SECOND_FACTORS.contains(credential) ? "second-factor-removed" : null;
            default -> null;
        };
    }

    /** An admin event: an operator deleted a credential of the user (users/{id}/credentials/{cid};
     * Keycloak records that as an ACTION on the credential's path). */
    public static String adminKindOf(ResourceType resource, OperationType operation, String path) {
        boolean removal = operation == OperationType.ACTION || operation == OperationType.DELETE;
        if (resource != ResourceType.USER || !removal || path == null) {
            return null;
        }
        String[] parts = path.split("/");
        return parts.length == 4 && parts[0].equals("users") && parts[2].equals("credentials")
                ? "second-factor-removed"
                : null;
    }

    public static String userIdOfAdminPath(String path) {
        String[] parts = path.split("/");
        return parts.length >= 2 ? parts[1] : null;
    }

    public static String factorName(String credentialType) {
        return credentialType == null ? "" : FACTOR_NAMES.getOrDefault(credentialType, credentialType);
    }
}
