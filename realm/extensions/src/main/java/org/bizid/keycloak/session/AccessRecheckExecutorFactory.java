package org.bizid.keycloak.session;

import java.util.List;

import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.SpiOptions;
import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProvider;
import org.keycloak.services.clientpolicy.executor.ClientPolicyExecutorProviderFactory;

/**
 * Factory of the client-policy executor {@value #ID}. OPA base URL: executor configuration {@code opaUrl}, else the
 * SPI option {@code spi-client-policy-executor--bizid-access-recheck--opa-url}, else {@code BIZID_OPA_URL}, else the
 * local default.
 */
public class AccessRecheckExecutorFactory implements ClientPolicyExecutorProviderFactory {

    public static final String ID = "bizid-access-recheck";

    private String spiOpaUrl;

    @Override
    public ClientPolicyExecutorProvider create(KeycloakSession session) {
        return new AccessRecheckExecutor(session, OpaClient.of(session), spiOpaUrl);
    }

    @Override
    public void init(Config.Scope config) {
        spiOpaUrl = SpiOptions.opaUrl(config);
        SpiOptions.configureToken(config);
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public String getHelpText() {
        return "bizid: on every token refresh, asks OPA (data.bizid.access.decision) again on the account's current "
                + "facts; refuses with invalid_grant and ends the session unless the policy answers allow=true.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return ProviderConfigurationBuilder.create()
                .property()
                .name("opaUrl")
                .label("OPA base URL")
                .helpText("Empty: SPI option opa-url, then env " + OpaClient.ENV_URL + ", then " + OpaClient.DEFAULT_URL + ".")
                .type(ProviderConfigProperty.STRING_TYPE)
                .add()
                .build();
    }

    @Override
    public List<ProviderConfigProperty> getConfigMetadata() {
        return SpiOptions.metadata();
    }
}
