package org.bizid.keycloak.bruteforce;

import jakarta.ws.rs.core.UriInfo;
import java.util.concurrent.ConcurrentMap;
import jakarta.ws.rs.core.Response;
import org.bizid.keycloak.Texts;
import org.keycloak.common.ClientConnection;
import org.keycloak.models.KeycloakSession;
import org.keycloak.models.RealmModel;
import org.keycloak.models.UserModel;
import org.keycloak.services.ErrorPageException;
import org.keycloak.services.managers.BruteForceProtector;
import org.keycloak.sessions.AuthenticationSessionModel;

/**
 * Keycloak's blocking brute-force protector, except that a sign-in arriving while another sign-in of the same
 * account is being checked <em>waits its turn</em> (at most the realm's {@code bizid.bruteForce.concurrentWaitMillis})
 * instead of being refused at once as "temporarily disabled".
 *
 * <p>Keycloak 26 ({@code DefaultBlockingBruteForceProtector}) lets one sign-in per account and server be
 * checked at a time, so that parallel guesses cannot pass the failure factor before the first failure is
 * counted; the second of two concurrent sign-ins (a double submit, two tabs on deadline day) is answered with
 * the lockout message although nothing is locked. This protector keeps the one-at-a-time rule — every attempt
 * is still checked by the same blocking protector, in turn, against the failures counted so far — and only
 * replaces the refusal by a short wait: a correct second sign-in then succeeds, wrong ones still count one by
 * one and still lock. A real lockout (failures) is answered at once, without waiting. When the wait runs out
 * the sign-in ends on an error page (HTTP 429) saying that another sign-in of the account is in progress and
 * to try again in a moment ({@link #BUSY_MESSAGE}), instead of the login form's "Invalid username or password",
 * which Keycloak shows for this case as for a real lockout and which would tell the owner the password was
 * wrong. Not counted as a failure.
 *
 * <p>Only {@link #MAX_WAITERS} requests per account wait at a time (a double submit and two tabs); one more is
 * refused at once the same way, so a flood of parallel requests for one account cannot park the server's
 * worker threads.
 */
public final class WaitingBruteForceProtector implements BruteForceProtector {

    public static final String WAIT_ATTRIBUTE = "bizid.bruteForce.concurrentWaitMillis";
    static final long POLL_MILLIS = 20;
    static final long MAX_WAIT_MILLIS = 10_000;
    static final int MAX_WAITERS = 3;
    /**
     * Shown as is (no theme key of that name): the page of a sign-in that did not get its turn, in Japanese, then
     * English (realm/login_texts.py, key {@code signInInProgress}).
     */
    public static final String BUSY_MESSAGE = Texts.text("signInInProgress");

    private final BruteForceProtector blocking;
    private final BruteForceProtector failures;
    private final ConcurrentMap<String, Integer> waiters;

    WaitingBruteForceProtector(
            BruteForceProtector blocking, BruteForceProtector failures, ConcurrentMap<String, Integer> waiters) {
        this.blocking = blocking;
        this.failures = failures;
        this.waiters = waiters;
    }

    /** The realm's wait, in ms: 0 (Keycloak's refusal at once) when unset or not a number, capped. */
    static long waitMillis(String attribute) {
        if (attribute == null) {
            return 0;
        }
        try {
            return Math.max(0, Math.min(MAX_WAIT_MILLIS, Long.parseLong(attribute.trim())));
        } catch (NumberFormatException e) {
            return 0;
        }
    }

    @Override
    public boolean isTemporarilyDisabled(KeycloakSession session, RealmModel realm, UserModel user) {
        if (!blocking.isTemporarilyDisabled(session, realm, user)) {
            return false; // not locked, and this request now holds the account's turn
        }
        long waitMillis = waitMillis(realm.getAttribute(WAIT_ATTRIBUTE));
        if (waitMillis == 0 || failures.isTemporarilyDisabled(session, realm, user)) {
            return true; // locked by failures: answered at once
        }
        String id = user.getId();
        if (waiters.merge(id, 1, Integer::sum) > MAX_WAITERS) {
            waiters.computeIfPresent(id, (k, n) -> n <= 1 ? null : n - 1);
            return busy(session); // more concurrent sign-ins of one account than may wait: refused at once
        }
        try {
            long deadline = System.nanoTime() + waitMillis * 1_000_000L;
            while (System.nanoTime() < deadline) {
                Thread.sleep(POLL_MILLIS);
                if (!blocking.isTemporarilyDisabled(session, realm, user)) {
                    return false; // the other sign-in finished: this one's turn
                }
                if (failures.isTemporarilyDisabled(session, realm, user)) {
                    return true; // the other attempt(s) locked the account meanwhile
                }
            }
            return busy(session);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        } finally {
            waiters.computeIfPresent(id, (k, n) -> n <= 1 ? null : n - 1);
        }
    }

    /**
     * The answer to a sign-in that did not get its turn: inside a login flow, an error page that says so
     * (thrown past the flow's alternatives, which would turn any refusal into "Invalid username or password");
     * elsewhere (no login flow) plain "disabled".
     */
    private static boolean busy(KeycloakSession session) {
        AuthenticationSessionModel authSession = session.getContext().getAuthenticationSession();
        if (authSession != null) {
            throw new ErrorPageException(session, authSession, Response.Status.TOO_MANY_REQUESTS, BUSY_MESSAGE);
        }
        return true;
    }

    @Override
    public void failedLogin(RealmModel realm, UserModel user, ClientConnection connection, UriInfo uriInfo) {
        blocking.failedLogin(realm, user, connection, uriInfo);
    }

    @Override
    public void successfulLogin(RealmModel realm, UserModel user, ClientConnection connection, UriInfo uriInfo) {
        blocking.successfulLogin(realm, user, connection, uriInfo);
    }

    @Override
    public boolean isPermanentlyLockedOut(KeycloakSession session, RealmModel realm, UserModel user) {
        return blocking.isPermanentlyLockedOut(session, realm, user);
    }

    @Override
    public void cleanUpPermanentLockout(KeycloakSession session, RealmModel realm, UserModel user) {
        blocking.cleanUpPermanentLockout(session, realm, user);
    }

    @Override
    public void close() {
        // the delegates belong to Keycloak's factory (shared, closed there)
    }
}
