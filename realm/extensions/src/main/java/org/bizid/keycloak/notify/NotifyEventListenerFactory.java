package org.bizid.keycloak.notify;

import org.keycloak.Config;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.EventListenerProviderFactory;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.KeycloakSessionFactory;

/** Event listener `bizid-notify`: mail to the account holder at account events (docs/mail.md). */
public class NotifyEventListenerFactory implements EventListenerProviderFactory {
    public static final String ID = "bizid-notify";
    private Notices notices;
    private NotifySender sender;
    private int queue = 1000;

    @Override
    public EventListenerProvider create(KeycloakSession session) {
        return new NotifyEventListener(session, sender);
    }

    @Override
    public void init(Config.Scope config) {
        queue = config.getInt("queue", 1000);
        notices = Notices.load();
    }

    @Override
    public void postInit(KeycloakSessionFactory factory) {
        sender = new NotifySender(factory, notices, queue);
    }

    @Override
    public void close() {
        if (sender != null) {
            sender.close();
        }
    }

    @Override
    public String getId() {
        return ID;
    }
}
