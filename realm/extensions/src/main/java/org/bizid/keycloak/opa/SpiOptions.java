package org.bizid.keycloak.opa;

import java.util.List;

import org.keycloak.Config;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

/**
 * The server-wide SPI options {@code opaUrl} and {@code opaToken} (CLI {@code --spi-<spi>--<provider>--opa-url},
 * env {@code KC_SPI_<SPI>__<PROVIDER>__OPA_URL}), shared by the access authenticator and the release mapper.
 * The token is only ever a server option or environment variable, never part of the realm's definitions.
 */
public final class SpiOptions {

    public static final String OPA_URL = "opaUrl";
    public static final String OPA_TOKEN = "opaToken";

    private SpiOptions() {
    }

    public static String opaUrl(Config.Scope config) {
        return config == null ? null : config.get(OPA_URL);
    }

    /** Reads {@code opaToken} (if set) into {@link OpaClient}; call from a factory's {@code init}. */
    public static void configureToken(Config.Scope config) {
        OpaClient.configureToken(config == null ? null : config.get(OPA_TOKEN));
    }

    public static List<ProviderConfigProperty> metadata() {
        return ProviderConfigurationBuilder.create()
                .property()
                .name(OPA_URL)
                .type(ProviderConfigProperty.STRING_TYPE)
                .helpText("OPA base URL used when the provider's own config has none (default: env "
                        + OpaClient.ENV_URL + ", then " + OpaClient.DEFAULT_URL + ").")
                .add()
                .property()
                .name(OPA_TOKEN)
                .type(ProviderConfigProperty.PASSWORD)
                .secret(true)
                .helpText("Bearer token OPA requires (default: env " + OpaClient.ENV_TOKEN + ").")
                .add()
                .build();
    }
}
