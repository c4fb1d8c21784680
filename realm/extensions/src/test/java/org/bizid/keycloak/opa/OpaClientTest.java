package org.bizid.keycloak.opa;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpaClientTest {

    private FakeOpa opa;
    // Generous timeouts: the build machine may be busy; only slowOpaTimesOut uses a short one.
    private final OpaClient client = new OpaClient(Duration.ofSeconds(5), Duration.ofSeconds(5));
    private final ObjectNode input = OpaClient.json().createObjectNode().put("x", 1);

    @BeforeEach
    void start() throws IOException {
        opa = new FakeOpa();
    }

    @AfterEach
    void stop() {
        opa.close();
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
        OpaClient impatient = new OpaClient(Duration.ofSeconds(2), Duration.ofMillis(300));
        long start = System.nanoTime();
        OpaResult result = impatient.query(opa.url(), "p", input);
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertFalse(result.isOk());
        assertTrue(result.failure().contains("timeout"), result.failure());
        assertTrue(millis < 4000, "gave up after " + millis + " ms");
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
