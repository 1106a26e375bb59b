package dev.quantforge.platform;

import com.fasterxml.jackson.annotation.JsonInclude;

import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.MapperFeature;
import tools.jackson.databind.cfg.EnumFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * The API's JSON conventions for typed configs and results, in one mapper: enums are lower_snake
 * ({@code per_channel} ↔ {@code PER_CHANNEL}), absent values are left out (a result without labels has
 * no {@code top1}, never {@code 0}), and a config bound into a record may carry keys other records read
 * (the config schema has already refused unknown keys).
 */
public final class ApiJson {

    public static final JsonMapper MAPPER = JsonMapper.builder()
            .enable(MapperFeature.ACCEPT_CASE_INSENSITIVE_ENUMS)
            .enable(EnumFeature.WRITE_ENUMS_TO_LOWERCASE)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .changeDefaultPropertyInclusion(i -> i.withValueInclusion(JsonInclude.Include.NON_NULL))
            .build();

    private ApiJson() {
    }

    /** A typed value (a result record) as a JSON object. */
    public static ObjectNode tree(Object value) {
        return MAPPER.valueToTree(value);
    }

    /** A JSON value as any tree (arrays, objects). */
    public static JsonNode node(Object value) {
        return MAPPER.valueToTree(value);
    }

    /** A validated config (or a part of it) bound into a record. */
    public static <T> T bind(JsonNode json, Class<T> type) {
        return MAPPER.treeToValue(json, type);
    }
}
