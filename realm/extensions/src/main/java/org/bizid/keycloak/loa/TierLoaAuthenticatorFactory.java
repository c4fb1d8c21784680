package org.bizid.keycloak.loa;

import org.bizid.keycloak.flow.SilentStepFactory;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;

/** Factory of {@code bizid-tier-loa}; no configuration (the table is the realm attribute bizid.tier.loa). */
public class TierLoaAuthenticatorFactory extends SilentStepFactory {

    public static final String ID = "bizid-tier-loa";

    private static final TierLoaAuthenticator SINGLETON = new TierLoaAuthenticator();

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
        return "bizid: tier level of authentication";
    }

    @Override
    public String getHelpText() {
        return "After the user is identified, raises the requested level of authentication to the minimum of the "
                + "user's tier (realm attribute bizid.tier.loa), so a following 'Condition - Level of "
                + "Authentication' sub-flow runs the second factor. Unknown tier or missing table: deny.";
    }
}
