package org.bizid.keycloak.loa;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.core.type.TypeReference;
import org.bizid.keycloak.opa.OpaClient;
import org.jboss.logging.Logger;
import org.keycloak.models.AuthenticatedClientSessionModel;
import org.keycloak.models.ClientSessionContext;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.ProtocolMapperModel;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserSessionModel;
import org.keycloak.protocol.oidc.mappers.AbstractOIDCProtocolMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAccessTokenMapper;
import org.keycloak.protocol.oidc.mappers.OIDCAttributeMapperHelper;
import org.keycloak.protocol.oidc.mappers.OIDCIDTokenMapper;
import org.keycloak.protocol.oidc.mappers.UserInfoTokenMapper;
import org.keycloak.provider.ProviderConfigProperty;
import org.keycloak.representations.IDToken;

/**
 * {@code bizid-acr}: the {@code acr} claim states the level the session actually reached (the same level
 * {@code bizid-access} and {@code bizid-release} send OPA), never the level the RP asked for. Keycloak's own acr
 * mapper answers with the first requested {@code acr_values} entry the session satisfies, so a Prime that passed its
 * second factor at an RP asking {@code acr_values=aal1} was reported as aal1 (issue 10).
 */
public class BizidAcrMapper extends AbstractOIDCProtocolMapper
        implements OIDCAccessTokenMapper, OIDCIDTokenMapper, UserInfoTokenMapper {

    public static final String ID = "bizid-acr";
    /** Realm attribute mapping acr values to Keycloak levels, e.g. {"aal1":1,"aal2":2}. */
    public static final String ACR_LOA_MAP = "acr.loa.map";

    private static final Logger LOG = Logger.getLogger(BizidAcrMapper.class);
    private static final List<ProviderConfigProperty> CONFIG_PROPERTIES = new ArrayList<>();

    static {
        OIDCAttributeMapperHelper.addIncludeInTokensConfig(CONFIG_PROPERTIES, BizidAcrMapper.class);
    }

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public String getDisplayType() {
        return "bizid: acr of the level reached";
    }

    @Override
    public String getDisplayCategory() {
        return TOKEN_MAPPER_CATEGORY;
    }

    @Override
    public String getHelpText() {
        return "Sets acr to the value of the level of authentication the session reached (realm attribute "
                + ACR_LOA_MAP + "), whatever acr_values the RP requested.";
    }

    @Override
    public List<ProviderConfigProperty> getConfigProperties() {
        return CONFIG_PROPERTIES;
    }

    @Override
    protected void setClaim(IDToken token, ProtocolMapperModel mappingModel, UserSessionModel userSession,
                            KeycloakSession keycloakSession, ClientSessionContext clientSessionCtx) {
        AuthenticatedClientSessionModel clientSession = clientSessionCtx == null ? null : clientSessionCtx.getClientSession();
        int level = clientSession == null ? 0 : ReachedLevel.of(clientSession);
        RealmModel realm = userSession == null ? keycloakSession.getContext().getRealm() : userSession.getRealm();
        token.setAcr(acrFor(acrLoaMap(realm), level));
    }

    static Map<String, Integer> acrLoaMap(RealmModel realm) {
        String raw = realm == null ? null : realm.getAttribute(ACR_LOA_MAP);
        if (raw == null || raw.isBlank()) {
            return Map.of();
        }
        try {
            return OpaClient.json().readValue(raw, new TypeReference<TreeMap<String, Integer>>() { });
        } catch (Exception e) {
            LOG.warnf("realm attribute %s is not a JSON object of levels: %s", ACR_LOA_MAP, e.getMessage());
            return Map.of();
        }
    }

    /**
     * The acr value of {@code level}: the one mapped to exactly that level (the first by name if several), else the
     * highest one below it (never a level not reached), else the level as a number, as Keycloak does.
     */
    public static String acrFor(Map<String, Integer> acrLoaMap, int level) {
        String exact = null;
        String below = null;
        int belowLevel = Integer.MIN_VALUE;
        for (Map.Entry<String, Integer> entry : new TreeMap<>(acrLoaMap).entrySet()) {
            Integer loa = entry.getValue();
            if (loa == null) {
                continue;
            }
            if (loa == level && exact == null) {
                exact = entry.getKey();
            } else if (loa < level && loa > belowLevel) {
                below = entry.getKey();
                belowLevel = loa;
            }
        }
        if (exact != null) {
            return exact;
        }
        return below != null ? below : String.valueOf(level);
    }
}
