package org.bizid.keycloak.opa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.apache.http.HttpHost;
import org.apache.http.client.config.RequestConfig;
import org.apache.http.impl.client.CloseableHttpClient;
import org.apache.http.impl.client.HttpClientBuilder;
import org.apache.http.impl.conn.PoolingHttpClientConnectionManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpaClientTest {

    private FakeOpa opa;
    private CloseableHttpClient http;
    // A generous deadline: the build machine may be busy; the deadline tests use a short one.
    private OpaClient client;
    private final ObjectNode input = OpaClient.json().createObjectNode().put("x", 1);

    /** Built as Keycloak's DefaultHttpClientFactory builds its client (pool, no cookies, its default timeouts). */
    static HttpClientBuilder keycloakLike() {
        PoolingHttpClientConnectionManager pool = new PoolingHttpClientConnectionManager();
        pool.setMaxTotal(128);
        pool.setDefaultMaxPerRoute(64);
        return HttpClientBuilder.create()
                .setConnectionManager(pool)
                .disableCookieManagement()
                .setDefaultRequestConfig(RequestConfig.custom()
                        .setSocketTimeout(5000).setConnectTimeout(-1).setConnectionRequestTimeout(5000).build());
    }

    @BeforeEach
    void start() throws IOException {
        opa = new FakeOpa();
        http = keycloakLike().build();
        client = new OpaClient(http, Duration.ofSeconds(5));
    }

    @AfterEach
    void stop() throws IOException {
        opa.close();
        http.close();
    }

    @Test
    void postsInputToTheDataApi() throws Exception {
        opa.body = "{\"result\": {\"allow\": true}, \"decision_id\": \"d\"}";
        OpaResult result = client.query(opa.url() + "/", "bizid/access/decision", input);
        assertTrue(result.isOk());
        assertTrue(result.result().get("allow").booleanValue());
        assertEquals("POST /v1/data/bizid/access/decision", opa.paths.get(0));
        JsonNode sent = OpaClient.json().readTree(opa.requests.get(0));
        assertEquals(1, sent.path("input").path("x").intValue());
    }

    @Test
    void non200IsAFailure() {
        opa.status = 500;
        opa.body = "{\"code\": \"internal_error\"}";
        OpaResult result = client.query(opa.url(), "bizid/access/decision", input);
        assertFalse(result.isOk());
        assertTrue(result.failure().contains("500"), result.failure());
    }

    @Test
    void garbageIsAFailure() {
        opa.body = "<html>proxy error</html>";
        assertFalse(client.query(opa.url(), "p", input).isOk());
        opa.body = "[1,2]";
        assertFalse(client.query(opa.url(), "p", input).isOk());
        opa.body = "";
        assertFalse(client.query(opa.url(), "p", input).isOk());
    }

    @Test
    void undefinedDecisionIsAFailure() {
        opa.body = "{}";
        OpaResult result = client.query(opa.url(), "p", input);
        assertFalse(result.isOk());
        assertTrue(result.failure().contains("undefined"), result.failure());
    }

    @Test
    void slowOpaTimesOut() {
        opa.delayMillis = 5000;
        OpaClient impatient = new OpaClient(http, Duration.ofMillis(300));
        OpaResult result = impatient.query(opa.url(), "p", input);
        assertFalse(result.isOk());
        assertTrue(result.failure().contains("timeout"), result.failure());
    }

    /**
     * An OPA that answers "200, allow" a byte at a time never trips a per-read socket timeout; the total deadline
     * must still end the call (without it the read goes on until the server gives up, then fails differently).
     */
    @Test
    void dripFedAnswerHitsTheTotalDeadline() throws Exception {
        try (ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Thread dripper = new Thread(() -> drip(server), "drip-opa");
            dripper.setDaemon(true);
            dripper.start();
            OpaClient impatient = new OpaClient(http, Duration.ofMillis(500));
            OpaResult result = impatient.query("http://127.0.0.1:" + server.getLocalPort(), "p", input);
            assertFalse(result.isOk());
            assertTrue(result.failure().contains("timeout"), result.failure());
        }
    }

    private static void drip(ServerSocket server) {
        try (Socket socket = server.accept()) {
            InputStream in = socket.getInputStream();
            in.read(new byte[65536]); // the request (small): read what came, answer slowly
            OutputStream out = socket.getOutputStream();
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n"
                    + "{\"result\": {\"allow\": true}").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; i < 400; i++) { // ~20 s, far beyond the deadline; ends when the client hangs up
                Thread.sleep(50);
                out.write(' ');
                out.flush();
            }
        } catch (IOException | InterruptedException ignored) {
            // the client aborted: expected
        }
    }

    @Test
    void decisionsReuseOneConnection() {
        opa.body = "{\"result\": {\"allow\": true}}";
        for (int i = 0; i < 5; i++) {
            assertTrue(client.query(opa.url(), "p", input).isOk());
        }
        assertEquals(1, new HashSet<>(opa.clientPorts).size(), "client ports: " + opa.clientPorts);
    }

    /**
     * An OPA that restarted (or closed idle connections) leaves dead entries in the pool. The next decision on one
     * gets no answer at all; it is asked once more on a new connection instead of refusing a sign-in.
     */
    @Test
    void aDeadPooledConnectionIsReplacedWithinTheDeadline() throws Exception {
        try (ClosingOpa closing = new ClosingOpa(true)) {
            for (int i = 0; i < 3; i++) {
                OpaResult result = client.query(closing.url(), "p", input);
                assertTrue(result.isOk(), "decision " + i + ": " + result.failure());
            }
            assertEquals(3, closing.answered.get(), "each decision answered once");
        }
    }

    /** A server that never answers gets exactly one more try, not a loop. */
    @Test
    void aServerThatNeverAnswersIsAskedTwiceThenFailsClosed() throws Exception {
        try (ClosingOpa silent = new ClosingOpa(false)) {
            OpaResult result = client.query(silent.url(), "p", input);
            assertFalse(result.isOk());
            assertTrue(result.failure().contains("NoHttpResponse"), result.failure());
            assertEquals(2, silent.connections.get(), "connections");
        }
    }

    @Test
    void onlyAConnectionThatAnsweredNothingCountsAsStale() {
        assertTrue(OpaClient.isStale(new org.apache.http.NoHttpResponseException("x")));
        assertTrue(OpaClient.isStale(new java.net.SocketException("Connection reset")));
        assertFalse(OpaClient.isStale(new java.net.ConnectException("Connection refused")));
        assertFalse(OpaClient.isStale(new java.net.SocketTimeoutException("Read timed out")));
        assertFalse(OpaClient.isStale(new IOException("other")));
    }

    /**
     * Reads one request per connection and then either answers it and closes the connection without saying so
     * (as a restarting OPA leaves a kept-alive connection behind), or closes it without answering.
     */
    private static final class ClosingOpa implements AutoCloseable {
        final java.util.concurrent.atomic.AtomicInteger connections = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger answered = new java.util.concurrent.atomic.AtomicInteger();
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final boolean answer;

        ClosingOpa(boolean answer) throws IOException {
            this.answer = answer;
            Thread acceptor = new Thread(this::serve, "closing-opa");
            acceptor.setDaemon(true);
            acceptor.start();
        }

        String url() {
            return "http://127.0.0.1:" + server.getLocalPort();
        }

        private void serve() {
            while (!server.isClosed()) {
                try (Socket socket = server.accept()) {
                    connections.incrementAndGet();
                    readRequest(socket.getInputStream());
                    if (answer) {
                        // Counted before the answer is written: the client can only return after reading it,
                        // so the test's count after its last decision never races this thread.
                        answered.incrementAndGet();
                        byte[] body = "{\"result\": {\"allow\": true}}".getBytes(StandardCharsets.US_ASCII);
                        OutputStream out = socket.getOutputStream();
                        out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                                + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        out.write(body);
                        out.flush();
                    }
                } catch (IOException ignored) {
                    // closed by close(), or the client went away
                }
            }
        }

        /** Headers up to the blank line, then Content-Length bytes of body. */
        private static void readRequest(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int c = in.read();
                if (c < 0) {
                    return;
                }
                head.append((char) c);
            }
            int length = 0;
            for (String line : head.toString().split("\r\n")) {
                if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(line.substring(15).trim());
                }
            }
            in.readNBytes(length);
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    @Test
    void oversizedAnswerIsAFailure() {
        opa.body = "{\"result\": \"" + "x".repeat(OpaClient.MAX_BODY_BYTES) + "\"}";
        OpaResult result = client.query(opa.url(), "p", input);
        assertFalse(result.isOk());
        assertTrue(result.failure().contains("exceeds"), result.failure());
    }

    @Test
    void redirectsAreNotFollowed() throws IOException {
        try (FakeOpa elsewhere = new FakeOpa()) {
            elsewhere.body = "{\"result\": {\"allow\": true}}";
            opa.status = 303; // Apache would follow a 303 after a POST (as a GET) if redirects were on
            opa.location = elsewhere.url() + "/v1/data/p";
            OpaResult result = client.query(opa.url(), "p", input);
            assertFalse(result.isOk());
            assertTrue(result.failure().contains("303"), result.failure());
            assertTrue(elsewhere.paths.isEmpty(), "followed the redirect: " + elsewhere.paths);
        }
    }

    /** With an outgoing proxy, "OPA at 127.0.0.1" would be whatever listens on the proxy's loopback. */
    @Test
    void anAnswerThroughAProxyIsRefused() throws IOException {
        opa.body = "{\"result\": {\"allow\": true}}"; // plays the proxy, and says allow
        try (CloseableHttpClient proxied = keycloakLike()
                .setProxy(new HttpHost("127.0.0.1", opa.port(), "http")).build()) {
            OpaResult result = new OpaClient(proxied, Duration.ofSeconds(5))
                    .query("http://127.0.0.1:9", "p", input);
            assertFalse(result.isOk());
            assertTrue(result.failure().contains("proxy"), result.failure());
            assertEquals(1, opa.paths.size(), "the proxy was not asked, so this test proves nothing");
        }
    }

    @Test
    void withoutAnHttpClientEveryQueryFails() {
        opa.body = "{\"result\": {\"allow\": true}}";
        assertFalse(new OpaClient(null, Duration.ofSeconds(5)).query(opa.url(), "p", input).isOk());
        assertFalse(OpaClient.of(null).query(opa.url(), "p", input).isOk());
        assertTrue(opa.paths.isEmpty());
    }

    @Test
    void unreachableOpaIsAFailure() throws IOException {
        int freePort;
        try (ServerSocket socket = new ServerSocket(0)) {
            freePort = socket.getLocalPort();
        }
        OpaResult result = client.query("http://127.0.0.1:" + freePort, "p", input);
        assertFalse(result.isOk());
    }

    @Test
    void badUrlsAreFailuresNotExceptions() {
        assertFalse(client.query("", "p", input).isOk());
        assertFalse(client.query("not a url", "p", input).isOk());
        assertFalse(client.query("file:///etc/passwd", "p", input).isOk());
        assertFalse(client.query("127.0.0.1:18181", "p", input).isOk());
    }

    @Test
    void recoversAsSoonAsOpaDoes() {
        opa.status = 503;
        assertFalse(client.query(opa.url(), "p", input).isOk());
        opa.status = 200;
        opa.body = "{\"result\": {\"allow\": true}}";
        assertTrue(client.query(opa.url(), "p", input).isOk());
    }

    @Test
    void parseResponseRules() {
        assertTrue(OpaClient.parseResponse(200, bytes("{\"result\": false}")).isOk());
        assertTrue(OpaClient.parseResponse(200, bytes("{\"result\": null}")).isOk());
        assertFalse(OpaClient.parseResponse(200, null).isOk());
        assertFalse(OpaClient.parseResponse(204, bytes("{\"result\": {}}")).isOk());
        assertFalse(OpaClient.parseResponse(200, bytes("{\"result\": ")).isOk());
    }

    @Test
    void baseUrlResolutionOrder() {
        assertEquals("http://a", OpaClient.resolveBaseUrl("http://a", "http://b", "http://c"));
        assertEquals("http://b", OpaClient.resolveBaseUrl(" ", "http://b", "http://c"));
        assertEquals("http://c", OpaClient.resolveBaseUrl(null, null, "http://c"));
        assertEquals(OpaClient.DEFAULT_URL, OpaClient.resolveBaseUrl(null, "", null));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void sendsTheBearerTokenWhenOneIsGiven() {
        opa.body = "{\"result\": {\"allow\": true}}";
        assertTrue(client.query(opa.url(), "s3cret-token", "bizid/access/decision", input).isOk());
        assertEquals("Bearer s3cret-token", opa.authorizations.get(0));
        client.query(opa.url(), null, "bizid/access/decision", input);
        assertEquals("", opa.authorizations.get(1));
    }

    @Test
    void opaRefusingTheTokenFailsClosed() {
        opa.status = 401;
        opa.body = "{\"code\": \"unauthorized\"}";
        OpaResult result = client.query(opa.url(), "wrong", "bizid/access/decision", input);
        assertFalse(result.isOk());
        assertTrue(result.failure().contains("401"), result.failure());
    }

    @Test
    void tokenResolutionOrder() {
        assertEquals("spi", OpaClient.resolveToken(" spi ", "env"));
        assertEquals("env", OpaClient.resolveToken(" ", "env"));
        assertNull(OpaClient.resolveToken(null, ""));
    }
}
