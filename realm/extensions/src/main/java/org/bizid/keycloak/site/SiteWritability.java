package org.bizid.keycloak.site;

import java.util.function.Supplier;

import org.jboss.logging.Logger;

/**
 * Whether this site may take traffic: its database connection accepts writes.
 *
 * The answer is the contract behind the Route 53 failover health check (docs/infra.md, "Site writability
 * signal"): {@code true} only if the probe ran and said writable; a probe that throws (no connection, a
 * driver error, a database that is not PostgreSQL) is {@code false}. Fail closed: a site that cannot show it is
 * writable gets no traffic.
 */
public final class SiteWritability {

    private static final Logger LOG = Logger.getLogger(SiteWritability.class);

    /**
     * Run on Keycloak's own database connection. A PostgreSQL hot standby (and an Aurora secondary or reader)
     * is in recovery; a database or role made read-only ({@code default_transaction_read_only=on}) starts every
     * transaction read-only. Either means no login could be recorded here.
     */
    public static final String QUERY =
            "SELECT (NOT pg_is_in_recovery()) AND current_setting('transaction_read_only') = 'off'";

    private SiteWritability() {
    }

    /** What the probe found; only {@link #WRITABLE} takes traffic. */
    public enum State {
        WRITABLE("{\"writable\":true}"),
        /** The query ran and the database said read-only (a standby, or made read-only). */
        READ_ONLY("{\"writable\":false,\"reason\":\"read-only\"}"),
        /** The query did not run: no connection, a driver error, not PostgreSQL. */
        UNREACHABLE("{\"writable\":false,\"reason\":\"unreachable\"}");

        private final String body;

        State(String body) {
            this.body = body;
        }

        /** The JSON body of the answer: no personal data, nothing but the state. */
        public String body() {
            return body;
        }
    }

    /** Runs the probe (the single result of {@link #QUERY}); an exception is {@link State#UNREACHABLE}. */
    public static State of(Supplier<Object> probe) {
        try {
            return isTrue(probe.get()) ? State.WRITABLE : State.READ_ONLY;
        } catch (RuntimeException e) {
            if (refusedAsNotPrimary(e)) {
                return State.READ_ONLY;
            }
            // No personal data here: only the failure class and message of the probe.
            LOG.warnf("site writability probe failed (answering not writable): %s: %s",
                    e.getClass().getName(), e.getMessage());
            return State.UNREACHABLE;
        }
    }

    /**
     * Keycloak connects to PostgreSQL with {@code targetServerType=primary}: on connecting, the driver asks the
     * server {@code SHOW transaction_read_only} and refuses one that is read-only, with "Could not find a server
     * with specified targetServerType: primary" (SQLState 08001). So once a database has become read-only,
     * Keycloak's new connections fail this way: the driver's own verdict that the site is not writable.
     */
    static boolean refusedAsNotPrimary(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage();
            if (message != null && message.contains(NOT_PRIMARY)) {
                return true;
            }
        }
        return false;
    }

    static final String NOT_PRIMARY = "specified targetServerType: primary";

    /** Reads the single result of {@link #QUERY}; anything but a boolean {@code true} is not writable. */
    public static boolean isTrue(Object result) {
        return Boolean.TRUE.equals(result);
    }
}
