package dev.quantforge.webhook;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;

/**
 * The server-side request forgery guard: by default a webhook cannot point at loopback, private, link-local (the
 * cloud metadata service), carrier-grade-NAT or unique-local addresses, nor at a name that does not resolve.
 */
class WebhookAddressTest extends ServiceTest {

    @Test
    void receiversInsideTheNetworkAreRefusedAtRegistration() {
        for (String url : List.of("http://127.0.0.1:9/hook", "http://localhost/hook", "http://169.254.169.254/latest/meta-data/",
                "http://10.1.2.3/hook", "http://192.168.0.10:8080/hook", "http://172.16.5.5/hook", "http://[::1]/hook",
                "http://[fd00::1]/hook", "http://100.64.0.1/hook", "http://0.0.0.0/hook", "http://no-such-host.invalid/hook")) {
            Api.Res r = api().postJson("/api/v1/webhooks", Map.of("url", url, "events", List.of("job.succeeded")));
            assertThat(r.status()).as(url + ": " + r.body()).isEqualTo(400);
            assertThat(r.detail()).as(url).startsWith("url: deliveries cannot go there: its host");
        }
        assertThat(api().postJson("/api/v1/webhooks", Map.of("url", "http://169.254.169.254/", "events", List.of("job.failed")))
                .detail()).contains("QF_WEBHOOK_ALLOW_PRIVATE_ADDRESSES=true");
    }

    @Test
    void publicAddressesAreReceivers() throws Exception {
        for (String ip : List.of("8.8.8.8", "1.1.1.1", "203.0.113.7", "2001:4860:4860::8888", "100.128.0.1")) {
            assertThat(WebhookAddresses.internal(InetAddress.getByName(ip))).as(ip).isFalse();
        }
        // a literal public address needs no DNS: it may be registered
        Api.Res r = api().postJson("/api/v1/webhooks", Map.of("url", "https://203.0.113.7/hook", "events", List.of("job.succeeded")));
        assertThat(r.status()).as(r.body()).isEqualTo(201);
        api().delete("/api/v1/webhooks/" + r.json().path("id").asString());
    }

    @Test
    void theGuardCanBeTurnedOffForReceiversInsideTheNetwork() {
        assertThat(WebhookAddresses.refusal("http://127.0.0.1:9/hook", true)).isEmpty();
        assertThat(WebhookAddresses.refusal("http://127.0.0.1:9/hook", false)).get().asString().contains("127.0.0.1");
    }
}
