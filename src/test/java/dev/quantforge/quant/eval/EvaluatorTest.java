package dev.quantforge.quant.eval;

import dev.quantforge.quant.InvalidInputException;
import dev.quantforge.quant.data.InputBinding;
import dev.quantforge.quant.progress.CancelledException;
import dev.quantforge.quant.progress.Progress;
import dev.quantforge.quant.runtime.OrtModel;
import dev.quantforge.quant.testdata.TestNpz;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static dev.quantforge.quant.testdata.Models.*;
import static org.junit.jupiter.api.Assertions.*;

class EvaluatorTest {

    private static TestNpz eval;
    private final Evaluator evaluator = new Evaluator();

    @BeforeAll
    static void readData() throws IOException {
        eval = TestNpz.read(MNIST8_EVAL);
    }

    @Test
    void mnist8Top1OnTheEvalSplit() {
        List<Double> fractions = new ArrayList<>();
        try (OrtModel model = OrtModel.load(MNIST8)) {
            Map<String, String> binding = InputBinding.bind(model.inputs(), eval.tensors());
            EvaluationResult result = evaluator.evaluateTop1(model, eval, binding, 64, Long.MAX_VALUE,
                    (fraction, phase, message) -> {
                        assertEquals("evaluate", phase);
                        fractions.add(fraction);
                    });
            assertEquals(2000, result.samples());
            assertEquals(1961, result.correct());
            assertEquals(0.9805, result.top1(), 1e-12);
            assertNull(result.agreement());
        }
        // fixed batch 1 → one update per sample, ending at 1.0
        assertEquals(2000, fractions.size());
        assertEquals(1.0, fractions.get(fractions.size() - 1));
    }

    @Test
    void maxSamplesLimitsTheEvaluation() {
        try (OrtModel model = OrtModel.load(MNIST8)) {
            EvaluationResult result = evaluator.evaluateTop1(model, eval, Map.of("Input3", "Input3"), 1, 100, Progress.NONE);
            assertEquals(100, result.samples());
        }
    }

    @Test
    void tribuoCnnOnRawPixelsSameResultForBatch32AndBatch1() {
        // The Tribuo CNN expects raw 0..255 pixels under the name input_image.
        TestNpz raw = eval.scaled("Input3", "input_image", 255f);
        try (OrtModel model = OrtModel.load(TRIBUO_CNN)) {
            Map<String, String> binding = InputBinding.bind(model.inputs(), raw.tensors());
            assertEquals(Map.of("input_image", "input_image"), binding);
            List<String> messages = new ArrayList<>();
            EvaluationResult batched = evaluator.evaluateTop1(model, raw, binding, 32, Long.MAX_VALUE,
                    (fraction, phase, message) -> messages.add(message));
            EvaluationResult single = evaluator.evaluateTop1(model, raw, binding, 1, Long.MAX_VALUE, Progress.NONE);
            assertEquals(2000, batched.samples());
            // Measured: 1966/2000 = 0.983 on test images 1000..2999 (a harder slice than the whole test set:
            // mnist-8 gets 98.05% here vs 98.90% overall). The published 99.04% is checked on the IDX files below.
            assertTrue(batched.top1() >= 0.98, "top1 " + batched.top1());
            assertEquals(single, batched);
            assertEquals(63, messages.size()); // ceil(2000 / 32) batches
            assertEquals("2000/2000 samples", messages.get(messages.size() - 1));
        }
    }

    @Test
    void tribuoCnnMatchesTheVerifiedFigureOnTheFirst1000TestImages() throws IOException {
        // SOURCES.md: raw 0..255 pixels, test images [0,1000) → 98.90%.
        TestNpz first1000 = TestNpz.fromIdx(DATASETS.resolve("mnist/t10k-images-idx3-ubyte.gz"),
                DATASETS.resolve("mnist/t10k-labels-idx1-ubyte.gz"), "input_image", 1000);
        try (OrtModel model = OrtModel.load(TRIBUO_CNN)) {
            EvaluationResult result = evaluator.evaluateTop1(model, first1000,
                    InputBinding.bind(model.inputs(), first1000.tensors()), 100, Long.MAX_VALUE, Progress.NONE);
            assertEquals(1000, result.samples());
            assertEquals(989, result.correct());
        }
    }

    @Test
    void mnist8AndMnist7AgreeEverywhere() {
        try (OrtModel mnist8 = OrtModel.load(MNIST8); OrtModel mnist7 = OrtModel.load(MNIST7)) {
            EvaluationResult result = evaluator.evaluateTop1(mnist8, mnist7, eval, Map.of("Input3", "Input3"), 16, 500,
                    Progress.NONE);
            assertEquals(500, result.samples());
            assertEquals(1.0, result.agreement());
        }
    }

    @Test
    void evaluationNeedsLabels() {
        try (OrtModel model = OrtModel.load(MNIST8)) {
            InvalidInputException e = assertThrows(InvalidInputException.class, () -> evaluator.evaluateTop1(model,
                    eval.withoutLabels(), Map.of("Input3", "Input3"), 1, 10, Progress.NONE));
            assertTrue(e.getMessage().startsWith("evaluation needs labels"), e.getMessage());
        }
    }

    @Test
    void cancellationStopsTheEvaluation() {
        AtomicInteger updates = new AtomicInteger();
        Progress cancelAfterThree = (fraction, phase, message) -> {
            if (updates.incrementAndGet() > 3) {
                throw new CancelledException("cancelled by test");
            }
        };
        try (OrtModel model = OrtModel.load(MNIST8)) {
            CancelledException e = assertThrows(CancelledException.class, () -> evaluator.evaluateTop1(model, eval,
                    Map.of("Input3", "Input3"), 1, Long.MAX_VALUE, cancelAfterThree));
            assertEquals("cancelled by test", e.getMessage());
        }
        assertEquals(4, updates.get());
    }

    @Test
    void argmaxTakesTheFirstMaximum() {
        assertEquals(1, Evaluator.argmax(new float[] {0f, 3f, 3f, -1f}));
        assertEquals(0, Evaluator.argmax(new float[] {5f}));
        assertEquals(2, Evaluator.argmax(new float[] {Float.NaN, 1f, 2f}));
    }
}
