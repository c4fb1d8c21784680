package org.bizid.keycloak.profile;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

import org.bizid.keycloak.flow.SilentStep;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.UserModel;
import org.keycloak.representations.userprofile.config.UPAttribute;
import org.keycloak.representations.userprofile.config.UPConfig;
import org.keycloak.userprofile.UserProfileProvider;

/**
 * {@code bizid-profile-defaults}: stores the user-profile {@code defaultValue} of every attribute the new account
 * has no value for. Put it in the registration flow right after the registration form.
 *
 * Why: Keycloak 26 applies an attribute's default when it normalises a profile, but on registration it writes only
 * the attributes the registering user may edit ({@code DefaultUserProfile.updateInternal} writes
 * {@code attributes.getWritable()}). {@code tier} and {@code account_status} are operator-only, so they were never
 * stored; the Admin API still showed {@code tier=entry} because it applies the default again when it reads the
 * profile. Every later reader of the stored user ({@code bizid-access}, {@code bizid-tier-loa},
 * {@code bizid-release}, searches by attribute) saw no tier.
 */
public class ProfileDefaultsAuthenticator extends SilentStep {

    private static final Logger LOG = Logger.getLogger(ProfileDefaultsAuthenticator.class);

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        if (user != null) {
            Map<String, String> stored = storeDefaults(defaults(context.getSession()),
                    name -> user.getAttributeStream(name).toList(), user::setSingleAttribute);
            if (!stored.isEmpty()) {
                LOG.debugf("Stored profile defaults %s on new account %s", stored, user.getUsername());
            }
        }
        context.success();
    }

    /** Declared defaults of the realm's user profile, name → value (root attributes have none here). */
    static Map<String, String> defaults(KeycloakSession session) {
        UserProfileProvider provider = session.getProvider(UserProfileProvider.class);
        UPConfig config = provider == null ? null : provider.getConfiguration();
        Map<String, String> defaults = new LinkedHashMap<>();
        if (config != null && config.getAttributes() != null) {
            for (UPAttribute attribute : config.getAttributes()) {
                String value = attribute.getDefaultValue();
                if (attribute.getName() != null && value != null && !value.isBlank()
                        && !UserModel.USERNAME.equals(attribute.getName())
                        && !UserModel.EMAIL.equals(attribute.getName())) {
                    defaults.put(attribute.getName(), value);
                }
            }
        }
        return defaults;
    }

    /** Sets each default whose attribute has no non-blank value; returns what was set. Never overwrites. */
    static Map<String, String> storeDefaults(Map<String, String> defaults, Function<String, List<String>> current,
                                             BiConsumer<String, String> set) {
        Map<String, String> stored = new LinkedHashMap<>();
        defaults.forEach((name, value) -> {
            List<String> values = current.apply(name);
            boolean unset = values == null || values.stream().allMatch(v -> v == null || v.isBlank());
            if (unset) {
                set.accept(name, value);
                stored.put(name, value);
            }
        });
        return stored;
    }
}
