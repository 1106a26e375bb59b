package dev.quantforge.webhook;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import com.sun.net.httpserver.HttpServer;

/** A real HTTP receiver on loopback that records every POST and answers {@code failFirst} times 503, then 200. */
final class Receiver implements AutoCloseable {

    record Request(String path, Map<String, List<String>> headers, String body, int answered) {
        String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).map(e -> e.getValue().get(0)).findFirst()
                    .orElse(null);
        }
    }

    private final HttpServer server;
    private final AtomicInteger failuresLeft;
    final List<Request> requests = new CopyOnWriteArrayList<>();

    Receiver(int port, int failFirst) {
        this.failuresLeft = new AtomicInteger(failFirst);
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            int status = failuresLeft.getAndDecrement() > 0 ? 503 : 200;
            requests.add(new Request(exchange.getRequestURI().getPath(), Map.copyOf(exchange.getRequestHeaders()), body, status));
            exchange.sendResponseHeaders(status, -1);
            exchange.close();
        });
        server.start();
    }

    int port() {
        return server.getAddress().getPort();
    }

    String url(String path) {
        return "http://127.0.0.1:" + port() + path;
    }

    /** The first request answered 200 that matches, waiting up to {@code timeout}. */
    Request await(Predicate<Request> match, Duration timeout) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < end) {
            for (Request r : requests) {
                if (r.answered() == 200 && match.test(r)) {
                    return r;
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no delivery arrived within " + timeout + "; received: " + requests);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
