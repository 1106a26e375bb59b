package dev.quantforge.platform;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.IntegerSchema;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.responses.ApiResponses;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;

/**
 * The OpenAPI document clients are generated from (clients/openapi.json; OpenApiSpecTest keeps the two equal): a real
 * title and version, the bearer scheme, Jackson trees as free-form JSON objects (not Jackson's classes as beans), the
 * problem+json answers every operation can give, 201 / 204 where the API answers them, and concrete media types.
 */
@Configuration(proxyBeanMethods = false)
public class OpenApiConfig {

    /** The API's version (the document's info.version); /api/v1 paths. */
    public static final String API_VERSION = "1.0.0";
    static final String PROBLEM = "Problem";
    static final String PROBLEM_JSON = "application/problem+json";

    static {
        // config, result, metrics, capabilities...: JSON objects whose keys depend on the job type
        SpringDocUtils.getConfig()
                .replaceWithSchema(tools.jackson.databind.JsonNode.class, new Schema<>().description("any JSON value"))
                .replaceWithSchema(tools.jackson.databind.node.ObjectNode.class, new ObjectSchema().additionalProperties(true)
                        .description("a JSON object"))
                .replaceWithSchema(SseEmitter.class, new StringSchema().description("server-sent events"));
    }

    private static Schema<?> problemSchema() {
        Schema<?> fieldError = new ObjectSchema().addProperty("field", new StringSchema()).addProperty("message", new StringSchema());
        Schema<?> problem = new ObjectSchema()
                .description("RFC 9457 problem details: detail says what to fix; errors name the fields")
                .addProperty("type", new StringSchema().format("uri"))
                .addProperty("title", new StringSchema())
                .addProperty("status", new IntegerSchema())
                .addProperty("detail", new StringSchema())
                .addProperty("instance", new StringSchema())
                .addProperty("errors", new ArraySchema().items(fieldError));
        problem.setRequired(List.of("type", "title", "status", "detail"));
        return problem;
    }

    @Bean
    OpenAPI quantforgeOpenApi() {
        return new OpenAPI()
                .info(new Info().title("Quantforge API").version(API_VERSION)
                        .description("Self-hosted ONNX model quantization: upload models and datasets, run jobs (evaluate, benchmark, "
                                + "ptq, sensitivity, auto_quantize, qat) on workers, follow them, keep a report per measured "
                                + "configuration. Authenticate with 'Authorization: Bearer <key>' (QF_API_TOKEN or a project's API key)."))
                .components(new Components()
                        .addSecuritySchemes("bearer", new SecurityScheme().type(SecurityScheme.Type.HTTP).scheme("bearer")
                                .description("QF_API_TOKEN or a project's API key (qf_...)")))
                // a fixed server: the document is the same whatever port or host served it (clients set their own base URL)
                .servers(List.of(new io.swagger.v3.oas.models.servers.Server().url("http://localhost:8080")
                        .description("the default local service; point clients at yours")))
                .addSecurityItem(new SecurityRequirement().addList("bearer"));
    }

    @Bean
    OpenApiCustomizer quantforgeResponses() {
        return api -> {
            if (api.getPaths() == null) {
                return;
            }
            api.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, op) -> {
                bodies(op);
                responses(path, method, op);
            }));
            // added here, after springdoc dropped the schemas no operation referenced yet
            api.getComponents().addSchemas(PROBLEM, problemSchema());
            schemas(api.getComponents().getSchemas());
        };
    }

    static final List<String> JOB_TYPES = List.of("evaluate", "benchmark", "ptq", "sensitivity", "auto_quantize", "qat", "compile_tensorrt");
    static final List<String> JOB_STATES = List.of("queued", "running", "succeeded", "failed", "cancelled");

    private static Schema<?> freeForm(String description) {
        return new ObjectSchema().additionalProperties(true).description(description);
    }

    private static Schema<?> enumOf(List<String> values, String description) {
        StringSchema e = new StringSchema();
        e.setEnum(values);
        return e.description(description);
    }

    /** Request bodies springdoc cannot see: multipart parts read as form fields, Jackson trees, the raw upload. */
    private static void bodies(Operation op) {
        String id = op.getOperationId() == null ? "" : op.getOperationId();
        switch (id) {
            case "uploadModelRaw", "uploadModel" -> {
                op.setOperationId("uploadModel");
                op.setSummary("Upload an ONNX model: multipart part 'file' (and 'name')");
                op.setDescription("201 with the model; 200 with the existing model when identical bytes were uploaded before. "
                        + "The raw bytes as an application/octet-stream body (name as a query parameter) work too; this "
                        + "document describes the multipart form only, one body per operation for generated clients.");
                Schema<?> parts = new ObjectSchema().addProperty("file", new StringSchema().format("binary").description("the .onnx file"))
                        .addProperty("name", new StringSchema().description("a name; default: the file name without .onnx"));
                parts.setRequired(List.of("file"));
                op.setRequestBody(new io.swagger.v3.oas.models.parameters.RequestBody().required(true).content(new Content()
                        .addMediaType("multipart/form-data", new MediaType().schema(parts))));
                op.setParameters(null);
            }
            case "uploadDataset" -> {
                Schema<?> parts = new ObjectSchema()
                        .addProperty("file", new StringSchema().format("binary").description("npz, npy, a zip of images in class folders, .txt or .jsonl"))
                        .addProperty("name", new StringSchema())
                        .addProperty("format", enumOf(List.of("npz", "npy", "image_folder", "text"), "detected when absent"))
                        .addProperty("preprocessing", new StringSchema().description("JSON: resize, scale, mean, std, layout, channelOrder, grayscale"))
                        .addProperty("tokenizer", new StringSchema().format("binary").description("text: the model's tokenizer.json"))
                        .addProperty("text", new StringSchema().description("text: JSON {maxLength, inputNames}"));
                parts.setRequired(List.of("file"));
                op.setRequestBody(new io.swagger.v3.oas.models.parameters.RequestBody().required(true).content(new Content()
                        .addMediaType("multipart/form-data", new MediaType().schema(parts))));
                op.setParameters(null);
            }
            case "completeJob" -> {
                Schema<?> parts = new ObjectSchema()
                        .description("the part 'result', plus one file part per artifact, named by its 'part'")
                        .addProperty("result", new StringSchema().description("JSON {result, reports:[...], artifacts:[{kind, name, part, resultField}]}"));
                parts.setRequired(List.of("result"));
                op.setRequestBody(new io.swagger.v3.oas.models.parameters.RequestBody().required(true).content(new Content()
                        .addMediaType("multipart/form-data", new MediaType().schema(parts))));
            }
            case "submitJob" -> op.setRequestBody(new io.swagger.v3.oas.models.parameters.RequestBody().required(true).content(new Content()
                    .addMediaType("application/json", new MediaType().schema(new Schema<>().$ref("#/components/schemas/JobSubmission")))));
            case "storeJobReport" -> op.getRequestBody().setContent(new Content().addMediaType("application/json",
                    new MediaType().schema(freeForm("{config, metrics, runtime, layers}"))));
            default -> {
            }
        }
        if (id.equals("leaseJob") || id.equals("compareReports")) {
            op.getResponses().get("200").setContent(new Content().addMediaType("application/json", new MediaType().schema(
                    freeForm(id.equals("leaseJob") ? "the task: {job, model, datasets, leaseSeconds, heartbeatSeconds}"
                            : "{reports, metricDeltas, configurationDifferences}"))));
        }
    }

    /** Typed where the records hold Jackson trees or plain strings: enums, free-form objects, the submission body. */
    @SuppressWarnings({"rawtypes", "unchecked"})
    private static void schemas(Map<String, Schema> all) {
        if (all == null) {
            return;
        }
        Schema job = all.get("JobView");
        if (job != null) {
            job.getProperties().put("type", enumOf(JOB_TYPES, null));
            job.getProperties().put("state", enumOf(JOB_STATES, null));
            job.getProperties().put("config", freeForm("the effective configuration: the submitted one completed with defaults"));
            job.getProperties().put("result", freeForm("the job type's result (null until it succeeded)"));
        }
        Schema report = all.get("ReportView");
        if (report != null) {
            report.getProperties().put("config", freeForm("the layer configuration measured"));
            report.getProperties().put("metrics", freeForm("top1, latencyP50Ms, sqnrDb, ..."));
            report.getProperties().put("runtime", freeForm("where it was measured"));
            report.getProperties().put("layers", new ArraySchema().items(freeForm("one quantized layer")));
        }
        Schema registration = all.get("Registration");
        if (registration != null) {
            registration.getProperties().put("capabilities", freeForm("{cpu:true, onnxruntime:{...}, cuda:true, tensorrt:\"10.x\", tags:[...]}"));
        }
        Schema worker = all.get("WorkerInfo");
        if (worker != null) {
            worker.getProperties().put("capabilities", freeForm(null));
            worker.getProperties().put("state", enumOf(List.of("live", "gone"), null));
        }
        Schema delivery = all.get("Delivery");
        if (delivery != null) {
            delivery.getProperties().put("state", enumOf(List.of("pending", "delivered", "failed"), null));
            delivery.getProperties().put("event", enumOf(List.of("job.succeeded", "job.failed", "job.cancelled", "report.created"), null));
        }
        for (String name : List.of("NewWebhook", "CreatedWebhook", "WebhookView")) {
            if (all.get(name) != null) {
                all.get(name).getProperties().put("events", new ArraySchema().items(
                        enumOf(List.of("job.succeeded", "job.failed", "job.cancelled", "report.created"), null)));
            }
        }
        for (String name : List.of("NewKey", "CreatedKey", "KeyView", "Whoami")) {
            if (all.get(name) != null) {
                all.get(name).getProperties().put("scopes", new ArraySchema().items(enumOf(List.of("read", "submit", "admin", "worker"), null)));
            }
        }
        for (String name : List.of("IoInfo", "TensorView")) {
            if (all.get(name) != null) {
                all.get(name).getProperties().put("shape", new ArraySchema().items(new Schema<>()
                        .description("a dimension: an integer, or the name of a dynamic one (a string)")));
            }
        }
        Schema<?> submission = new ObjectSchema()
                .description("A job to run; config is validated and completed with the type's defaults (README: job configuration)")
                .addProperty("type", enumOf(JOB_TYPES, null))
                .addProperty("modelId", new StringSchema().format("uuid"))
                .addProperty("calibrationDatasetId", new StringSchema().format("uuid"))
                .addProperty("evaluationDatasetId", new StringSchema().format("uuid"))
                .addProperty("trainingDatasetId", new StringSchema().format("uuid"))
                .addProperty("config", freeForm("the job type's configuration ({} for the defaults)"))
                .addProperty("priority", new IntegerSchema().minimum(java.math.BigDecimal.valueOf(-1000)).maximum(java.math.BigDecimal.valueOf(1000)))
                .addProperty("maxAttempts", new IntegerSchema().minimum(java.math.BigDecimal.ONE).maximum(java.math.BigDecimal.valueOf(20)));
        submission.setRequired(List.of("type", "modelId"));
        all.put("JobSubmission", submission);
    }

    private static void responses(String path, PathItem.HttpMethod method, Operation op) {
        String id = op.getOperationId() == null ? "" : op.getOperationId();
        ApiResponses rs = op.getResponses() == null ? new ApiResponses() : op.getResponses();
        ApiResponse ok = rs.get("200");
        if (ok != null) {
            concreteMediaTypes(ok);
        }
        if (id.startsWith("create") || id.startsWith("register")) {
            rs.remove("200");
            rs.addApiResponse("201", ok == null ? new ApiResponse().description("Created") : ok.description("Created"));
        } else if (id.startsWith("upload") || id.equals("submitJob")) {
            rs.addApiResponse("201", copy(ok, "Created"));
            if (ok != null) {
                ok.description(id.equals("submitJob") ? "The job an Idempotency-Key was first used for" : "The same bytes existed already");
            }
        } else if (id.startsWith("delete") || id.startsWith("revoke")) {
            rs.remove("200");
            rs.addApiResponse("204", new ApiResponse().description("Deleted"));
        } else if (id.equals("leaseJob")) {
            rs.addApiResponse("204", new ApiResponse().description("No job this worker can run within waitSeconds"));
        }
        Map<String, String> errors = new LinkedHashMap<>();
        errors.put("400", "Bad request: the detail says what to fix");
        errors.put("401", "No key, or the key is not valid");
        errors.put("403", "The key's scopes do not allow this");
        if (path.contains("{")) {
            errors.put("404", "Not found (or another project's)");
        }
        if (id.startsWith("upload")) {
            errors.put("413", "Larger than QF_UPLOAD_MAX_BYTES, or past the project's maxStorageBytes");
        }
        if (id.startsWith("delete") || id.equals("cancelJob") || id.equals("retryJob") || id.equals("createProject")
                || id.equals("completeJob") || id.equals("failJob") || id.equals("storeJobReport")) {
            errors.put("409", "Conflict with the object's state (the detail says which)");
        }
        if (id.equals("submitJob")) {
            errors.put("422", "Idempotency-Key reused for a different body");
            errors.put("429", "The project's maxConcurrentJobs is reached");
        }
        List<String> codes = new ArrayList<>(errors.keySet());
        for (String code : codes) {
            rs.addApiResponse(code, new ApiResponse().description(errors.get(code)).content(new Content().addMediaType(PROBLEM_JSON,
                    new MediaType().schema(new Schema<>().$ref("#/components/schemas/" + PROBLEM)))));
        }
        op.setResponses(rs);
    }

    private static ApiResponse copy(ApiResponse ok, String description) {
        ApiResponse r = new ApiResponse().description(description);
        if (ok != null && ok.getContent() != null) {
            Content c = new Content();
            ok.getContent().forEach(c::addMediaType);
            r.setContent(c);
        }
        return r;
    }

    /** springdoc says {@code *}/{@code *} when a method declares no produces: JSON, or bytes for downloads and PNGs. */
    private static void concreteMediaTypes(ApiResponse r) {
        Content content = r.getContent();
        if (content == null) {
            return;
        }
        MediaType any = content.remove("*/*");
        if (any != null) {
            Schema<?> s = any.getSchema();
            content.addMediaType(s != null && "binary".equals(s.getFormat()) ? "application/octet-stream" : "application/json", any);
        }
        MediaType json = content.get("application/json");
        if (json != null && json.getSchema() != null && "byte".equals(json.getSchema().getFormat())) {
            // byte[] answers are the PNG sample previews
            content.remove("application/json");
            content.addMediaType("image/png", new MediaType().schema(new StringSchema().format("binary")));
        }
    }
}
