package org.bizid.keycloak.bruteforce;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import org.keycloak.Config;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.services.managers.BruteForceProtector;
import org.keycloak.services.managers.BruteForceProtectorFactory;
import org.keycloak.services.managers.DefaultBruteForceProtector;

/**
 * {@code bizid-waiting-brute-force-detector}: the realm's brute-force protector (see
 * {@link WaitingBruteForceProtector}). Its {@link #order()} is above Keycloak's (0), so Keycloak makes it the
 * default protector of the SPI without a server option; Keycloak's own blocking protector
 * ({@code default-brute-force-detector}) does the counting and locking underneath.
 */
public final class WaitingBruteForceProtectorFactory implements BruteForceProtectorFactory {

    public static final String ID = "bizid-waiting-brute-force-detector";
    static final String KEYCLOAK_ID = "default-brute-force-detector";

    private DefaultBruteForceProtector failures;
    private final ConcurrentMap<String, Integer> waiters = new ConcurrentHashMap<>();

    @Override
    public BruteForceProtector create(KeycloakSession session) {
        BruteForceProtectorFactory keycloak = (BruteForceProtectorFactory) session.getKeycloakSessionFactory()
                .getProviderFactory(BruteForceProtector.class, KEYCLOAK_ID);
        return new WaitingBruteForceProtector(keycloak.create(session), failures, waiters);
    }

    @Override
    public void init(Config.Scope config) {
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        // Keycloak's non-blocking protector, used only to ask "locked by failures?" (never to count)
        failures = new DefaultBruteForceProtector(factory);
    }

    @Override
    public void close() {
    }

    @Override
    public String getId() {
        return ID;
    }

    @Override
    public int order() {
        return 10;
    }
}
