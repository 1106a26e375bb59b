package dev.quantforge.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code X-Quantforge-Signature: t=<unix seconds>,v1=<hex>} (API.md): v1 is HMAC-SHA256, keyed with the webhook's secret
 * (the whole {@code whsec_...} string as UTF-8), over {@code <t> + "." + <the raw body>}; t is also sent as
 * {@code X-Quantforge-Timestamp}. A receiver recomputes it, compares in constant time, and refuses a t too far from its
 * clock (replays).
 */
public final class WebhookSignature {

    public static final String HEADER = "X-Quantforge-Signature";
    public static final String TIMESTAMP = "X-Quantforge-Timestamp";
    public static final String EVENT = "X-Quantforge-Event";
    public static final String EVENT_ID = "X-Quantforge-Event-Id";
    /** The delivery's unique id (API.md's name; the same value as {@link #EVENT_ID}). */
    public static final String DELIVERY = "X-Quantforge-Delivery";
    public static final String ATTEMPT = "X-Quantforge-Delivery-Attempt";

    private WebhookSignature() {
    }

    public static String sign(String secret, long timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "t=" + timestamp + ",v1=" + HexFormat.of().formatHex(mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
