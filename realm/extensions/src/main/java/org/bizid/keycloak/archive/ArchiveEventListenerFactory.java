package org.bizid.keycloak.archive;

import org.keycloak.Config;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

/** Event listener {@code bizid-event-archive}: the durable, decision-joined copy of every event. */
public class ArchiveEventListenerFactory implements EventListenerProviderFactory {
    public static final String ID = "bizid-event-archive";

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new ArchiveEventListener(session);
    }

    @Override
    public void init(Config.Scope config) {}

    @Override
    public void postInit(KeycloakSessionFactory factory) {}

    @Override
    public void close() {}

    @Override
    public String getId() {
        return ID;
    }
}
