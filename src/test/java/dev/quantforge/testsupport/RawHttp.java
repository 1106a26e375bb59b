package dev.quantforge.testsupport;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * HTTP/1.1 over a plain socket: the request line goes out byte for byte as written (no client
 * normalises its path, like {@code curl --path-as-is}), for tests of how the server treats odd paths
 * and headers.
 */
public final class RawHttp {

    private RawHttp() {
    }

    public record Response(int status, String contentType, String body) {
    }

    /** Sends {@code method target HTTP/1.1} with the given extra header lines ("Name: value"), no body. */
    public static Response send(int port, String method, String target, String... headerLines) {
        try (Socket socket = new Socket("127.0.0.1", port)) {
            socket.setSoTimeout(30_000);
            StringBuilder req = new StringBuilder(method).append(' ').append(target).append(" HTTP/1.1\r\n")
                    .append("Host: 127.0.0.1:").append(port).append("\r\n").append("Connection: close\r\n");
            boolean hasBody = method.equals("POST") || method.equals("PUT");
            if (hasBody) {
                req.append("Content-Type: application/json\r\nContent-Length: 2\r\n");
            }
            for (String h : headerLines) {
                req.append(h).append("\r\n");
            }
            req.append("\r\n");
            if (hasBody) {
                req.append("{}");
            }
            OutputStream out = socket.getOutputStream();
            out.write(req.toString().getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            in.transferTo(all);
            return parse(all.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Response parse(String raw) {
        int headEnd = raw.indexOf("\r\n\r\n");
        String head = headEnd < 0 ? raw : raw.substring(0, headEnd);
        String body = headEnd < 0 ? "" : raw.substring(headEnd + 4);
        String[] lines = head.split("\r\n");
        int status = Integer.parseInt(lines[0].split(" ")[1]);
        String contentType = "";
        boolean chunked = false;
        for (String l : lines) {
            String lower = l.toLowerCase(Locale.ROOT);
            if (lower.startsWith("content-type:")) {
                contentType = l.substring(13).trim();
            }
            if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                chunked = true;
            }
        }
        return new Response(status, contentType, chunked ? dechunk(body) : body);
    }

    private static String dechunk(String body) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < body.length()) {
            int eol = body.indexOf("\r\n", i);
            if (eol < 0) {
                break;
            }
            int size = Integer.parseInt(body.substring(i, eol).trim().split(";")[0], 16);
            if (size == 0) {
                break;
            }
            out.append(body, eol + 2, Math.min(body.length(), eol + 2 + size));
            i = eol + 2 + size + 2;
        }
        return out.toString();
    }
}
