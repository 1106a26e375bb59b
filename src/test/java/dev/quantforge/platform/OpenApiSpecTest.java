package dev.quantforge.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * The OpenAPI document is part of the API: the one served at {@code /v3/api-docs} equals the committed
 * {@code clients/openapi.json} (so an API change is a visible diff; {@code QF_WRITE_OPENAPI=true} rewrites the file),
 * it covers every path of API.md, and every operation has a stable operationId the SDKs are generated from.
 */
class OpenApiSpecTest extends ServiceTest {

    static final Path COMMITTED = Path.of("clients/openapi.json");
    private static final JsonMapper PRETTY = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    @Test
    void theServedDocumentIsTheCommittedOne() throws Exception {
        Api.Res served = api().get("/v3/api-docs");
        assertThat(served.status()).isEqualTo(200);
        String pretty = PRETTY.writeValueAsString(served.json()) + "\n";
        if ("true".equals(System.getenv("QF_WRITE_OPENAPI"))) {
            Files.writeString(COMMITTED, pretty, StandardCharsets.UTF_8);
        }
        assertThat(Files.exists(COMMITTED)).as(COMMITTED + " exists (QF_WRITE_OPENAPI=true ./mvnw test -Dtest=OpenApiSpecTest writes it)").isTrue();
        assertThat(pretty).as("the API changed: review the diff, then QF_WRITE_OPENAPI=true ./mvnw test -Dtest=OpenApiSpecTest")
                .isEqualTo(Files.readString(COMMITTED, StandardCharsets.UTF_8));
    }

    @Test
    void everyPathOfApiMdIsDocumentedAndEveryOperationHasAnId() throws Exception {
        JsonNode doc = api().get("/v3/api-docs").json();
        TreeSet<String> documented = new TreeSet<>();
        doc.path("paths").propertyNames().forEach(p -> documented.add(p.replaceAll("\\{[^}]+}", "{}")));
        String apiMd = Files.readString(SharedData.root().getParent().resolve("docs/API.md"), StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("(?:GET|POST|PUT|PATCH|DELETE)\\s+`?(/api/v1/[A-Za-z0-9_./{}-]*)").matcher(apiMd);
        List<String> missing = new ArrayList<>();
        int found = 0;
        while (m.find()) {
            found++;
            String path = m.group(1).replaceAll("[.`]+$", "").replaceAll("\\{[^}]+}", "{}");
            if (!documented.contains(path)) {
                missing.add(path);
            }
        }
        assertThat(found).as("paths found in API.md").isGreaterThan(20);
        assertThat(missing).as("API.md paths missing from /v3/api-docs").isEmpty();

        TreeSet<String> ids = new TreeSet<>();
        List<String> problems = new ArrayList<>();
        for (String path : doc.path("paths").propertyNames()) {
            for (String method : doc.path("paths").path(path).propertyNames()) {
                JsonNode op = doc.path("paths").path(path).path(method);
                String id = op.path("operationId").asString("");
                if (!id.matches("[a-z][A-Za-z]+") || !ids.add(id)) {
                    problems.add(method + " " + path + ": operationId '" + id + "'");
                }
                if (!op.path("responses").has("401")) {
                    problems.add(method + " " + path + ": no 401 response");
                }
                for (String code : op.path("responses").propertyNames()) {
                    if (op.path("responses").path(code).path("content").has("*/*")) {
                        problems.add(method + " " + path + " " + code + ": media type */*");
                    }
                }
            }
        }
        assertThat(problems).isEmpty();
        assertThat(doc.path("info").path("title").asString()).isEqualTo("Quantforge API");
        assertThat(doc.path("components").path("securitySchemes").path("bearer").path("scheme").asString()).isEqualTo("bearer");
        assertThat(doc.toString()).doesNotContain("valueNode").doesNotContain("SseEmitter");
    }
}
