package org.bizid.keycloak.opa;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.http.HttpEntity;
import org.apache.http.NoHttpResponseException;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.client.methods.CloseableHttpResponse;
import org.apache.http.client.methods.HttpPost;
import org.apache.http.client.protocol.HttpClientContext;
import org.apache.http.conn.routing.RouteInfo;
import org.apache.http.entity.ByteArrayEntity;
import org.apache.http.entity.ContentType;
import org.apache.http.impl.client.CloseableHttpClient;
import org.keycloak.connections.httpclient.HttpClientProvider;
import org.keycloak.models.KeycloakSession;

/**
 * Minimal client for OPA's data API ({@code POST /v1/data/<path>} with {@code {"input": ...}}).
 *
 * Every problem (unreachable, timeout, non-200, unparsable body, undefined decision) becomes an
 * {@link OpaResult#failed} value instead of an exception, so callers cannot forget to fail closed.
 * Nothing is cached: each call asks OPA again, so the platform recovers as soon as OPA does. A decision asked on a
 * pooled connection that OPA had already closed (it restarted) and that got no answer at all is asked once more on
 * a new connection, within the same deadline, so a restart of OPA does not refuse the sign-ins that happen to pick
 * the dead connections.
 *
 * <p>The calls go through Keycloak's own outgoing HTTP client ({@link HttpClientProvider}: Apache HttpClient, one
 * pooled, kept-alive connection manager per server) on the calling request thread, instead of a JDK
 * {@code java.net.http} client whose selector and worker threads cost a hand-off per call (docs/tuning.md,
 * "Keycloak → OPA through HttpClientProvider"). Each decision has a <b>total deadline</b>
 * ({@link #DEADLINE}): waiting for a pooled connection and connecting get half of it each at most, and the whole
 * exchange is aborted ({@link HttpPost#abort()}, from one shared timer thread) when the deadline passes, so an
 * OPA that accepts and never answers, or drips its answer a byte at a time, costs at most the deadline and then
 * fails closed. Apache's socket timeout alone is per read and would not bound that.
 *
 * <p>The pool, proxy and TLS settings are Keycloak's ({@code spi-connections-http-client--default--*}). The timeouts,
 * redirects (never followed) and expect-continue of an OPA call are this class's own, per request. A decision that
 * went through an outgoing proxy (an {@code HTTP(S)_PROXY} without {@code NO_PROXY} for OPA's host, or a
 * {@code proxy-mappings} entry matching it) is refused: "OPA at 127.0.0.1" would then be the proxy's loopback.
 *
 * <p>OPA runs with {@code --authentication=token --authorization=basic}: every query carries
 * {@code Authorization: Bearer <token>}. The token is a server secret, never realm configuration: the SPI option
 * {@code opaToken} of either bizid provider (see {@link SpiOptions}), else the environment variable
 * {@value #ENV_TOKEN}. Without a token the request goes out without the header and OPA refuses it (401), which,
 * like every other failure, fails closed.
 */
public final class OpaClient {

    public static final String DEFAULT_URL = "http://127.0.0.1:18181";
    /** Environment variable consulted when neither the provider config nor the SPI option sets a URL. */
    public static final String ENV_URL = "BIZID_OPA_URL";
    /** Environment variable holding the bearer token OPA requires (unless the SPI option {@code opaToken} is set). */
    public static final String ENV_TOKEN = "BIZID_OPA_TOKEN";

    /** Total time one decision may take, from asking for a connection to the last byte of the answer. */
    public static final Duration DEADLINE = Duration.ofSeconds(2);
    /** An OPA decision is a few KB; anything far larger is not one (and is not read into memory). */
    static final int MAX_BODY_BYTES = 1 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    // One daemon thread for every deadline of the JVM. A deadline is scheduled when a call starts and cancelled
    // (removed from the queue) when it ends, so the thread sleeps unless a call really overruns.
    private static final class Deadlines {
        static final ScheduledThreadPoolExecutor TIMER = timer();

        private static ScheduledThreadPoolExecutor timer() {
            ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> {
                Thread thread = new Thread(task, "bizid-opa-deadline");
                thread.setDaemon(true);
                return thread;
            });
            timer.setRemoveOnCancelPolicy(true);
            return timer;
        }
    }

    private static volatile String spiToken;

    private final CloseableHttpClient http;
    private final Duration deadline;

    /**
     * @param http     a pooled client the caller owns (never closed here); null makes every query fail closed
     * @param deadline total time per query
     */
    public OpaClient(CloseableHttpClient http, Duration deadline) {
        if (deadline == null || deadline.isNegative() || deadline.isZero()) {
            throw new IllegalArgumentException("deadline must be positive");
        }
        this.http = http;
        this.deadline = deadline;
    }

    /**
     * The client for calls made while serving this request: Keycloak's pooled outgoing HTTP client, used on the
     * calling thread. Without an {@link HttpClientProvider} every query fails (closed).
     */
    public static OpaClient of(KeycloakSession session) {
        HttpClientProvider provider = session == null ? null : session.getProvider(HttpClientProvider.class);
        return new OpaClient(provider == null ? null : provider.getHttpClient(), DEADLINE);
    }

    /**
     * Sets the server-wide token from a provider factory's SPI option; blank values are ignored, so one factory
     * configured without the option does not clear what another set.
     */
    public static void configureToken(String fromSpiOption) {
        if (fromSpiOption != null && !fromSpiOption.isBlank()) {
            spiToken = fromSpiOption.trim();
        }
    }

    /** The token to send: the SPI option if one was configured, else {@value #ENV_TOKEN}, else none. */
    public static String token() {
        return resolveToken(spiToken, System.getenv(ENV_TOKEN));
    }

    static String resolveToken(String fromSpiOption, String fromEnv) {
        for (String candidate : new String[] {fromSpiOption, fromEnv}) {
            if (candidate != null && !candidate.isBlank()) {
                return candidate.trim();
            }
        }
        return null;
    }

    public static ObjectMapper json() {
        return JSON;
    }

    /**
     * First non-blank of: provider config, SPI option, {@value #ENV_URL}, {@value #DEFAULT_URL}.
     */
    public static String resolveBaseUrl(String fromProviderConfig, String fromSpiOption) {
        return resolveBaseUrl(fromProviderConfig, fromSpiOption, System.getenv(ENV_URL));
    }

    static String resolveBaseUrl(String fromProviderConfig, String fromSpiOption, String fromEnv) {
        for (String candidate : new String[] {fromProviderConfig, fromSpiOption, fromEnv}) {
            if (candidate != null && !candidate.isBlank()) {
                return candidate.trim();
            }
        }
        return DEFAULT_URL;
    }

    /**
     * Evaluates {@code data.<dataPath with / as .>} with the given input.
     *
     * @param baseUrl  e.g. {@code http://127.0.0.1:18181}
     * @param dataPath e.g. {@code bizid/access/decision}
     */
    public OpaResult query(String baseUrl, String dataPath, JsonNode input) {
        return query(baseUrl, token(), dataPath, input);
    }

    /** As {@link #query(String, String, JsonNode)} with an explicit bearer token (null: no header). */
    public OpaResult query(String baseUrl, String token, String dataPath, JsonNode input) {
        URI uri;
        try {
            uri = dataUri(baseUrl, dataPath);
        } catch (IllegalArgumentException e) {
            return OpaResult.failed("bad OPA URL '" + baseUrl + "': " + e.getMessage());
        }
        if (http == null) {
            return OpaResult.failed("no outgoing HTTP client (Keycloak's HttpClientProvider) to call " + uri);
        }
        byte[] body;
        try {
            ObjectNode envelope = JSON.createObjectNode();
            envelope.set("input", input);
            body = JSON.writeValueAsBytes(envelope);
        } catch (Exception e) {
            return OpaResult.failed("cannot serialise the OPA input: " + e.getMessage());
        }
        long deadlineAt = System.nanoTime() + deadline.toNanos();
        Exchange first = exchange(uri, token, body, deadline);
        if (!first.staleConnection()) {
            return first.result();
        }
        // The pooled connection was dead (OPA restarted, or closed it while idle) and nothing was answered on it.
        // A decision is a query without side effects, so it is asked once more, on a new connection, within what is
        // left of the same deadline; a second failure is final.
        long leftNanos = deadlineAt - System.nanoTime();
        if (leftNanos < TimeUnit.MILLISECONDS.toNanos(1)) {
            return first.result();
        }
        return exchange(uri, token, body, Duration.ofNanos(leftNanos)).result();
    }

    /** One HTTP exchange's result, and whether it failed on a connection that answered nothing at all. */
    private record Exchange(OpaResult result, boolean staleConnection) {
    }

    private Exchange exchange(URI uri, String token, byte[] body, Duration budget) {
        HttpPost post = new HttpPost(uri);
        post.setConfig(requestConfig(budget));
        post.setHeader("Accept", "application/json");
        if (token != null && !token.isBlank()) {
            post.setHeader("Authorization", "Bearer " + token);
        }
        post.setEntity(new ByteArrayEntity(body, ContentType.APPLICATION_JSON));
        HttpClientContext context = HttpClientContext.create();
        ScheduledFuture<?> abort = Deadlines.TIMER.schedule(post::abort, budget.toMillis(), TimeUnit.MILLISECONDS);
        try (CloseableHttpResponse response = http.execute(post, context)) {
            RouteInfo route = context.getHttpRoute();
            if (route != null && route.getProxyHost() != null) {
                return new Exchange(OpaResult.failed("the call to " + uri + " went through the proxy "
                        + route.getProxyHost() + " (Keycloak's outgoing proxy settings); OPA must be reached directly"
                        + " (NO_PROXY)"), false);
            }
            int status = response.getStatusLine().getStatusCode();
            if (status != 200) {
                // the connection is closed, not reused: errors are rare
                return new Exchange(parseResponse(status, null), false);
            }
            byte[] answer = readBounded(response.getEntity());
            if (answer == null) {
                return new Exchange(OpaResult.failed("OPA answer from " + uri + " exceeds " + MAX_BODY_BYTES
                        + " bytes"), false);
            }
            return new Exchange(parseResponse(status, answer), false);
        } catch (Exception e) {
            if (post.isAborted() || e instanceof SocketTimeoutException) {
                // the scheduled abort and the read timeout (both at the deadline) race; either is the deadline
                return new Exchange(OpaResult.failed("timeout: no complete answer from " + uri + " within "
                        + deadline.toMillis() + " ms"), false);
            }
            // Connection refused, DNS, TLS, pool exhausted, connection closed ... : all the same to the caller.
            Throwable cause = e.getCause() != null && e.getMessage() == null ? e.getCause() : e;
            return new Exchange(OpaResult.failed(e.getClass().getSimpleName() + " calling " + uri
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage())), isStale(e));
        } finally {
            abort.cancel(false);
        }
    }

    /**
     * A kept-alive connection the server had already closed: the request went out (or could not be written) and no
     * status line came back. Apache reports it as {@link NoHttpResponseException}, or a reset/broken pipe when the
     * server's host refused the write. A refused connect is not stale: OPA is down, and asking again would not help.
     */
    static boolean isStale(Exception e) {
        return e instanceof NoHttpResponseException
                || e instanceof SocketException && !(e instanceof ConnectException);
    }

    /**
     * Per-request settings (they replace Keycloak's defaults for this call only). Waiting for a pooled connection
     * and connecting get half the deadline each, so together they stay within it; reading gets the whole deadline,
     * and the scheduled abort ends the exchange at the deadline whatever the reads do.
     */
    static RequestConfig requestConfig(Duration deadline) {
        int total = (int) Math.min(Integer.MAX_VALUE, deadline.toMillis());
        int half = Math.max(1, total / 2);
        return RequestConfig.custom()
                .setConnectionRequestTimeout(half)
                .setConnectTimeout(half)
                .setSocketTimeout(total)
                .setRedirectsEnabled(false)
                .setExpectContinueEnabled(false)
                .build();
    }

    /** The whole body, or null when it is larger than {@link #MAX_BODY_BYTES}. */
    static byte[] readBounded(HttpEntity entity) throws IOException {
        if (entity == null) {
            return new byte[0];
        }
        try (InputStream in = entity.getContent()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(
                    (int) Math.max(256, Math.min(entity.getContentLength(), 64 * 1024)));
            byte[] buffer = new byte[8192];
            int read;
            while ((read = in.read(buffer)) != -1) {
                if (out.size() + read > MAX_BODY_BYTES) {
                    return null;
                }
                out.write(buffer, 0, read);
            }
            return out.toByteArray();
        }
    }

    static URI dataUri(String baseUrl, String dataPath) {
        if (baseUrl == null || baseUrl.isBlank()) {
            throw new IllegalArgumentException("empty");
        }
        String base = baseUrl.trim();
        while (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        String path = dataPath.startsWith("/") ? dataPath.substring(1) : dataPath;
        URI uri = URI.create(base + "/v1/data/" + path);
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https") || uri.getHost() == null) {
            throw new IllegalArgumentException("expected http(s)://host[:port]");
        }
        return uri;
    }

    /** Turns OPA's HTTP answer into a result; public for unit tests of the fail-closed rules. */
    public static OpaResult parseResponse(int status, byte[] body) {
        if (status != 200) {
            return OpaResult.failed("OPA answered HTTP " + status);
        }
        JsonNode root;
        try {
            root = JSON.readTree(body == null ? new byte[0] : body);
        } catch (Exception e) {
            return OpaResult.failed("unparsable OPA response: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            return OpaResult.failed("OPA response is not a JSON object");
        }
        JsonNode result = root.get("result");
        if (result == null || result.isMissingNode()) {
            // OPA returns {} when the rule is undefined, e.g. the policy is not loaded.
            return OpaResult.failed("decision undefined (policy not loaded?)");
        }
        return OpaResult.ok(result);
    }
}
