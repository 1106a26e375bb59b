package dev.quantforge.webhook;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.util.Optional;

/**
 * Where webhook deliveries may go. The service POSTs to URLs its users choose, from inside the deployment's network:
 * without a guard a project admin could make it call the cloud's metadata service (169.254.169.254), the database,
 * or anything else only the service can reach (server-side request forgery). Unless
 * {@code QF_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true}, a receiver must resolve to public addresses only — checked when
 * the webhook is registered and again before every delivery (a name may resolve elsewhere later).
 */
final class WebhookAddresses {

    private WebhookAddresses() {
    }

    /** Why deliveries to {@code url} are refused, or empty when they may go there. */
    static Optional<String> refusal(String url, boolean allowPrivate) {
        if (allowPrivate) {
            return Optional.empty();
        }
        String host = URI.create(url).getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            return Optional.of("its host " + host + " does not resolve");
        }
        for (InetAddress a : addresses) {
            if (internal(a)) {
                return Optional.of("its host " + host + " resolves to " + a.getHostAddress() + ", an address inside the network"
                        + " (loopback, private, link-local or metadata); set QF_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true to allow"
                        + " receivers inside your network");
            }
        }
        return Optional.empty();
    }

    static boolean internal(InetAddress a) {
        if (a.isLoopbackAddress() || a.isAnyLocalAddress() || a.isLinkLocalAddress() || a.isSiteLocalAddress() || a.isMulticastAddress()) {
            return true;
        }
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int first = b[0] & 0xff;
            int second = b[1] & 0xff;
            // 0/8 "this network", 100.64/10 carrier-grade NAT (some clouds' internal services), 198.18/15 benchmarking, 240/4 reserved
            return first == 0 || (first == 100 && second >= 64 && second < 128) || (first == 198 && (second == 18 || second == 19))
                    || first >= 240;
        }
        if (a instanceof Inet6Address) {
            // fc00::/7 unique local; ::ffff:0:0/96 IPv4-mapped is resolved by Java to an Inet4Address already
            return (b[0] & 0xfe) == 0xfc;
        }
        return false;
    }
}
