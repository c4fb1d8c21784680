package org.bizid.keycloak.discovery;

import java.util.Map;

/**
 * What one client of the realm lets through, as far as discovery is concerned: whether it is enabled
 * and which grants it allows. Built from a {@code ClientModel} by {@link BizidWellKnownProvider}; a plain
 * value so the filtering can be tested without a server.
 */
public record ClientSwitches(boolean enabled, boolean bearerOnly, boolean standardFlow, boolean implicitFlow,
                             boolean directAccessGrants, boolean serviceAccounts, Map<String, String> attributes) {

    static final String DEVICE = "oauth2.device.authorization.grant.enabled";
    static final String CIBA = "oidc.ciba.grant.enabled";
    static final String TOKEN_EXCHANGE = "standard.token.exchange.enabled";
    static final String REFRESH_TOKENS = "use.refresh.tokens";

    /** An enabled client that is not bearer-only: the only kind that can be issued a token. */
    boolean issuesTokens() {
        return enabled && !bearerOnly;
    }

    boolean attribute(String name, boolean unsetValue) {
        String value = attributes == null ? null : attributes.get(name);
        return value == null || value.isBlank() ? unsetValue : Boolean.parseBoolean(value);
    }
}
