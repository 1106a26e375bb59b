package dev.quantforge.job;

import java.util.List;
import java.util.Set;

import tools.jackson.databind.JsonNode;

import dev.quantforge.platform.ApiException;

/**
 * What the API needs to know about a job type to accept a submission: which inputs it needs,
 * which worker capabilities, and how to validate (and complete with defaults) its config.
 * Implemented by the task handlers in the worker package; a type with no implementation is
 * not built yet and is refused with 400.
 */
public interface JobTypeSpec {

    String type();

    /** Capability tags a worker must advertise to run this type (e.g. "onnxruntime"). */
    Set<String> requirements();

    /** Which dataset roles the type needs; each is checked at submission. */
    Set<DatasetRole> requiredDatasets();

    /** Dataset roles the type can use when given. */
    default Set<DatasetRole> optionalDatasets() {
        return Set.of();
    }

    /** True when the job quantizes: a model without quantizable nodes is refused at submission. */
    default boolean needsQuantizableNodes() {
        return false;
    }

    /** Checks the model itself (e.g. ops the job cannot handle); adds field errors. */
    default void validateModel(dev.quantforge.quant.inspect.ModelSummary summary, List<ApiException.FieldError> errors) {
    }

    /** Dataset roles whose dataset must carry labels (e.g. the evaluation set of a top-1 evaluation). */
    default Set<DatasetRole> labelledDatasets() {
        return Set.of();
    }

    /**
     * Validates the submitted config; adds one error per bad field (paths start with "config.").
     * Returns the effective config with every default filled in, which the job stores.
     */
    JsonNode validateConfig(JsonNode config, List<ApiException.FieldError> errors);

    enum DatasetRole {
        CALIBRATION("calibrationDatasetId"), EVALUATION("evaluationDatasetId"), TRAINING("trainingDatasetId");

        private final String field;

        DatasetRole(String field) {
            this.field = field;
        }

        public String field() {
            return field;
        }
    }
}
