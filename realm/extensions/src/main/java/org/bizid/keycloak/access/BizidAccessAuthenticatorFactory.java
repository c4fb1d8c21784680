package org.bizid.keycloak.access;

import java.util.List;

import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.SpiOptions;
import org.bizid.keycloak.flow.SilentStepFactory;
import org.keycloak.Config;
import org.keycloak.authentication.Authenticator;
import org.keycloak.models.KeycloakSession;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;

/**
 * Factory of {@code bizid-access}. OPA base URL: authenticator config {@value #CONFIG_OPA_URL}, else the SPI
 * option {@code spi-authenticator--bizid-access--opa-url}, else {@code BIZID_OPA_URL}, else the local default.
 */
public class BizidAccessAuthenticatorFactory extends SilentStepFactory {

    public static final String ID = "bizid-access";
    public static final String CONFIG_OPA_URL = "opaUrl";
    /** {@code identified} (right after the password step; the level is not judged) or {@code complete} (default). */
    public static final String CONFIG_PHASE = "phase";

    private String spiOpaUrl;

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public Authenticator create(KeycloakSession session) {
        return new BizidAccessAuthenticator(OpaClient.of(session), spiOpaUrl);
    }

    @Override
    public void init(Config.Scope config) {
        spiOpaUrl = SpiOptions.opaUrl(config);
        SpiOptions.configureToken(config);
    }

    @Override
    public String getDisplayType() {
        return "bizid: access policy (OPA)";
    }

    @Override
    public String getHelpText() {
        return "Asks OPA (data.bizid.access.decision) whether the account may use this RP; put it last in the "
                + "browser flow, at top level (phase complete), and right after the password step (phase identified). Denies (error=access_denied back to the RP) unless the policy "
                + "answers allow=true; fails closed when OPA is unavailable.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return ProviderConfigurationBuilder.create()
                .property()
                .name(CONFIG_OPA_URL)
                .label("OPA base URL")
                .helpText("e.g. http://127.0.0.1:18181. Empty: SPI option opa-url, then env BIZID_OPA_URL, then "
                        + OpaClient.DEFAULT_URL + ".")
                .type(ProviderConfigProperty.STRING_TYPE)
                .add()
                .property()
                .name(CONFIG_PHASE)
                .label("Phase")
                .helpText("identified: right after the password step; every rule except the level of authentication, "
                        + "so an account that will be refused is refused before the second factor. complete (default): "
                        + "last step of the flow; every rule applies. Anything else counts as complete.")
                .type(ProviderConfigProperty.LIST_TYPE)
                .options(AccessInput.PHASE_COMPLETE, AccessInput.PHASE_IDENTIFIED)
                .defaultValue(AccessInput.PHASE_COMPLETE)
                .add()
                .build();
    }

    @Override
    public List<ProviderConfigProperty> getConfigMetadata() {
        return SpiOptions.metadata();
    }
}
