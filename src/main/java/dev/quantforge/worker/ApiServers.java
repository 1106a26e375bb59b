package dev.quantforge.worker;

import java.net.URI;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The API replicas a remote worker talks to ({@code qf.server-url} / QF_SERVER_URL, comma-separated): one is current,
 * and a call that cannot reach it (connection refused or reset, a 503 of a replica that is down, draining or without
 * its database) moves the worker to the next. Any replica serves any job: they share PostgreSQL and the object store.
 */
final class ApiServers {

    private final List<String> urls;
    private final AtomicInteger current = new AtomicInteger();

    ApiServers(String commaSeparated) {
        this.urls = Arrays.stream(commaSeparated.split(",")).map(String::trim).filter(s -> !s.isEmpty())
                .map(s -> s.replaceAll("/+$", "")).toList();
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("no API server URL (qf.server-url / QF_SERVER_URL, comma-separated for several replicas)");
        }
        for (String u : urls) {
            URI uri = URI.create(u);
            if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null) {
                throw new IllegalArgumentException("not an http(s) URL in qf.server-url: " + u);
            }
        }
    }

    int size() {
        return urls.size();
    }

    /** The replica calls go to now. */
    String current() {
        return urls.get(Math.floorMod(current.get(), urls.size()));
    }

    /** {@code failed} could not serve a call: the next replica becomes current (unless another thread moved on already). */
    void failed(String failed) {
        int i = current.get();
        if (urls.get(Math.floorMod(i, urls.size())).equals(failed)) {
            current.compareAndSet(i, i + 1);
        }
    }

    /**
     * {@code url} (an input's download address, written by the replica that handed out the lease) on the replica
     * {@code base}: the leasing replica may be gone by the time the worker downloads.
     */
    String relocate(String url, String base) {
        for (String u : urls) {
            if (url.startsWith(u + "/")) {
                return base + url.substring(u.length());
            }
        }
        return url;
    }

    @Override
    public String toString() {
        return String.join(",", urls);
    }
}
