package org.bizid.keycloak.notify;

import org.keycloak.models.AbstractKeycloakTransaction;
import org.keycloak.models.KeycloakSession;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.admin.AdminEvent;

/** Hands notifications to the sender after the request's transaction: a sign-in never waits for mail. */
public class NotifyEventListener implements EventListenerProvider {
    private final KeycloakSession session;
    private final NotifySender sender;

    NotifyEventListener(KeycloakSession session, NotifySender sender) {
        this.session = session;
        this.sender = sender;
    }

    /** Queue the mail once the request's changes are committed (never for a rolled-back change). */
    private void afterCommit(String realmId, String userId, String kind, String detail, long time) {
        session.getTransactionManager().enlistAfterCompletion(new AbstractKeycloakTransaction() {
            @Override
            protected void commitImpl() {
                sender.submit(realmId, userId, kind, detail, time);
            }

            @Override
            protected void rollbackImpl() {}
        });
    }

    @Override
    public void onEvent(Event event) {
        String kind = NotifyEvents.kindOf(event.getType(), event.getDetails());
        if (kind == null || event.getUserId() == null) {
            return;
        }
        String credential = event.getDetails() == null ? null : event.getDetails().get("credential_type");
        afterCommit(event.getRealmId(), event.getUserId(), kind, NotifyEvents.factorName(credential), event.getTime());
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        String kind = NotifyEvents.adminKindOf(
                event.getResourceType(), event.getOperationType(), event.getResourcePath());
        if (kind == null) {
            return;
        }
        String userId = NotifyEvents.userIdOfAdminPath(event.getResourcePath());
        afterCommit(event.getRealmId(), userId, kind, "", event.getTime());
    }

    @Override
    public void close() {}
}
