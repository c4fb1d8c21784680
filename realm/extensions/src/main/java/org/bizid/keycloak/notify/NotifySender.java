package org.bizid.keycloak.notify;

import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;
import org.keycloak.email.EmailException;
import org.keycloak.email.EmailSenderProvider;
import org.keycloak.models.KeycloakSessionFactory;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.models.utils.KeycloakModelUtils;

/**
 * Sends notifications on one background thread with a bounded queue, each in its own transaction, so a
 * mail server that is down or slow never delays or fails a sign-in. Every send is logged with the
 * address masked and no other personal data; a failure is logged and dropped (the event itself stays
 * in Keycloak's event store).
 */
public class NotifySender {
    private static final Logger LOG = Logger.getLogger("org.bizid.keycloak.notify");
    private final KeycloakSessionFactory factory;
    private final Notices notices;
    private final ThreadPoolExecutor executor;

    NotifySender(KeycloakSessionFactory factory, Notices notices, int queue) {
        this.factory = factory;
        this.notices = notices;
        this.executor = new ThreadPoolExecutor(
                1, 1, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queue), r -> {
                    Thread t = new Thread(r, "bizid-notify");
                    t.setDaemon(true);
                    return t;
                });
    }

    void submit(String realmId, String userId, String kind, String detail, long time) {
        try {
            executor.execute(() -> send(realmId, userId, kind, detail, time));
        } catch (RejectedExecutionException e) {
            LOG.warnf("bizid-notify dropped kind=%s user=%s: queue full", kind, userId);
        }
    }

    private void send(String realmId, String userId, String kind, String detail, long time) {
        try {
            KeycloakModelUtils.runJobInTransaction(factory, session -> {
                RealmModel realm = session.realms().getRealm(realmId);
                if (realm == null) {
                    return;
                }
                session.getContext().setRealm(realm); // user lookups and the mail sender need it
                UserModel user = session.users().getUserById(realm, userId);
                if (user == null || user.getEmail() == null) {
                    LOG.infof("bizid-notify skipped kind=%s user=%s: no address", kind, userId);
                    return;
                }
                Map<String, String> smtp = realm.getSmtpConfig();
                String to = Notices.mask(user.getEmail());
                if (smtp == null || smtp.get("host") == null) {
                    LOG.warnf("bizid-notify failed kind=%s to=%s user=%s: the realm has no SMTP server", kind, to, userId);
                    return;
                }
                Notices.Mail mail = notices.compose(kind, user.getUsername(), Instant.ofEpochMilli(time), detail);
                try {
                    session.getProvider(EmailSenderProvider.class)
                            .send(smtp, user.getEmail(), mail.subject(), mail.text(), Notices.html(mail.text()));
                    LOG.infof("bizid-notify sent kind=%s to=%s user=%s", kind, to, userId);
                } catch (EmailException e) {
                    Throwable cause = e.getCause() == null ? e : e.getCause();
                    LOG.warnf("bizid-notify failed kind=%s to=%s user=%s: %s", kind, to, userId, describe(cause));
                }
            });
        } catch (RuntimeException e) {
            LOG.warnf("bizid-notify failed kind=%s user=%s: %s", kind, userId, describe(e));
        }
    }

    /** The error's type and message, any mail address in it masked. */
    static String describe(Throwable e) {
        String message = e.getMessage() == null ? "" : e.getMessage().replaceAll("[^\\s<>\"',;:]+@", "***@");
        return e.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }

    void close() {
        executor.shutdown();
    }
}
