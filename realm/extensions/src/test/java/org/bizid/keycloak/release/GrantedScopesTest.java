package org.bizid.keycloak.release;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.reflect.Proxy;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.ClientSessionContext;

class GrantedScopesTest {

    @SuppressWarnings("unchecked")
    private static <T> T fake(Class<T> type, String name) {
        return (T) Proxy.newProxyInstance(type.getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
            if (method.getName().equals("getName")) {
                return name;
            }
            throw new UnsupportedOperationException(method.getName());
        });
    }

    @Test
    void theClientItselfIsNotAGrantedScope() {
        // Keycloak lists the client among the context's scopes; its name may well be null.
        ClientModel client = fake(ClientModel.class, null);
        List<ClientScopeModel> scopes = List.of(fake(ClientScopeModel.class, "profile"), client,
                fake(ClientScopeModel.class, "bizid-corporate"), fake(ClientScopeModel.class, null));
        ClientSessionContext context = (ClientSessionContext) Proxy.newProxyInstance(
                ClientSessionContext.class.getClassLoader(), new Class<?>[] {ClientSessionContext.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("getClientScopesStream")) {
                        return scopes.stream();
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        assertEquals(List.of("bizid-corporate", "profile"), BizidReleaseMapper.grantedScopes(context));
    }

    @Test
    void noScopesIsAnEmptyList() {
        ClientSessionContext context = (ClientSessionContext) Proxy.newProxyInstance(
                ClientSessionContext.class.getClassLoader(), new Class<?>[] {ClientSessionContext.class},
                (proxy, method, args) -> Stream.empty());
        assertEquals(List.of(), BizidReleaseMapper.grantedScopes(context));
    }
}
