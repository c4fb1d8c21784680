package org.bizid.keycloak.opa;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpServer;

/** A tiny HTTP server on loopback that answers like OPA would (or wouldn't). */
public final class FakeOpa implements AutoCloseable {

    public volatile int status = 200;
    public volatile String body = "{\"result\": {}}";
    public volatile long delayMillis = 0;
    public final List<String> requests = new CopyOnWriteArrayList<>();
    public final List<String> paths = new CopyOnWriteArrayList<>();
    /** The Authorization header of each request ("" when absent). */
    public final List<String> authorizations = new CopyOnWriteArrayList<>();
    /** The client's port of each request: one value for many requests means one kept-alive connection. */
    public final List<Integer> clientPorts = new CopyOnWriteArrayList<>();
    /** Sent as the Location header when set (redirect tests). */
    public volatile String location;

    private final HttpServer server;

    public FakeOpa() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/", exchange -> {
            requests.add(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            paths.add(exchange.getRequestMethod() + " " + exchange.getRequestURI().getPath());
            String authorization = exchange.getRequestHeaders().getFirst("Authorization");
            authorizations.add(authorization == null ? "" : authorization);
            clientPorts.add(exchange.getRemoteAddress().getPort());
            try {
                Thread.sleep(delayMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            byte[] out = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            if (location != null) {
                exchange.getResponseHeaders().add("Location", location);
            }
            exchange.sendResponseHeaders(status, out.length == 0 ? -1 : out.length);
            try (OutputStream os = exchange.getResponseBody()) {
                os.write(out);
            } catch (IOException ignored) {
                // client gave up (timeout test)
            }
        });
        server.start();
    }

    public String url() {
        return "http://127.0.0.1:" + port();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
