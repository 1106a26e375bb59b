package dev.quantforge.artifact;

import java.util.UUID;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@RestController
@Tag(name = "artifacts", description = "Files produced by jobs")
public class HistogramController {

    private final HistogramService histograms;

    public HistogramController(HistogramService histograms) {
        this.histograms = histograms;
    }

    @GetMapping("/api/v1/artifacts/{id}/histograms")
    @Operation(summary = "The tensors of a histograms artifact (a ptq job's calibration) with their statistics")
    public HistogramService.Listing list(@PathVariable UUID id) {
        return histograms.list(id);
    }

    @GetMapping("/api/v1/artifacts/{id}/histograms/tensor")
    @Operation(summary = "One tensor's histogram and the range each calibrator chooses from it",
            description = "counts[i] is the number of values in [start + i·width, start + (i+1)·width): the signed histogram trimmed "
                    + "to the observed values and merged into at most 'bars' bars. calibrators: max, percentile, entropy, mse and auto "
                    + "(methodUsed: the one auto picks), computed as a ptq job with activations.dtype = 'activations' would.")
    public HistogramService.TensorHistogramView tensor(@PathVariable UUID id, @RequestParam String name,
                                                       @RequestParam(defaultValue = "uint8") String activations,
                                                       @RequestParam(defaultValue = "99.99") double percentile,
                                                       @RequestParam(defaultValue = "256") int bars) {
        return histograms.tensor(id, name, activations, percentile, bars);
    }
}
