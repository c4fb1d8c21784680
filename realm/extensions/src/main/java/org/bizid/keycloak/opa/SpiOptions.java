package org.bizid.keycloak.opa;

import java.util.List;

import org.keycloak.Config;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

/**
 * The server-wide SPI option {@code opaUrl} (CLI {@code --spi-<spi>--<provider>--opa-url}, env
 * {@code KC_SPI_<SPI>__<PROVIDER>__OPA_URL}), shared by the access authenticator and the release mapper.
 */
public final class SpiOptions {

    public static final String OPA_URL = "opaUrl";

    private SpiOptions() {
    }

    public static String opaUrl(Config.Scope config) {
        return config == null ? null : config.get(OPA_URL);
    }

    public static List<ProviderConfigProperty> metadata() {
        return ProviderConfigurationBuilder.create()
                .property()
                .name(OPA_URL)
                .type(ProviderConfigProperty.STRING_TYPE)
                .helpText("OPA base URL used when the provider's own config has none (default: env "
                        + OpaClient.ENV_URL + ", then " + OpaClient.DEFAULT_URL + ").")
                .add()
                .build();
    }
}
