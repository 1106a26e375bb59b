package dev.quantforge.platform.access;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Collections;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.Projects;
import dev.quantforge.testsupport.ServiceTest;

/**
 * Without QF_API_TOKEN the service is zero-setup on this machine: requests from loopback need no key and act as the
 * default project's admin; the same request from another address of this host is refused (QF_OPEN_ACCESS=true opens it).
 */
class OpenAccessTest extends ServiceTest {

    @Test
    void openAccessIsForLoopbackOnly() throws Exception {
        Api.Res me = api().get("/api/v1/projects/current");
        assertThat(me.status()).isEqualTo(200);
        assertThat(me.json().path("projectId").asString()).isEqualTo(ProjectAccess.DEFAULT_PROJECT_ID.toString());
        assertThat(me.json().path("projectName").asString()).isEqualTo("default");
        assertThat(me.json().path("caller").asString()).isEqualTo("open access");

        // this host's own non-loopback address: a real connection whose remote address is not loopback
        InetAddress external = nonLoopbackAddress().orElseThrow(() -> new AssertionError(
                "this host has no non-loopback IPv4 address to test open access from; the test needs one"));
        HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + external.getHostAddress() + ":" + port + "/api/v1/models")).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(401);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        assertThat(r.body()).contains("loopback only").contains("QF_OPEN_ACCESS");
        // a key works from anywhere
        String key = Projects.key(api(), ProjectAccess.DEFAULT_PROJECT_ID.toString(), "read");
        HttpResponse<String> withKey = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create("http://" + external.getHostAddress() + ":" + port + "/api/v1/models"))
                .header("Authorization", "Bearer " + key).timeout(Duration.ofSeconds(30)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(withKey.statusCode()).isEqualTo(200);
        // a wrong key is refused even on loopback
        assertThat(new Api(port).withToken("qf_not-a-key").get("/api/v1/models").status()).isEqualTo(401);
    }

    private static Optional<InetAddress> nonLoopbackAddress() throws Exception {
        for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!n.isUp() || n.isLoopback()) {
                continue;
            }
            for (InetAddress a : Collections.list(n.getInetAddresses())) {
                if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                    return Optional.of(a);
                }
            }
        }
        return Optional.empty();
    }
}
