package dev.quantforge.compile;

import ai.onnx.proto.OnnxMl;

import java.util.List;

/**
 * The QDQ ONNX graphs behind the two real engines in {@code src/test/resources/tensorrt/}. NVIDIA's
 * repository has the engines' reports but not the ONNX models, so these graphs are written here with
 * MobileNetV2's structure (inverted residual blocks, residual Add in blocks 3, 5, 6, 8, 9, 10, 12, 13, 15,
 * 16), pytorch-quantization's Q/DQ placement, and the node and tensor names the engines' layers use
 * (Conv_142, Add_144, QuantizeLinear_98, tensor "410", ...). Nodes TensorRT fuses without naming them (the
 * activation Q/DQ pairs) get names of their own ("QuantizeLinear_to_334").
 *
 * <p>The graphs carry no shapes or real weights: they exist for the plan check, which reads only the node
 * graph, and are not meant to run.
 * <ul>
 *   <li>{@link #mobilenetQat()}: no Q/DQ on the residual shortcut: each block's output stays float (it
 *       feeds the next block's quantizer and, unquantized, the next residual Add).</li>
 *   <li>{@link #mobilenetV2ResidualsQat()}: Q/DQ on both Add inputs: every block's output is quantized once
 *       and dequantized for each reader.</li>
 * </ul>
 */
final class TensorRtFixtureModels {

    /**
     * One inverted residual block: expand conv, depthwise conv, project conv, each as
     * {weight Q number, Conv number, Clip number (0 = none)}, the expand and depthwise output tensors, and
     * for residual blocks the Add number. {@code out} is the block output tensor the next layer reads; for
     * the non-residual-quantized model {@code projectOut} is the float tensor the project conv (or Add)
     * writes and {@code requantize} the QuantizeLinear number that turns it into {@code out}.
     */
    private record Block(int index, int[] expand, String expandOut, int[] depthwise, String depthwiseOut, int[] project,
                         int add, String projectOut, int requantize, String out) {
    }

    private TensorRtFixtureModels() {
    }

    /** The model of {@code mobilenet.qat.onnx.engine.*.json}. */
    static OnnxMl.ModelProto mobilenetQat() {
        Sketch s = new Sketch("input1");
        s.quantize("QuantizeLinear_2", "input1", "317");
        s.conv("317", "features.0.0.weight", 8, 12, 16, "334", true);
        s.conv("334", "features.1.conv.0.0.weight", 25, 29, 33, "351", true);
        s.conv("351", "features.1.conv.1.weight", 42, 46, 0, "365", true);
        List<Block> blocks = List.of(
                new Block(2, new int[]{56, 60, 64}, "382", new int[]{73, 77, 81}, "399", new int[]{90, 94}, 0, "410", 98, "413"),
                new Block(3, new int[]{104, 108, 112}, "430", new int[]{121, 125, 129}, "447", new int[]{138, 142}, 144, "459", 147, "462"),
                new Block(4, new int[]{153, 157, 161}, "479", new int[]{170, 174, 178}, "496", new int[]{187, 191}, 0, "507", 195, "510"),
                new Block(5, new int[]{201, 205, 209}, "527", new int[]{218, 222, 226}, "544", new int[]{235, 239}, 241, "556", 244, "559"),
                new Block(6, new int[]{250, 254, 258}, "576", new int[]{267, 271, 275}, "593", new int[]{284, 288}, 290, "605", 293, "608"),
                new Block(7, new int[]{299, 303, 307}, "625", new int[]{316, 320, 324}, "642", new int[]{333, 337}, 0, "653", 341, "656"),
                new Block(8, new int[]{347, 351, 355}, "673", new int[]{364, 368, 372}, "690", new int[]{381, 385}, 387, "702", 390, "705"),
                new Block(9, new int[]{396, 400, 404}, "722", new int[]{413, 417, 421}, "739", new int[]{430, 434}, 436, "751", 439, "754"),
                new Block(10, new int[]{445, 449, 453}, "771", new int[]{462, 466, 470}, "788", new int[]{479, 483}, 485, "800", 488, "803"),
                new Block(11, new int[]{494, 498, 502}, "820", new int[]{511, 515, 519}, "837", new int[]{528, 532}, 0, "848", 536, "851"),
                new Block(12, new int[]{542, 546, 550}, "868", new int[]{559, 563, 567}, "885", new int[]{576, 580}, 582, "897", 585, "900"),
                new Block(13, new int[]{591, 595, 599}, "917", new int[]{608, 612, 616}, "934", new int[]{625, 629}, 631, "946", 634, "949"),
                new Block(14, new int[]{640, 644, 648}, "966", new int[]{657, 661, 665}, "983", new int[]{674, 678}, 0, "994", 682, "997"),
                new Block(15, new int[]{688, 692, 696}, "1014", new int[]{705, 709, 713}, "1031", new int[]{722, 726}, 728, "1043", 731, "1046"),
                new Block(16, new int[]{737, 741, 745}, "1063", new int[]{754, 758, 762}, "1080", new int[]{771, 775}, 777, "1092", 780, "1095"),
                // block 17 feeds features.18 only: its output is quantized inside the project conv's layer
                new Block(17, new int[]{786, 790, 794}, "1112", new int[]{803, 807, 811}, "1129", new int[]{820, 824}, 0, null, 0, "1143"));
        String in = "365";
        String shortcut = null; // the float output of the previous block, read by a residual Add without Q/DQ
        for (Block b : blocks) {
            String prefix = "features." + b.index() + ".conv.";
            s.conv(in, prefix + "0.0.weight", b.expand()[0], b.expand()[1], b.expand()[2], b.expandOut(), true);
            s.conv(b.expandOut(), prefix + "1.0.weight", b.depthwise()[0], b.depthwise()[1], b.depthwise()[2], b.depthwiseOut(), true);
            if (b.projectOut() == null) {
                s.conv(b.depthwiseOut(), prefix + "2.weight", b.project()[0], b.project()[1], 0, b.out(), true);
            } else if (b.add() == 0) {
                s.conv(b.depthwiseOut(), prefix + "2.weight", b.project()[0], b.project()[1], 0, b.projectOut(), false);
                s.quantize("QuantizeLinear_" + b.requantize(), b.projectOut(), b.out());
            } else {
                String convOut = "Conv_" + b.project()[1] + "_out";
                s.conv(b.depthwiseOut(), prefix + "2.weight", b.project()[0], b.project()[1], 0, convOut, false);
                s.node("Add", "Add_" + b.add(), List.of(convOut, shortcut), b.projectOut());
                s.quantize("QuantizeLinear_" + b.requantize(), b.projectOut(), b.out());
            }
            shortcut = b.projectOut();
            in = b.out();
        }
        head(s, in, "features.18.0.weight", 834, 838, 842, "1157", 843, "1158", 854, "1166", 860, 864, "1179");
        return s.model();
    }

    /** The model of {@code mobilenet_v2_residuals.qat.onnx.engine.*.json}. */
    static OnnxMl.ModelProto mobilenetV2ResidualsQat() {
        Sketch s = new Sketch("inputs.1");
        s.quantize("QuantizeLinear_2", "inputs.1", "433");
        s.conv("433", "features.0.0.weight", 7, 9, 13, "449", true);
        s.conv("449", "features.1.conv.0.0.weight", 21, 23, 27, "465", true);
        s.conv("465", "features.1.conv.1.weight", 35, 37, 0, "478", true);
        List<Block> blocks = List.of(
                new Block(2, new int[]{46, 48, 52}, "494", new int[]{60, 62, 66}, "510", new int[]{74, 76}, 0, null, 0, "523"),
                new Block(3, new int[]{91, 93, 97}, "545", new int[]{105, 107, 111}, "561", new int[]{119, 121}, 123, null, 0, "575"),
                new Block(4, new int[]{131, 133, 137}, "591", new int[]{145, 147, 151}, "607", new int[]{159, 161}, 0, null, 0, "620"),
                new Block(5, new int[]{176, 178, 182}, "642", new int[]{190, 192, 196}, "658", new int[]{204, 206}, 208, null, 0, "672"),
                new Block(6, new int[]{222, 224, 228}, "694", new int[]{236, 238, 242}, "710", new int[]{250, 252}, 254, null, 0, "724"),
                new Block(7, new int[]{262, 264, 268}, "740", new int[]{276, 278, 282}, "756", new int[]{290, 292}, 0, null, 0, "769"),
                new Block(8, new int[]{307, 309, 313}, "791", new int[]{321, 323, 327}, "807", new int[]{335, 337}, 339, null, 0, "821"),
                new Block(9, new int[]{353, 355, 359}, "843", new int[]{367, 369, 373}, "859", new int[]{381, 383}, 385, null, 0, "873"),
                new Block(10, new int[]{399, 401, 405}, "895", new int[]{413, 415, 419}, "911", new int[]{427, 429}, 431, null, 0, "925"),
                new Block(11, new int[]{439, 441, 445}, "941", new int[]{453, 455, 459}, "957", new int[]{467, 469}, 0, null, 0, "970"),
                new Block(12, new int[]{484, 486, 490}, "992", new int[]{498, 500, 504}, "1008", new int[]{512, 514}, 516, null, 0, "1022"),
                new Block(13, new int[]{530, 532, 536}, "1044", new int[]{544, 546, 550}, "1060", new int[]{558, 560}, 562, null, 0, "1074"),
                new Block(14, new int[]{570, 572, 576}, "1090", new int[]{584, 586, 590}, "1106", new int[]{598, 600}, 0, null, 0, "1119"),
                new Block(15, new int[]{615, 617, 621}, "1141", new int[]{629, 631, 635}, "1157", new int[]{643, 645}, 647, null, 0, "1171"),
                new Block(16, new int[]{661, 663, 667}, "1193", new int[]{675, 677, 681}, "1209", new int[]{689, 691}, 693, null, 0, "1223"),
                new Block(17, new int[]{701, 703, 707}, "1239", new int[]{715, 717, 721}, "1255", new int[]{729, 731}, 0, null, 0, "1268"));
        String in = "478";
        for (Block b : blocks) {
            String prefix = "features." + b.index() + ".conv.";
            s.conv(in, prefix + "0.0.weight", b.expand()[0], b.expand()[1], b.expand()[2], b.expandOut(), true);
            s.conv(b.expandOut(), prefix + "1.0.weight", b.depthwise()[0], b.depthwise()[1], b.depthwise()[2], b.depthwiseOut(), true);
            if (b.add() == 0) {
                s.conv(b.depthwiseOut(), prefix + "2.weight", b.project()[0], b.project()[1], 0, b.out(), true);
            } else {
                // Q/DQ on both Add inputs: the conv's output and the block input (the previous block's quantized output)
                String convQ = "Conv_" + b.project()[1] + "_q";
                s.conv(b.depthwiseOut(), prefix + "2.weight", b.project()[0], b.project()[1], 0, convQ, true);
                String sum = "Add_" + b.add() + "_out";
                s.node("Add", "Add_" + b.add(), List.of(s.dequantize(convQ), s.dequantize(in)), sum);
                s.quantize("QuantizeLinear_to_" + b.out(), sum, b.out());
            }
            in = b.out();
        }
        head(s, in, "features.18.0.weight", 740, 742, 746, "1281", 747, "1282", 757, "1292", 762, 764, "1304");
        return s.model();
    }

    /** features.18 conv (float output), GlobalAveragePool, QuantizeLinear, classifier Gemm. */
    private static void head(Sketch s, String in, String weight, int wq, int conv, int clip, String convOut, int pool,
                             String poolOut, int q, String qOut, int gemmWq, int gemm, String output) {
        s.conv(in, weight, wq, conv, clip, convOut, false);
        s.node("GlobalAveragePool", "GlobalAveragePool_" + pool, List.of(convOut), poolOut);
        s.quantize("QuantizeLinear_" + q, poolOut, qOut);
        String w = s.weight("classifier.1.weight", gemmWq);
        s.initializer("classifier.1.bias");
        s.node("Gemm", "Gemm_" + gemm, List.of(s.dequantize(qOut), w, "classifier.1.bias"), output);
        s.graph.addOutput(OnnxMl.ValueInfoProto.newBuilder().setName(output));
    }

    /** A QDQ graph written node by node (names only; every constant is a one-element float initializer). */
    private static final class Sketch {
        final OnnxMl.GraphProto.Builder graph = OnnxMl.GraphProto.newBuilder().setName("fixture");
        private int dequantizers;

        Sketch(String input) {
            graph.addInput(OnnxMl.ValueInfoProto.newBuilder().setName(input));
            initializer("scale");
            initializer("zero_point");
        }

        void initializer(String name) {
            graph.addInitializer(OnnxMl.TensorProto.newBuilder().setName(name)
                    .setDataType(OnnxMl.TensorProto.DataType.FLOAT_VALUE).addFloatData(1f));
        }

        void node(String op, String name, List<String> inputs, String output) {
            graph.addNode(OnnxMl.NodeProto.newBuilder().setOpType(op).setName(name).addAllInput(inputs).addOutput(output));
        }

        void quantize(String name, String x, String out) {
            node("QuantizeLinear", name, List.of(x, "scale", "zero_point"), out);
        }

        String dequantize(String q) {
            String out = q + "_dq" + (++dequantizers);
            node("DequantizeLinear", "DequantizeLinear_of_" + out, List.of(q, "scale", "zero_point"), out);
            return out;
        }

        /** The initializer through QuantizeLinear_{number} and its DequantizeLinear, as pytorch-quantization exports weights. */
        String weight(String name, int quantizeNumber) {
            initializer(name);
            String q = name + "_quantized";
            quantize("QuantizeLinear_" + quantizeNumber, name, q);
            return dequantize(q);
        }

        /**
         * DequantizeLinear(in) and the weight's Q/DQ into Conv_{conv}, then Clip_{clip} when clip != 0; the
         * result is quantized into {@code out} when {@code quantizeOutput}, else named {@code out} (float).
         */
        void conv(String in, String weight, int weightQuantize, int conv, int clip, String out, boolean quantizeOutput) {
            String w = weight(weight, weightQuantize);
            String y = quantizeOutput || clip != 0 ? "Conv_" + conv + "_y" : out;
            node("Conv", "Conv_" + conv, List.of(dequantize(in), w), y);
            if (clip != 0) {
                String clipped = quantizeOutput ? "Clip_" + clip + "_y" : out;
                node("Clip", "Clip_" + clip, List.of(y), clipped);
                y = clipped;
            }
            if (quantizeOutput) {
                quantize("QuantizeLinear_to_" + out, y, out);
            }
        }

        OnnxMl.ModelProto model() {
            return OnnxMl.ModelProto.newBuilder().setIrVersion(8).setProducerName("quantforge compile tests")
                    .addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setDomain("").setVersion(13))
                    .setGraph(graph).build();
        }
    }
}
