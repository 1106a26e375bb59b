package dev.quantforge.webhook;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code X-Quantforge-Signature: sha256=<hex>}: HMAC-SHA256, keyed with the webhook's secret (the whole
 * {@code whsec_...} string as UTF-8), over {@code <X-Quantforge-Timestamp> + "." + <the raw body>}. A receiver recomputes
 * it, compares in constant time, and refuses timestamps too far from its clock (replays).
 */
public final class WebhookSignature {

    public static final String HEADER = "X-Quantforge-Signature";
    public static final String TIMESTAMP = "X-Quantforge-Timestamp";
    public static final String EVENT = "X-Quantforge-Event";
    public static final String EVENT_ID = "X-Quantforge-Event-Id";
    public static final String ATTEMPT = "X-Quantforge-Delivery-Attempt";

    private WebhookSignature() {
    }

    public static String sign(String secret, long timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return "sha256=" + HexFormat.of().formatHex(mac.doFinal((timestamp + "." + body).getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
