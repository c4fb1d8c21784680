package org.bizid.keycloak.release;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.bizid.keycloak.access.AccessInput;
import org.bizid.keycloak.archive.EventArchive;
import org.bizid.keycloak.access.PrimeInput;
import org.bizid.keycloak.access.ProcedureInput;
import org.bizid.keycloak.delegation.DelegationInput;
import org.bizid.keycloak.loa.ReachedLevel;
import org.bizid.keycloak.opa.AccountJson;
import org.bizid.keycloak.opa.OpaClient;
import org.bizid.keycloak.opa.OpaResult;
import org.bizid.keycloak.opa.SpiOptions;
import org.jboss.logging.Logger;
import org.keycloak.Config;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.protocol.oidc.mappers.AbstractOIDCProtocolMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAccessTokenMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAttributeMapperHelper;
import org.keycloak.protocol.oidc.mappers.OIDCIDTokenMapper;
import org.keycloak.protocol.oidc.mappers.UserInfoTokenMapper;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.provider.ProviderConfigurationBuilder;
import org.keycloak.representations.IDToken;
import org.keycloak.representations.userprofile.config.UPAttribute;
import org.keycloak.representations.userprofile.config.UPConfig;
import org.keycloak.userprofile.UserProfileProvider;

/**
 * {@code bizid-release}: asks OPA {@code data.bizid.release.decision} which claims this RP may receive for the
 * granted scopes, and puts exactly those on the token / userinfo. Generic: the claim names and values are
 * whatever the policy returns. On any failure it releases nothing and leaves the token otherwise intact.
 */
public class BizidReleaseMapper extends AbstractOIDCProtocolMapper
        implements OIDCAccessTokenMapper, OIDCIDTokenMapper, UserInfoTokenMapper {

    public static final String ID = "bizid-release";
    public static final String CONFIG_OPA_URL = "opaUrl";

    static final String DECISION_PATH = "bizid/release/decision";

    private static final Logger LOG = Logger.getLogger(BizidReleaseMapper.class);

    private static final List<ProviderConfigProperty> CONFIG_PROPERTIES = new ArrayList<>();

    static {
        CONFIG_PROPERTIES.addAll(ProviderConfigurationBuilder.create()
                .property()
                .name(CONFIG_OPA_URL)
                .label("OPA base URL")
                .helpText("e.g. http://127.0.0.1:18181. Empty: SPI option opa-url, then env BIZID_OPA_URL, then "
                        + OpaClient.DEFAULT_URL + ".")
                .type(ProviderConfigProperty.STRING_TYPE)
                .add()
                .build());
        OIDCAttributeMapperHelper.addIncludeInTokensConfig(CONFIG_PROPERTIES, BizidReleaseMapper.class);
    }

    // Set in init() on the factory instance; Keycloak uses that same instance as the provider.
    private String spiOpaUrl;

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public void init(Config.Scope config) {
        spiOpaUrl = SpiOptions.opaUrl(config);
        SpiOptions.configureToken(config);
    }

    @Override
    public List<ProviderConfigProperty> getConfigMetadata() {
        return SpiOptions.metadata();
    }

    @Override
    public String getDisplayType() {
        return "bizid: release policy (OPA)";
    }

    @Override
    public String getDisplayCategory() {
        return TOKEN_MAPPER_CATEGORY;
    }

    @Override
    public String getHelpText() {
        return "Adds exactly the claims OPA's data.bizid.release.decision allows for this RP and the granted "
                + "scopes. Releases nothing when OPA is unavailable.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG_PROPERTIES;
    }

    @Override
    protected void setClaim(IDToken token, ProtocolMapperModel mappingModel, UserSessionModel userSession,
                            KeycloakSession keycloakSession, ClientSessionContext clientSessionCtx) {
        ReleaseDecision decision;
        try {
            decision = decide(mappingModel, userSession, keycloakSession, clientSessionCtx);
        } catch (RuntimeException e) {
            // A bug here must cost the RP its gated claims, not the user the whole token.
            LOG.errorf(e, "bizid-release failed; releasing no gated claims");
            decision = ReleaseDecision.nothing();
        }
        decision.claims().forEach((name, value) -> token.getOtherClaims().put(name, value));
        ProcedureClaim.set(token, decision, clientSessionCtx);
    }

    /**
     * Names of the client scopes granted in this request. The context's scope stream also contains the client
     * itself (a ClientModel is a ClientScopeModel, for its own mappers); that is not a granted scope.
     */
    static List<String> grantedScopes(ClientSessionContext clientSessionCtx) {
        return clientSessionCtx.getClientScopesStream()
                .filter(scope -> !(scope instanceof ClientModel))
                .map(ClientScopeModel::getName)
                .filter(name -> name != null && !name.isEmpty())
                .distinct()
                .sorted()
                .collect(Collectors.toList());
    }

    private ReleaseDecision decide(ProtocolMapperModel mappingModel, UserSessionModel userSession,
                                   KeycloakSession keycloakSession, ClientSessionContext clientSessionCtx) {
        UserModel user = userSession == null ? null : userSession.getUser();
        ClientModel client = clientSessionCtx != null && clientSessionCtx.getClientSession() != null
                ? clientSessionCtx.getClientSession().getClient()
                : keycloakSession.getContext().getClient();
        if (user == null || client == null || clientSessionCtx == null) {
            return ReleaseDecision.nothing();
        }
        List<String> scopes = grantedScopes(clientSessionCtx);
        String opaUrl = OpaClient.resolveBaseUrl(
                mappingModel.getConfig() == null ? null : mappingModel.getConfig().get(CONFIG_OPA_URL), spiOpaUrl);

        // The ID token and access token of one token response ask the same question: ask OPA once per HTTP
        // request (the KeycloakSession lives exactly that long), never across requests.
        AuthenticatedClientSessionModel clientSession = clientSessionCtx.getClientSession();
        // The delegation bizid-access judged at this sign-in (client note copied from the auth session at login).
        String delegationId = clientSession == null ? null
                : DelegationInput.normaliseId(clientSession.getNote(DelegationInput.SELECTED_NOTE));
        // The procedure bizid-access judged at this sign-in: the release is judged for it too (and releases it).
        String procedure = ProcedureClaim.procedure(clientSessionCtx);
        String memoKey = "bizid-release|" + opaUrl + "|" + client.getClientId() + "|" + user.getId() + "|" + scopes
                + "|" + delegationId + "|" + procedure;
        Object memo = keycloakSession.getAttribute(memoKey);
        if (memo instanceof ReleaseDecision) {
            return (ReleaseDecision) memo;
        }

        String decisionId = UUID.randomUUID().toString();
        // The request's event (CODE_TO_TOKEN, REFRESH_TOKEN, USER_INFO_REQUEST) is archived with this id.
        EventArchive.noteReleaseDecision(keycloakSession, decisionId);
        ObjectNode input = OpaClient.json().createObjectNode();
        input.putObject("rp").put("client_id", client.getClientId());
        ProcedureInput.addTo(input, procedure);
        input.set("account", AccountJson.forRelease(user, profileAttributes(keycloakSession)));
        input.putObject("authn").put("loa", clientSession == null ? 0 : ReachedLevel.of(clientSession));
        ArrayNode scopeArray = input.putArray("scopes");
        scopes.forEach(scopeArray::add);
        DelegationInput.lookup(keycloakSession, userSession.getRealm(), user, delegationId).addTo(input);
        // The issuing Prime's current record: a Member of a Prime suspended since sign-in gets no claims.
        PrimeInput.lookup(keycloakSession, userSession.getRealm(), user).addTo(input);
        input.put("now", AccessInput.rfc3339(Instant.now()));
        input.put("decision_id", decisionId);

        OpaResult result = OpaClient.of(keycloakSession).query(opaUrl, DECISION_PATH, input);
        ReleaseDecision decision = ReleaseDecision.from(result);
        if (!result.isOk()) {
            LOG.warnf("OPA release decision %s for client %s failed, releasing no gated claims: %s",
                    decisionId, client.getClientId(), result.failure());
        } else if (!decision.refused().isEmpty()) {
            LOG.warnf("OPA release decision %s for client %s returned claims it may not set (protocol claims, a non-object address) %s; ignored",
                    decisionId, client.getClientId(), decision.refused());
        } else if (decision.refusal() != null) {
            LOG.infof("OPA release decision %s for client %s released nothing: %s", decisionId,
                    client.getClientId(), decision.refusal());
        } else {
            LOG.debugf("OPA release decision %s for client %s: %s", decisionId, client.getClientId(),
                    decision.claims().keySet());
        }
        keycloakSession.setAttribute(memoKey, decision);
        return decision;
    }

    /** The attributes the user profile declares, name → multivalued (arrays) or not (one string). */
    static Map<String, Boolean> profileAttributes(KeycloakSession session) {
        UserProfileProvider profile = session.getProvider(UserProfileProvider.class);
        UPConfig config = profile == null ? null : profile.getConfiguration();
        Map<String, Boolean> attributes = new HashMap<>();
        if (config != null && config.getAttributes() != null) {
            for (UPAttribute attribute : config.getAttributes()) {
                if (attribute.getName() != null) {
                    attributes.put(attribute.getName(), attribute.isMultivalued());
                }
            }
        }
        return attributes;
    }
}
