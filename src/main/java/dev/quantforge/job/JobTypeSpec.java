package dev.quantforge.job;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.platform.ApiException.FieldError;
import dev.quantforge.quant.inspect.ModelSummary;

/**
 * What the API needs to know about a job type to accept a submission: the worker capabilities it
 * needs, which datasets it reads, and its config (schema, defaults, cross-field checks). Declared by the
 * task handlers in the worker package ({@link Declared}); a type of the API without a declaration is not
 * built yet and is refused with 400.
 *
 * @param requirements      capability tags a worker must advertise to run it (e.g. "onnxruntime")
 * @param requiredDatasets  dataset roles it needs; each is checked against the model at submission
 * @param optionalDatasets  dataset roles it can use when given
 * @param labelledDatasets  roles whose dataset must carry labels
 * @param quantizes         a model without quantizable nodes is refused
 * @param config            the config's keys, types, ranges and defaults
 * @param configCheck       checks across keys that a schema cannot express (may fill derived values)
 * @param submissionCheck   checks of what the submission points at: the model (e.g. ops the type cannot handle, node names an
 *                          exclusion names), its datasets (labels) and other jobs (reused histograms)
 * @param datasetCheck      which datasets the effective config needs beyond {@code requiredDatasets} (e.g. static
 *                          quantization needs a calibration set, dynamic does not)
 * @param modelFromJob      the config key (e.g. "fromJobId") naming a job whose model this one works on when the
 *                          submission has no {@code modelId}; null when {@code modelId} is required
 * @param configRequirements capability tags the effective config adds to {@code requirements} (e.g. a GPU model)
 */
public record JobTypeSpec(String type, Set<String> requirements, Set<DatasetRole> requiredDatasets, Set<DatasetRole> optionalDatasets,
                          Set<DatasetRole> labelledDatasets, boolean quantizes, ConfigSchema config, ConfigCheck configCheck,
                          SubmissionCheck submissionCheck, DatasetCheck datasetCheck, String modelFromJob,
                          ConfigRequirements configRequirements) {

    /** Something that declares a job type (a task handler). */
    public interface Declared {
        JobTypeSpec spec();
    }

    @FunctionalInterface
    public interface ConfigCheck {
        void check(ObjectNode effectiveConfig, List<FieldError> errors);
    }

    @FunctionalInterface
    public interface ConfigRequirements {
        Set<String> of(ObjectNode effectiveConfig);
    }

    @FunctionalInterface
    public interface DatasetCheck {
        /** @param given the dataset roles the submission names */
        void check(ObjectNode effectiveConfig, Set<DatasetRole> given, List<FieldError> errors);
    }

    @FunctionalInterface
    public interface SubmissionCheck {
        void check(ObjectNode effectiveConfig, Submission submission, List<FieldError> errors);
    }

    /** What a submission points at, read from the database (and, on demand, the stored model). */
    public interface Submission {
        java.util.UUID modelId();

        ModelSummary model();

        /** Every node of the model with its API name and op type, in graph order (parses the stored model on first call). */
        List<ModelSummary.NodeRef> nodes();

        /** The dataset the submission names for {@code role}. */
        java.util.Optional<DatasetFacts> dataset(DatasetRole role);

        /** Another job, when it exists (and is not deleted). */
        java.util.Optional<JobFacts> job(java.util.UUID id);
    }

    public record DatasetFacts(java.util.UUID id, String name, boolean hasLabels) {
    }

    /** @param state the API name (queued, running, succeeded, ...); @param result the job's result, null until it has one */
    public record JobFacts(java.util.UUID id, String type, java.util.UUID modelId, String state, JsonNode result) {
    }

    public static Builder of(String type, ConfigSchema config) {
        return new Builder(type, config);
    }

    /**
     * Validates a submitted config; adds one error per bad field (paths start with "config."). Returns the
     * effective config with every default filled in, which the job stores.
     */
    public JsonNode validateConfig(JsonNode submitted, List<FieldError> errors) {
        ObjectNode effective = config.apply("config", submitted, errors);
        configCheck.check(effective, errors);
        return effective;
    }

    public void validateDatasets(ObjectNode effectiveConfig, Set<DatasetRole> given, List<FieldError> errors) {
        datasetCheck.check(effectiveConfig, given, errors);
    }

    public void validateSubmission(ObjectNode effectiveConfig, Submission submission, List<FieldError> errors) {
        submissionCheck.check(effectiveConfig, submission, errors);
    }

    /** Every capability tag a worker needs to run a job with this effective config. */
    public Set<String> requirements(ObjectNode effectiveConfig) {
        Set<String> all = new java.util.TreeSet<>(requirements);
        all.addAll(configRequirements.of(effectiveConfig));
        return all;
    }

    public boolean uses(DatasetRole role) {
        return requiredDatasets.contains(role) || optionalDatasets.contains(role);
    }

    public static final class Builder {
        private final String type;
        private final ConfigSchema config;
        private Set<String> requirements = Set.of("onnxruntime");
        private final Set<DatasetRole> required = EnumSet.noneOf(DatasetRole.class);
        private final Set<DatasetRole> optional = EnumSet.noneOf(DatasetRole.class);
        private final Set<DatasetRole> labelled = EnumSet.noneOf(DatasetRole.class);
        private boolean quantizes;
        private ConfigCheck configCheck = (c, e) -> { };
        private SubmissionCheck submissionCheck = (c, s, e) -> { };
        private DatasetCheck datasetCheck = (c, g, e) -> { };
        private String modelFromJob;
        private ConfigRequirements configRequirements = c -> Set.of();

        private Builder(String type, ConfigSchema config) {
            this.type = type;
            this.config = config;
        }

        /** Capability tags a worker must advertise (default: onnxruntime). */
        public Builder requires(String... tags) {
            requirements = Set.of(tags);
            return this;
        }

        public Builder needs(DatasetRole... roles) {
            required.addAll(List.of(roles));
            return this;
        }

        public Builder accepts(DatasetRole... roles) {
            optional.addAll(List.of(roles));
            return this;
        }

        public Builder labelled(DatasetRole... roles) {
            labelled.addAll(List.of(roles));
            return this;
        }

        public Builder quantizes() {
            quantizes = true;
            return this;
        }

        public Builder checkConfig(ConfigCheck check) {
            configCheck = check;
            return this;
        }

        public Builder checkSubmission(SubmissionCheck check) {
            submissionCheck = check;
            return this;
        }

        public Builder checkDatasets(DatasetCheck check) {
            datasetCheck = check;
            return this;
        }

        /**
         * Without a {@code modelId}, the job works on the model of the job whose id is the config's {@code key}
         * (that job's existence, state and artifacts are the submission check's to verify).
         */
        public Builder modelFromJob(String key) {
            modelFromJob = key;
            return this;
        }

        /** Capability tags the effective config adds (validated config: the check has run). */
        public Builder requiresPerConfig(ConfigRequirements r) {
            configRequirements = r;
            return this;
        }

        public JobTypeSpec build() {
            return new JobTypeSpec(type, requirements, Set.copyOf(required), Set.copyOf(optional), Set.copyOf(labelled), quantizes, config,
                    configCheck, submissionCheck, datasetCheck, modelFromJob, configRequirements);
        }
    }

    public enum DatasetRole {
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
