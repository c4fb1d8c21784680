package org.bizid.keycloak.notify;

import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.admin.AdminEvent;

/** Hands notifications to the sender after the request's transaction: a sign-in never waits for mail. */
public class NotifyEventListener implements EventListenerProvider {
    private final NotifySender sender;

    NotifyEventListener(NotifySender sender) {
        this.sender = sender;
    }

    @Override
    public void onEvent(Event event) {
        String kind = NotifyEvents.kindOf(event.getType(), event.getDetails());
        if (kind == null || event.getUserId() == null) {
            return;
        }
        String credential = event.getDetails() == null ? null : event.getDetails().get("credential_type");
        sender.submit(event.getRealmId(), event.getUserId(), kind, NotifyEvents.factorName(credential), event.getTime());
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        String kind = NotifyEvents.adminKindOf(
                event.getResourceType(), event.getOperationType(), event.getResourcePath());
        if (kind == null) {
            return;
        }
        String userId = NotifyEvents.userIdOfAdminPath(event.getResourcePath());
        sender.submit(event.getRealmId(), userId, kind, "", event.getTime());
    }

    @Override
    public void close() {}
}
