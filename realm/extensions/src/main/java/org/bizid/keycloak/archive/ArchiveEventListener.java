package org.bizid.keycloak.archive;

import org.jboss.logging.Logger;
import org.keycloak.events.Event;
import org.keycloak.events.EventListenerProvider;
import org.keycloak.events.admin.AdminEvent;
import org.keycloak.models.KeycloakSession;

/**
 * Logs every event as one archive line (EventArchive); never throws into the request. The category is Keycloak's
 * own {@code org.keycloak.events}: on AWS the audit archive's subscription filter (infra/components/audit.py,
 * {@code $.loggerName = "org.keycloak.events"}) already sends it to the Object Lock archive.
 */
public class ArchiveEventListener implements EventListenerProvider {
    static final Logger LOG = Logger.getLogger("org.keycloak.events");
    private final KeycloakSession session;

    ArchiveEventListener(KeycloakSession session) {
        this.session = session;
    }

    @Override
    public void onEvent(Event event) {
        try {
            LOG.info(EventArchive.line(event, EventArchive.releaseDecisions(session)));
        } catch (RuntimeException e) {
            LOG.errorf(e, "bizid-event-archive: event %s not archived", event.getId());
        }
    }

    @Override
    public void onEvent(AdminEvent event, boolean includeRepresentation) {
        try {
            LOG.info(EventArchive.line(event));
        } catch (RuntimeException e) {
            LOG.errorf(e, "bizid-event-archive: admin event %s not archived", event.getId());
        }
    }

    @Override
    public void close() {}
}
