package org.bizid.keycloak.opa;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Locale;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Minimal client for OPA's data API ({@code POST /v1/data/<path>} with {@code {"input": ...}}).
 *
 * Every problem (unreachable, timeout, non-200, unparsable body, undefined decision) becomes an
 * {@link OpaResult#failed} value instead of an exception, so callers cannot forget to fail closed.
 * Nothing is cached: each call asks OPA again, so the platform recovers as soon as OPA does.
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

    public static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    public static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);

    private static final ObjectMapper JSON = new ObjectMapper();

    // One HttpClient per JVM keeps the connection pool warm; it holds no decisions.
    private static final class Shared {
        static final OpaClient INSTANCE = new OpaClient(CONNECT_TIMEOUT, REQUEST_TIMEOUT);
    }

    private static volatile String spiToken;

    private final HttpClient http;
    private final Duration requestTimeout;

    public OpaClient(Duration connectTimeout, Duration requestTimeout) {
        this.http = HttpClient.newBuilder()
                .connectTimeout(connectTimeout)
                // OPA speaks HTTP/1.1; skipping the h2c upgrade attempt saves a round trip.
                .version(HttpClient.Version.HTTP_1_1)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
        this.requestTimeout = requestTimeout;
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

    public static OpaClient shared() {
        return Shared.INSTANCE;
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
        try {
            ObjectNode body = JSON.createObjectNode();
            body.set("input", input);
            HttpRequest.Builder request = HttpRequest.newBuilder(uri)
                    .timeout(requestTimeout)
                    .header("Content-Type", "application/json")
                    .header("Accept", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofByteArray(JSON.writeValueAsBytes(body)));
            if (token != null && !token.isBlank()) {
                request.header("Authorization", "Bearer " + token);
            }
            HttpResponse<byte[]> response = http.send(request.build(), HttpResponse.BodyHandlers.ofByteArray());
            return parseResponse(response.statusCode(), response.body());
        } catch (HttpTimeoutException e) {
            return OpaResult.failed("timeout calling " + uri);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return OpaResult.failed("interrupted calling " + uri);
        } catch (Exception e) {
            // Connection refused, DNS, TLS, serialization ... : all the same to the caller.
            Throwable cause = e.getCause() != null && e.getMessage() == null ? e.getCause() : e;
            return OpaResult.failed(e.getClass().getSimpleName() + " calling " + uri
                    + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
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
