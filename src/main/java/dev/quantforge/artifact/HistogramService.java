package dev.quantforge.artifact;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Service;

import dev.quantforge.platform.ApiException;
import dev.quantforge.quant.calib.CalibrationMethod;
import dev.quantforge.quant.calib.CalibrationParams;
import dev.quantforge.quant.calib.CalibrationResult;
import dev.quantforge.quant.calib.Calibrators;
import dev.quantforge.quant.calib.HistogramSet;
import dev.quantforge.quant.calib.TensorHistogram;
import dev.quantforge.storage.BlobStore;

/**
 * Reads a {@code histograms} artifact (a {@link HistogramSet}) for people: the calibrated tensors,
 * and one tensor's histogram re-binned for a chart with the range every calibrator chooses from it.
 */
@Service
public class HistogramService {

    public static final String KIND = "histograms";

    private final ArtifactRepository artifacts;
    private final BlobStore blobs;

    public HistogramService(ArtifactRepository artifacts, BlobStore blobs) {
        this.artifacts = artifacts;
        this.blobs = blobs;
    }

    /** A calibrated tensor's statistics. */
    public record TensorStats(String name, long count, double min, double max, double absMax, double mean, long nanCount,
                              long infCount) {
        static TensorStats of(String name, TensorHistogram h) {
            return new TensorStats(name, h.count(), h.count() == 0 ? 0 : h.min(), h.count() == 0 ? 0 : h.max(), h.absMax(), h.mean(),
                    h.nanCount(), h.infCount());
        }
    }

    public record Listing(UUID artifactId, int bins, long samples, List<TensorStats> tensors) {
    }

    /**
     * One calibrator's range. For {@code auto}, {@code methodUsed} names the calibrator it picked.
     */
    public record CalibratorRange(String calibrator, String methodUsed, double min, double max, double amax, double expectedMse) {
    }

    /**
     * The signed histogram over [{@code start}, {@code start + counts.length · width}) — trimmed to the
     * observed values and merged into at most the asked number of bars — and each calibrator's range.
     */
    public record TensorHistogramView(UUID artifactId, String tensor, int bins, long samples, TensorStats stats,
                                      String activations, double percentile, double start, double width, long[] counts,
                                      List<CalibratorRange> calibrators) {
    }

    public Listing list(UUID artifactId) {
        HistogramSet set = read(artifactId);
        List<TensorStats> tensors = new ArrayList<>();
        set.histograms().forEach((name, h) -> tensors.add(TensorStats.of(name, h)));
        return new Listing(artifactId, set.bins(), set.samples(), tensors);
    }

    /**
     * @param activations {@code uint8} (asymmetric, ONNX Runtime CPU) or {@code int8} (symmetric, TensorRT): the
     *                    ptq job's {@code activations.dtype}
     * @param percentile  the percentile calibrator's percentile
     * @param bars        at most this many bars
     */
    public TensorHistogramView tensor(UUID artifactId, String tensor, String activations, double percentile, int bars) {
        List<ApiException.FieldError> errors = new ArrayList<>();
        if (!"uint8".equals(activations) && !"int8".equals(activations)) {
            errors.add(new ApiException.FieldError("activations", "must be uint8 or int8 (the job's activations.dtype), got '"
                    + activations + "'"));
        }
        if (!(percentile >= 50 && percentile <= 100)) {
            errors.add(new ApiException.FieldError("percentile", "must be between 50 and 100, got " + percentile));
        }
        if (bars < 8 || bars > 4096) {
            errors.add(new ApiException.FieldError("bars", "must be between 8 and 4096, got " + bars));
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        HistogramSet set = read(artifactId);
        TensorHistogram h = set.histograms().get(tensor);
        if (h == null) {
            List<String> names = new ArrayList<>(set.histograms().keySet());
            String some = String.join(", ", names.subList(0, Math.min(10, names.size()))) + (names.size() > 10 ? ", ..." : "");
            throw new ApiException(HttpStatus.NOT_FOUND, "Not found", "artifact " + artifactId + " has no histogram of tensor '"
                    + tensor + "'; it has " + names.size() + ": " + some, null);
        }
        boolean symmetric = "int8".equals(activations);
        CalibrationParams params = (symmetric ? CalibrationParams.int8Symmetric() : CalibrationParams.uint8Asymmetric())
                .withPercentile(percentile);
        List<CalibratorRange> ranges = new ArrayList<>();
        for (CalibrationMethod m : CalibrationMethod.values()) {
            CalibrationResult r = Calibrators.compute(h, m, params);
            ranges.add(new CalibratorRange(m.apiName(), r.methodUsed().apiName(), r.range().min(), r.range().max(), r.range().amax(),
                    r.expectedMse()));
        }
        long[] signed = h.signedCounts();
        int first = 0;
        while (first < signed.length && signed[first] == 0) {
            first++;
        }
        int last = signed.length - 1;
        while (last >= first && signed[last] == 0) {
            last--;
        }
        double w = h.binWidth();
        double start = 0;
        double width = w;
        long[] counts = new long[0];
        if (first <= last) {
            int span = last - first + 1;
            int merge = (span + bars - 1) / bars;
            counts = new long[(span + merge - 1) / merge];
            for (int k = first; k <= last; k++) {
                counts[(k - first) / merge] += signed[k];
            }
            start = -h.range() + first * w;
            width = merge * w;
        }
        return new TensorHistogramView(artifactId, tensor, set.bins(), set.samples(), TensorStats.of(tensor, h), activations, percentile,
                start, width, counts, ranges);
    }

    private HistogramSet read(UUID artifactId) {
        ArtifactRepository.Artifact a = artifacts.find(artifactId).orElseThrow(() -> ApiException.notFound("artifact", artifactId));
        if (!KIND.equals(a.kind())) {
            throw ApiException.badRequest("artifact " + artifactId + " is a '" + a.kind() + "' artifact, not '" + KIND
                    + "'; a ptq job's histograms are its result.histogramsArtifactId");
        }
        try (InputStream in = new BufferedInputStream(Files.newInputStream(blobs.localFile(a.sha256())))) {
            return HistogramSet.read(in);
        } catch (IOException e) {
            throw new IllegalStateException("histograms artifact " + artifactId + " cannot be read: " + e.getMessage(), e);
        }
    }
}
