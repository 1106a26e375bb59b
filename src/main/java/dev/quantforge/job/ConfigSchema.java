package dev.quantforge.job;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.platform.ApiException.FieldError;

/**
 * A small declarative schema for job configs: known keys, types, ranges and defaults. It
 * validates a submitted config (one field error per problem, with its JSON path) and returns the
 * effective config with defaults filled in. Unknown keys are errors, so a typo never silently
 * falls back to a default.
 */
public final class ConfigSchema {

    private final Map<String, Field> fields = new LinkedHashMap<>();

    private ConfigSchema() {
    }

    public static ConfigSchema object() {
        return new ConfigSchema();
    }

    private interface Field {
        /** Validates {@code value} (null when absent) and returns the effective value (null = omit). */
        JsonNode apply(String path, JsonNode value, List<FieldError> errors);
    }

    public ConfigSchema section(String name, Consumer<ConfigSchema> body) {
        ConfigSchema nested = new ConfigSchema();
        body.accept(nested);
        fields.put(name, (path, value, errors) -> {
            if (value != null && !value.isObject()) {
                errors.add(new FieldError(path, "must be an object"));
                return null;
            }
            return nested.apply(path, value, errors);
        });
        return this;
    }

    /** An integer in [min, max]; {@code dflt} null means "absent unless given". */
    public ConfigSchema intField(String name, Long dflt, long min, long max) {
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return dflt == null ? null : JsonNodeFactory.instance.numberNode(dflt);
            }
            if (!value.isNumber() || !value.canConvertToExactIntegral()) {
                errors.add(new FieldError(path, "must be an integer"));
                return null;
            }
            // beyond 64 bits (9223372036854775808, 1e30) is out of range too, not a parse failure
            if (!value.canConvertToLong() || value.asLong() < min || value.asLong() > max) {
                errors.add(new FieldError(path, "must be between " + min + " and " + max + ", got " + value));
                return null;
            }
            return JsonNodeFactory.instance.numberNode(value.asLong());
        });
        return this;
    }

    /** A number in [min, max]. */
    public ConfigSchema numberField(String name, Double dflt, double min, double max) {
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return dflt == null ? null : JsonNodeFactory.instance.numberNode(dflt);
            }
            if (!value.isNumber()) {
                errors.add(new FieldError(path, "must be a number"));
                return null;
            }
            double v = value.asDouble();
            if (!(v >= min && v <= max)) {
                errors.add(new FieldError(path, "must be between " + min + " and " + max + ", got " + value));
                return null;
            }
            return JsonNodeFactory.instance.numberNode(v);
        });
        return this;
    }

    public ConfigSchema boolField(String name, Boolean dflt) {
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return dflt == null ? null : JsonNodeFactory.instance.booleanNode(dflt);
            }
            if (!value.isBoolean()) {
                errors.add(new FieldError(path, "must be true or false"));
                return null;
            }
            return value;
        });
        return this;
    }

    /** One of {@code allowed}. */
    public ConfigSchema enumField(String name, String dflt, Set<String> allowed) {
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return dflt == null ? null : JsonNodeFactory.instance.stringNode(dflt);
            }
            if (!value.isString() || !allowed.contains(value.stringValue())) {
                errors.add(new FieldError(path, "must be one of " + String.join(", ", allowed.stream().sorted().toList())
                        + ", got " + value));
                return null;
            }
            return value;
        });
        return this;
    }

    /** One of an enum's constants, written lower_snake as the API spells them; {@code dflt} null = absent unless given. */
    public <E extends Enum<E>> ConfigSchema enumField(String name, E dflt, Class<E> type) {
        return enumField(name, dflt, java.util.EnumSet.allOf(type));
    }

    /** One of {@code allowed} (enum constants, lower_snake). */
    public <E extends Enum<E>> ConfigSchema enumField(String name, E dflt, java.util.Collection<E> allowed) {
        Set<String> names = new java.util.TreeSet<>();
        allowed.forEach(e -> names.add(apiName(e)));
        return enumField(name, dflt == null ? null : apiName(dflt), names);
    }

    /** The API spelling of an enum constant: {@code PER_CHANNEL} → {@code per_channel}. */
    public static String apiName(Enum<?> e) {
        return e.name().toLowerCase(java.util.Locale.ROOT);
    }

    /** A list of an enum's constants, lower_snake (absent unless given). */
    public <E extends Enum<E>> ConfigSchema enumListField(String name, Class<E> type) {
        Set<String> names = new java.util.TreeSet<>();
        java.util.EnumSet.allOf(type).forEach(e -> names.add(apiName(e)));
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return null;
            }
            if (!value.isArray()) {
                errors.add(new FieldError(path, "must be a list of " + String.join(", ", names)));
                return null;
            }
            for (int i = 0; i < value.size(); i++) {
                if (!value.get(i).isString() || !names.contains(value.get(i).stringValue())) {
                    errors.add(new FieldError(path + "[" + i + "]", "must be one of " + String.join(", ", names) + ", got " + value.get(i)));
                }
            }
            return value;
        });
        return this;
    }

    /** A list of strings (default empty). */
    public ConfigSchema stringListField(String name) {
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return JsonNodeFactory.instance.arrayNode();
            }
            if (!value.isArray()) {
                errors.add(new FieldError(path, "must be a list of strings"));
                return null;
            }
            for (int i = 0; i < value.size(); i++) {
                if (!value.get(i).isString()) {
                    errors.add(new FieldError(path + "[" + i + "]", "must be a string"));
                }
            }
            return value;
        });
        return this;
    }

    /** A string (free text, e.g. an id); {@code maxLength} guards against abuse. */
    public ConfigSchema stringField(String name, String dflt, int maxLength) {
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return dflt == null ? null : JsonNodeFactory.instance.stringNode(dflt);
            }
            if (!value.isString() || value.stringValue().length() > maxLength) {
                errors.add(new FieldError(path, "must be a string of at most " + maxLength + " characters"));
                return null;
            }
            return value;
        });
        return this;
    }

    /** A list of objects, each validated by {@code item} (default empty). */
    public ConfigSchema objectListField(String name, Consumer<ConfigSchema> item) {
        ConfigSchema itemSchema = new ConfigSchema();
        item.accept(itemSchema);
        fields.put(name, (path, value, errors) -> {
            if (value == null || value.isNull()) {
                return JsonNodeFactory.instance.arrayNode();
            }
            if (!value.isArray()) {
                errors.add(new FieldError(path, "must be a list of objects"));
                return null;
            }
            var out = JsonNodeFactory.instance.arrayNode();
            for (int i = 0; i < value.size(); i++) {
                out.add(itemSchema.apply(path + "[" + i + "]", value.get(i), errors));
            }
            return out;
        });
        return this;
    }

    /** A value this schema does not interpret (validated elsewhere); kept as given. */
    public ConfigSchema anyField(String name) {
        fields.put(name, (path, value, errors) -> value);
        return this;
    }

    /** Validates {@code config} at {@code path} ("config"); returns the effective config. */
    public ObjectNode apply(String path, JsonNode config, List<FieldError> errors) {
        ObjectNode out = JsonNodeFactory.instance.objectNode();
        if (config != null && !config.isNull()) {
            if (!config.isObject()) {
                errors.add(new FieldError(path, "must be an object"));
                return out;
            }
            List<String> unknown = new ArrayList<>();
            for (String key : config.propertyNames()) {
                if (!fields.containsKey(key)) {
                    unknown.add(key);
                }
            }
            for (String key : unknown) {
                errors.add(new FieldError(path + "." + key, "unknown key; known keys here: " + String.join(", ", fields.keySet())));
            }
        }
        for (Map.Entry<String, Field> f : fields.entrySet()) {
            JsonNode given = config == null || config.isNull() || !config.isObject() ? null : config.get(f.getKey());
            JsonNode effective = f.getValue().apply(path + "." + f.getKey(), given, errors);
            if (effective != null) {
                out.set(f.getKey(), effective);
            }
        }
        return out;
    }
}
