package org.bizid.keycloak.loa;

import java.util.Optional;

import org.bizid.keycloak.access.BizidAccessAuthenticator;
import org.bizid.keycloak.flow.RpDenial;
import org.bizid.keycloak.flow.SilentStep;
import org.jboss.logging.Logger;
import org.keycloak.authentication.AuthenticationFlowContext;
import org.keycloak.models.Constants;
import org.keycloak.models.UserModel;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * Raises the requested level of authentication to the user's tier minimum, once the user is known.
 *
 * Keycloak 26 keeps the requested level in the auth-session client note
 * {@link Constants#REQUESTED_LEVEL_OF_AUTHENTICATION} ("requested-level-of-authentication"), set by the
 * authorization endpoint from acr_values / the claims parameter / the client's minimum acr. Every later
 * "Condition - Level of Authentication" reads it through {@code AcrStore.getRequestedLevelOfAuthentication};
 * a level-2 condition then runs its second factor, and the resulting level (auth note
 * "level-of-authentication") becomes the token's acr via the realm's acr.loa.map.
 */
public class TierLoaAuthenticator extends SilentStep {

    private static final Logger LOG = Logger.getLogger(TierLoaAuthenticator.class);

    static final String ATTR_TIER = "tier";

    @Override
    public void authenticate(AuthenticationFlowContext context) {
        UserModel user = context.getUser();
        AuthenticationSessionModel authSession = context.getAuthenticationSession();
        String tier = user == null ? null : user.getFirstAttribute(ATTR_TIER);

        Optional<TierLevels> table = TierLevels.parse(context.getRealm().getAttribute(TierLevels.REALM_ATTRIBUTE));
        if (table.isEmpty()) {
            LOG.errorf("Realm %s: attribute %s is missing or malformed; denying every login until it is fixed",
                    context.getRealm().getName(), TierLevels.REALM_ATTRIBUTE);
            deny(context, "tier_loa_unconfigured", "Sign-in is unavailable: the tier authentication levels are not configured.");
            return;
        }
        Optional<Integer> tierLevel = table.get().levelOf(tier);
        if (tierLevel.isEmpty()) {
            LOG.warnf("User %s has unknown tier '%s'; denying", user == null ? null : user.getUsername(), tier);
            deny(context, "tier_unknown", "The account has no valid tier.");
            return;
        }

        int requested = requestedLevel(authSession);
        int raised = TierLevels.raise(requested, tierLevel.get());
        if (raised != requested) {
            authSession.setClientNote(Constants.REQUESTED_LEVEL_OF_AUTHENTICATION, String.valueOf(raised));
            LOG.debugf("Tier %s of %s: requested level raised from %d to %d", tier, user.getUsername(), requested, raised);
        }
        context.success();
    }

    // An unparsable note (cannot come from Keycloak itself) is treated as "nothing requested"; the tier level
    // still applies, so this can only raise, never lower, the level.
    private static int requestedLevel(AuthenticationSessionModel authSession) {
        String note = authSession.getClientNote(Constants.REQUESTED_LEVEL_OF_AUTHENTICATION);
        if (note == null) {
            return Constants.NO_LOA;
        }
        try {
            return Integer.parseInt(note.trim());
        } catch (NumberFormatException e) {
            return Constants.NO_LOA;
        }
    }

    private static void deny(AuthenticationFlowContext context, String code, String message) {
        context.getEvent().detail(BizidAccessAuthenticator.DETAIL_REASONS, code);
        RpDenial.deny(context, code + ": " + message);
    }
}
