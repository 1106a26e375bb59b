/**
 * One handler per job type: an adapter that declares its type ({@code JobTypeSpec}: inputs, capabilities,
 * config schema), binds the job's config into the engine's typed records, calls the engine's front door and
 * stores what it returns as a result, reports and artifacts. Handlers do not depend on each other
 * (ArchitectureTest); what several share — the quantization config, stored reports, result parts — lives in
 * {@code QuantizationConfig}, {@code StoredReports} and {@code Results}.
 */
package dev.quantforge.worker.tasks;
