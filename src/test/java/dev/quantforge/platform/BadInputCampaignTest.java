package dev.quantforge.platform;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpRequest;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.TestPropertySource;

import ai.onnx.proto.OnnxMl;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

import dev.quantforge.dataset.io.NpyWriter;
import dev.quantforge.storage.BlobReferences;
import dev.quantforge.testsupport.Api;
import dev.quantforge.testsupport.ServiceTest;
import dev.quantforge.testsupport.SharedData;

/**
 * Bad input at volume: a seeded campaign of well over 1,000 malformed inputs derived from the real files in
 * {@code ../shared/datasets} — truncations, byte flips, wrong magic, huge declared shapes, zip-slip and symlink
 * entries, decompression bombs, ONNX external-data paths outside the model, NaN/Inf data, wrong dtypes, huge and
 * deeply nested JSON, unknown and mistyped config keys — against the running service. Every answer: no 5xx; a 4xx
 * is problem+json whose detail says something (not the generic internal error) and shows no server path; the service
 * is healthy after; the temp area is empty and every blob is referenced by a row. Reproduce a failure with
 * {@code -Dqf.campaign.seed=<seed>} (printed), one case with {@code -Dqf.campaign.only=<index>}.
 */
@Timeout(600)
@TestPropertySource(properties = {
        // bombs need only exceed this: 32 MiB uncompressed per upload (the default is 8 GiB)
        "qf.upload.max-uncompressed-bytes=33554432"})
class BadInputCampaignTest extends ServiceTest {

    private static final long SEED = Long.getLong("qf.campaign.seed", 20261203L);
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    @Autowired
    BlobReferences references;

    private record Case(String name, Supplier<Api.Res> send) {
    }

    private final List<Case> cases = new ArrayList<>();
    private Random rnd;

    // ------------------------------------------------------------------ material

    private static byte[] read(String shared) {
        try {
            return Files.readAllBytes(SharedData.file(shared));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The entries of a real npz (each a real .npy). */
    private static Map<String, byte[]> entries(byte[] zip) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
            ZipEntry e;
            while ((e = in.getNextEntry()) != null) {
                out.put(e.getName(), in.readAllBytes());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out;
    }

    static byte[] zip(Map<String, byte[]> entries, boolean stored) {
        return NpyWriter.zip(entries, stored);
    }

    /** Marks every entry of a zip as a Unix symlink (version made by: Unix; external attributes: S_IFLNK | 0777). */
    static byte[] symlinks(byte[] zip) {
        byte[] out = zip.clone();
        ByteBuffer b = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i + 42 < out.length; i++) {
            if (b.getInt(i) == 0x02014b50) {
                b.putShort(i + 4, (short) 0x031e);
                b.putInt(i + 38, 0xA1FF0000);
            }
        }
        return out;
    }

    private byte[] truncate(byte[] b) {
        return Arrays.copyOf(b, rnd.nextInt(Math.max(1, b.length - 1)));
    }

    private byte[] flip(byte[] b, int from, int to) {
        byte[] out = b.clone();
        int n = 1 + rnd.nextInt(16);
        for (int i = 0; i < n; i++) {
            int at = from + rnd.nextInt(Math.max(1, Math.min(to, out.length) - from));
            out[at] = (byte) rnd.nextInt(256);
        }
        return out;
    }

    private byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static byte[] npy(String dict, byte[] data) {
        return NpyWriter.npyWithHeader(dict, data, 1);
    }

    private static byte[] floats(int n, float value) {
        ByteBuffer b = ByteBuffer.allocate(n * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            b.putFloat(value);
        }
        return b.array();
    }

    // ------------------------------------------------------------------ how cases are sent

    private void model(String name, byte[] bytes) {
        cases.add(new Case("model " + name, () -> api().upload("/api/v1/models", "m.onnx", bytes, Map.of())));
    }

    private void modelRaw(String name, byte[] bytes) {
        cases.add(new Case("model raw " + name, () -> api().postRaw("/api/v1/models?name=campaign", bytes)));
    }

    private void dataset(String name, String filename, byte[] bytes, Map<String, String> fields) {
        cases.add(new Case("dataset " + name, () -> api().upload("/api/v1/datasets", filename, bytes, fields)));
    }

    private void job(String name, String body) {
        cases.add(new Case("job " + name, () -> api().send(HttpRequest.newBuilder(api().uri("/api/v1/jobs"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)))));
    }

    // ------------------------------------------------------------------ generators

    private void models() {
        for (String file : List.of("mnist/mnist-8.onnx", "kws-mlperftiny/model_kws.onnx", "mlperftiny-alibaba-extra/model_vww.onnx",
                "mnist/tribuo-skl_lr_mnist.onnx")) {
            byte[] m = read(file);
            for (int i = 0; i < 30; i++) {
                model("truncated " + file, truncate(m));
            }
            for (int i = 0; i < 25; i++) {
                model("flipped " + file, flip(m, 0, m.length));
            }
            for (int i = 0; i < 8; i++) {
                model("flipped header " + file, flip(m, 0, 64));
            }
            for (int i = 0; i < 5; i++) {
                modelRaw("truncated " + file, truncate(m));
            }
        }
        byte[] m = read("mnist/mnist-8.onnx");
        List<byte[]> magics = List.of("PK\u0003\u0004".getBytes(StandardCharsets.ISO_8859_1), new byte[]{(byte) 0x89, 'P', 'N', 'G'},
                "\u0093NUMPY".getBytes(StandardCharsets.ISO_8859_1), "{\"not\":\"onnx\"}".getBytes(), "GIF89a".getBytes(), new byte[]{0});
        for (byte[] magic : magics) {
            byte[] wrong = m.clone();
            System.arraycopy(magic, 0, wrong, 0, magic.length);
            model("wrong magic " + new String(magic, StandardCharsets.ISO_8859_1).strip(), wrong);
            model("only magic", magic);
        }
        for (int i = 0; i < 20; i++) {
            model("random bytes", randomBytes(1 + rnd.nextInt(50_000)));
        }
        // external data: initializers pointing at files outside (or missing beside) the model
        List<String> locations = List.of("../../../../etc/passwd", "/etc/passwd", "..\\..\\windows\\win.ini", "weights/../../../x.bin",
                "missing-weights.bin", "", ".", "/", "/proc/self/environ", "a\u0000b", "x".repeat(5000), "%2e%2e/%2e%2e/etc/hosts",
                "file:///etc/passwd", "~/.ssh/id_rsa", "subdir/", "../", "C:/Windows/System32/config/SAM", "\\\\server\\share\\w.bin",
                "weights.bin", "./../../data/blobs");
        OnnxMl.ModelProto proto = parse(m);
        for (String location : locations) {
            for (int variant = 0; variant < 2; variant++) {
                OnnxMl.ModelProto.Builder b = proto.toBuilder();
                int idx = rnd.nextInt(b.getGraph().getInitializerCount());
                OnnxMl.TensorProto.Builder t = b.getGraphBuilder().getInitializerBuilder(idx);
                t.clearRawData().clearFloatData().setDataLocation(OnnxMl.TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("location").setValue(location));
                if (variant == 1) {
                    t.addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("offset").setValue("-4096"))
                            .addExternalData(OnnxMl.StringStringEntryProto.newBuilder().setKey("length").setValue("99999999999999"));
                }
                model("external data " + (location.length() > 40 ? location.substring(0, 40) + "..." : location) + " v" + variant,
                        b.build().toByteArray());
            }
        }
        // huge and negative declared dimensions
        for (long dim : new long[]{1L << 40, Long.MAX_VALUE, -1, -7, 1L << 31, 0}) {
            OnnxMl.ModelProto.Builder b = proto.toBuilder();
            OnnxMl.TensorProto.Builder t = b.getGraphBuilder().getInitializerBuilder(rnd.nextInt(b.getGraph().getInitializerCount()));
            t.clearDims().addDims(dim).addDims(dim);
            model("initializer dims " + dim, b.build().toByteArray());
            OnnxMl.ModelProto.Builder in = proto.toBuilder();
            in.getGraphBuilder().getInputBuilder(0).getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).setDimValue(dim);
            model("input dim " + dim, in.build().toByteArray());
        }
        // structurally odd graphs
        model("no graph", proto.toBuilder().clearGraph().build().toByteArray());
        model("no nodes", proto.toBuilder().setGraph(proto.getGraph().toBuilder().clearNode()).build().toByteArray());
        model("no opset", proto.toBuilder().clearOpsetImport().build().toByteArray());
        model("opset 99999", proto.toBuilder().clearOpsetImport().addOpsetImport(OnnxMl.OperatorSetIdProto.newBuilder().setVersion(99999)).build().toByteArray());
        model("unknown op", proto.toBuilder().setGraph(proto.getGraph().toBuilder().setNode(0, proto.getGraph().getNode(0).toBuilder().setOpType("NoSuchOp"))).build().toByteArray());
        model("ir version 999", proto.toBuilder().setIrVersion(999).build().toByteArray());
        model("dangling input", proto.toBuilder().setGraph(proto.getGraph().toBuilder().setNode(0, proto.getGraph().getNode(0).toBuilder().setInput(0, "nowhere"))).build().toByteArray());
    }

    private static OnnxMl.ModelProto parse(byte[] m) {
        try {
            return OnnxMl.ModelProto.parseFrom(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void arrays() {
        byte[] calib = read("mnist/mnist8-calib.npz");
        Map<String, byte[]> real = entries(calib);
        byte[] firstNpy = real.values().iterator().next();
        String firstName = real.keySet().iterator().next();
        // npy: truncations, header flips, huge shapes, wrong dtypes, NaN / Inf, lying headers
        for (int i = 0; i < 60; i++) {
            dataset("npy truncated", "x.npy", truncate(firstNpy), Map.of());
        }
        for (int i = 0; i < 50; i++) {
            dataset("npy header flipped", "x.npy", flip(firstNpy, 0, 128), Map.of());
        }
        for (int i = 0; i < 20; i++) {
            dataset("npy data flipped", "x.npy", flip(firstNpy, 128, firstNpy.length), Map.of());
        }
        String[] shapes = {"(1000000000000, 784)", "(9223372036854775807,)", "(-1, 784)", "(4611686018427387904, 4)", "(100, 1000000, 1000000)",
                "(2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33)",
                "()", "(0,)", "(0, 784)", "(1e9,)", "('a',)", "(1,,)", "[10]", "None", "(99999999999999999999999999,)", "(3, -4)"};
        for (String shape : shapes) {
            for (String descr : List.of("<f4", "|u1")) {
                dataset("npy shape " + shape + " " + descr, "x.npy",
                        npy("{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }", floats(64, 1f)), Map.of());
            }
        }
        String[] dtypes = {"<c8", "<c16", "|O", "<U4", "|S8", "|V8", "<M8[ns]", "<m8", ">f4", "<f2", "|b1", "<q", "<f16", "xyz", "", "<i16",
                "[('a','<f4')]", "<f4 ", "float32", "|u128"};
        for (String dt : dtypes) {
            dataset("npy dtype " + dt, "x.npy", npy("{'descr': '" + dt + "', 'fortran_order': False, 'shape': (4, 4), }", new byte[256]), Map.of());
        }
        for (float v : new float[]{Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MAX_VALUE, -0f, Float.MIN_VALUE}) {
            dataset("npy all " + v, "x.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1, 28, 28), }", floats(8 * 784, v)), Map.of());
            Map<String, byte[]> m = new LinkedHashMap<>();
            m.put("Input3.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1, 28, 28), }", floats(8 * 784, v)));
            m.put("labels.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8,), }", floats(8, v)));
            dataset("npz with " + v + " data and float labels", "x.npz", zip(m, false), Map.of());
        }
        String[] headers = {"{'descr': '<f4', 'fortran_order': True, 'shape': (4, 4), }", "{'descr': '<f4', 'shape': (4, 4), }",
                "{'descr': '<f4', 'fortran_order': 'maybe', 'shape': (4, 4), }", "not a dict at all", "{}", "{'descr': '<f4', 'fortran_order': False, "
                + "'shape': (4, 4), 'extra': 1 }", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), " + "x".repeat(70000) + "}",
                "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "(".repeat(5000) + "4" + ")".repeat(5000) + "), }",
                "{\"descr\": \"<f4\", \"fortran_order\": false, \"shape\": [4, 4]}", "{'descr': '<f4', 'fortran_order': False, 'shape': (4, 4), }\u0000\u0000"};
        for (String h : headers) {
            dataset("npy header " + (h.length() > 50 ? h.substring(0, 50) : h), "x.npy", npy(h, new byte[64]), Map.of());
        }
        // a header length that lies, versions that do not exist
        for (int i = 0; i < 10; i++) {
            byte[] lie = firstNpy.clone();
            lie[8] = (byte) rnd.nextInt(256);
            lie[9] = (byte) rnd.nextInt(256);
            dataset("npy header length lies", "x.npy", lie, Map.of());
            byte[] version = firstNpy.clone();
            version[6] = (byte) (4 + rnd.nextInt(250));
            dataset("npy version " + (version[6] & 0xff), "x.npy", version, Map.of());
        }
        // npz: truncations, flips, zip-slip, symlinks, bombs, foreign entries, inconsistent arrays
        for (int i = 0; i < 40; i++) {
            dataset("npz truncated", "x.npz", truncate(calib), Map.of());
        }
        for (int i = 0; i < 30; i++) {
            dataset("npz flipped", "x.npz", flip(calib, 0, calib.length), Map.of());
        }
        for (int i = 0; i < 40; i++) {
            dataset("npz central directory flipped", "x.npz", flip(calib, calib.length - 200, calib.length), Map.of());
        }
        // the end-of-central-directory record's fields (entry counts, directory size and offset, comment length) patched
        int end = endRecord(calib);
        for (int field : new int[]{8, 10, 12, 16, 20}) {
            for (int i = 0; i < 4; i++) {
                byte[] patched = calib.clone();
                ByteBuffer b = ByteBuffer.wrap(patched).order(ByteOrder.LITTLE_ENDIAN);
                if (field >= 12 && field <= 16) {
                    b.putInt(end + field, i == 0 ? -1 : rnd.nextInt());
                } else {
                    b.putShort(end + field, (short) (i == 0 ? -1 : rnd.nextInt()));
                }
                dataset("npz end record field " + field + " patched", "x.npz", patched, Map.of());
            }
        }
        String[] slips = {"../../evil.npy", "/etc/evil.npy", "..\\..\\evil.npy", "a/../../evil.npy", "./../x.npy", "C:\\evil.npy",
                "a/b/../../../evil.npy", "evil\u0000.npy", "/../x.npy", "....//....//x.npy"};
        for (String slip : slips) {
            Map<String, byte[]> m = new LinkedHashMap<>();
            m.put(slip, firstNpy);
            dataset("npz zip-slip " + slip, "x.npz", zip(m, false), Map.of());
            Map<String, byte[]> both = new LinkedHashMap<>(real);
            both.put(slip, firstNpy);
            dataset("npz real + zip-slip " + slip, "x.npz", zip(both, true), Map.of());
        }
        for (int i = 0; i < 8; i++) {
            Map<String, byte[]> link = new LinkedHashMap<>();
            link.put(firstName, ("/etc/passwd" + "/..".repeat(i)).getBytes());
            dataset("npz symlink entry", "x.npz", symlinks(zip(link, i % 2 == 0)), Map.of());
            dataset("npz real, all symlinks", "x.npz", symlinks(zip(real, i % 2 == 0)), Map.of());
        }
        byte[] bomb = bombNpy(48 << 20);
        for (int i = 0; i < 6; i++) {
            Map<String, byte[]> m = new LinkedHashMap<>();
            for (int k = 0; k <= i; k++) {
                m.put("Input3" + (k == 0 ? "" : "_" + k) + ".npy", bomb);
            }
            dataset("npz decompression bomb x" + (i + 1), "bomb.npz", zip(m, false), Map.of());
        }
        Map<String, byte[]> manySmall = new LinkedHashMap<>();
        for (int k = 0; k < 3000; k++) {
            manySmall.put("a" + k + ".npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]));
        }
        dataset("npz with 3000 entries", "many.npz", zip(manySmall, false), Map.of());
        Map<String, byte[]> foreign = new LinkedHashMap<>();
        foreign.put("readme.txt", "hello".getBytes());
        dataset("npz of text", "x.npz", zip(foreign, false), Map.of());
        dataset("npz empty zip", "x.npz", zip(Map.of(), false), Map.of());
        Map<String, byte[]> mismatch = new LinkedHashMap<>();
        mismatch.put("Input3.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (8, 1, 28, 28), }", floats(8 * 784, 0.5f)));
        mismatch.put("labels.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (5,), }", new byte[40]));
        dataset("npz labels of another length", "x.npz", zip(mismatch, false), Map.of());
        mismatch.put("labels.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (8, 2), }", new byte[128]));
        dataset("npz 2-D labels", "x.npz", zip(mismatch, false), Map.of());
        mismatch.put("labels.npy", npy("{'descr': '<i8', 'fortran_order': False, 'shape': (8,), }", longs(-5, Long.MAX_VALUE, 3, 1, 2, 3, 4, 5)));
        dataset("npz negative / huge labels", "x.npz", zip(mismatch, false), Map.of());
        // wrong formats and names
        dataset("npz bytes declared npy", "x.npy", calib, Map.of("format", "npy"));
        dataset("npy bytes declared npz", "x.npz", firstNpy, Map.of("format", "npz"));
        dataset("npz declared image_folder", "x.zip", calib, Map.of("format", "image_folder"));
        dataset("format bogus", "x.npz", calib, Map.of("format", "parquet"));
        dataset("format mistyped", "x.npz", calib, Map.of("format", "{\"a\":1}"));
        dataset("onnx as dataset", "m.onnx", read("mnist/mnist-8.onnx"), Map.of());
        dataset("random bytes as npz", "x.npz", randomBytes(5000), Map.of());
    }

    private static int endRecord(byte[] zip) {
        ByteBuffer b = ByteBuffer.wrap(zip).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = zip.length - 22; i >= 0; i--) {
            if (b.getInt(i) == 0x06054b50) {
                return i;
            }
        }
        throw new IllegalStateException("no end record");
    }

    private static byte[] longs(long... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return b.array();
    }

    private static byte[] bombNpy(int dataBytes) {
        int rows = dataBytes / (784 * 4);
        return npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" + rows + ", 1, 28, 28), }", new byte[rows * 784 * 4]);
    }

    private void images() throws IOException {
        Path root = SharedData.file("cifar10-mlperftiny-ic/test-jpeg");
        Map<String, byte[]> real = new TreeMap<>();
        for (String c : SharedData.CIFAR_CLASSES) {
            try (Stream<Path> s = Files.list(root.resolve(c))) {
                for (Path p : s.sorted().limit(2).toList()) {
                    real.put(c + "/" + p.getFileName(), Files.readAllBytes(p));
                }
            }
        }
        byte[] good = zip(real, false);
        String pre = SharedData.CIFAR_PREPROCESSING;
        for (int i = 0; i < 30; i++) {
            Map<String, byte[]> m = new TreeMap<>(real);
            String victim = new ArrayList<>(m.keySet()).get(rnd.nextInt(m.size()));
            m.put(victim, rnd.nextBoolean() ? truncate(m.get(victim)) : flip(m.get(victim), 0, 200));
            dataset("images: corrupt " + victim, "imgs.zip", zip(m, false), Map.of("preprocessing", pre));
        }
        for (int i = 0; i < 20; i++) {
            dataset("images zip truncated", "imgs.zip", truncate(good), Map.of("preprocessing", pre));
        }
        for (String slip : List.of("../cat/0001.jpg", "/abs/cat/1.jpg", "cat/../../x.jpg", "..\\cat\\1.jpg", "cat/./../../../1.jpg")) {
            Map<String, byte[]> m = new TreeMap<>(real);
            m.put(slip, real.values().iterator().next());
            dataset("images zip-slip " + slip, "imgs.zip", zip(m, false), Map.of("preprocessing", pre));
        }
        dataset("images all symlinks", "imgs.zip", symlinks(good), Map.of("preprocessing", pre));
        Map<String, byte[]> odd = new TreeMap<>();
        odd.put("cat/readme.txt", "not an image".getBytes());
        odd.put("dog/x.jpg", "GIF89a not really".getBytes());
        dataset("images that are not images", "imgs.zip", zip(odd, false), Map.of());
        Map<String, byte[]> flat = new TreeMap<>();
        real.forEach((k, v) -> flat.put(k.substring(k.indexOf('/') + 1), v));
        dataset("images without class folders", "imgs.zip", zip(flat, false), Map.of());
        Map<String, byte[]> deep = new TreeMap<>();
        real.forEach((k, v) -> deep.put("a/b/c/d/".repeat(20) + k, v));
        dataset("images nested 80 deep", "imgs.zip", zip(deep, false), Map.of());
        // a bomb of a PNG: tiny file, huge declared size
        dataset("images: PNG declaring 100000x100000", "imgs.zip", zip(Map.of("cat/big.png", pngHeader(100_000, 100_000)), false), Map.of());
        dataset("images: PNG declaring 0x0", "imgs.zip", zip(Map.of("cat/zero.png", pngHeader(0, 0)), false), Map.of());
        Map<String, byte[]> bigEntry = new TreeMap<>();
        bigEntry.put("cat/zeros.jpg", new byte[48 << 20]);
        dataset("images decompression bomb", "imgs.zip", zip(bigEntry, false), Map.of());
        // preprocessing JSON: mistyped, unknown keys, out of range, huge, deeply nested, not JSON
        List<String> pres = new ArrayList<>(List.of("{\"scale\":\"x\"}", "{\"mean\":\"abc\"}", "{\"mean\":[1,2]}", "{\"std\":[0,0,0]}", "{\"std\":[-1,1,1]}",
                "{\"resize\":[100000,100000]}", "{\"resize\":[-3,4]}", "{\"resize\":[0,0]}", "{\"resize\":[32]}", "{\"resize\":\"32x32\"}",
                "{\"layout\":\"hwcn\"}", "{\"channelOrder\":\"rgba\"}", "{\"grayscale\":\"yes\"}", "{\"scale\":1e400}", "{\"scale\":NaN}",
                "{\"scale\":-Infinity}", "{\"unknownKey\":1}", "{\"Scale\":1}", "[]", "\"just a string\"", "42", "null", "{", "{\"scale\":1,}",
                "{\"mean\":[NaN,NaN,NaN]}", "{\"resize\":[1e10,1e10]}", "{\"resize\":[2147483648,2]}", "{\"scale\":" + "9".repeat(5000) + "}",
                "{\"mean\":[" + "1,".repeat(100000) + "1]}", "{\"x\":\"" + "y".repeat(3_000_000) + "\"}",
                "{\"a\":" + "[".repeat(100000) + "]".repeat(100000) + "}", "{\"a\":" + "{\"a\":".repeat(3000) + "1" + "}".repeat(3000) + "}",
                "{\"scale\":0.1,\"scale\":0.2}", "\uFEFF{\"scale\":1}", "{\"scale\":\"\u0000\"}", "{\"layout\":null}", "{\"mean\":null,\"std\":[1,1,1]}"));
        for (String p : pres) {
            dataset("images preprocessing " + (p.length() > 40 ? p.substring(0, 40) + "..." : p), "imgs.zip", good, Map.of("preprocessing", p));
        }
        for (String p : List.of("{\"scale\":\"x\"}", "{\"resize\":[4,4]}", "{\"a\":" + "[".repeat(20000) + "]".repeat(20000) + "}")) {
            dataset("npz preprocessing " + p.substring(0, Math.min(30, p.length())), "x.npz", read("mnist/mnist8-calib.npz"), Map.of("preprocessing", p));
        }
    }

    private static byte[] pngHeader(int w, int h) {
        ByteBuffer b = ByteBuffer.allocate(8 + 25 + 12).order(ByteOrder.BIG_ENDIAN);
        b.put(new byte[]{(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'});
        b.putInt(13).put("IHDR".getBytes()).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(b.array(), 12, 17);
        b.putInt((int) crc.getValue());
        b.putInt(0).put("IEND".getBytes()).putInt(0xAE426082);
        return b.array();
    }

    private void text(String name, byte[] sentences, String filename, byte[] tokenizer, Map<String, String> fields) {
        cases.add(new Case("text " + name, () -> api().upload("/api/v1/datasets",
                Map.of("file", new Api.FilePart(filename, sentences), "tokenizer", new Api.FilePart("tokenizer.json", tokenizer)), fields)));
    }

    private void texts() {
        byte[] tokenizer = read("tinybert-tribuo/tinybert-tokenizer.json");
        byte[] sentences = "a first sentence\nthe second one\nand a third\n".getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < 15; i++) {
            text("tokenizer truncated", sentences, "s.txt", truncate(tokenizer), Map.of());
            text("tokenizer flipped", sentences, "s.txt", flip(tokenizer, 0, tokenizer.length), Map.of());
        }
        List<String> tokenizers = List.of("{}", "[]", "null", "{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "{\"model\":" + "[".repeat(50000)
                + "]".repeat(50000) + "}", "{\"model\":{\"type\":\"Nope\"}}", "\u0000\u0001", "{\"version\":\"1.0\",\"model\":{\"type\":\"BPE\"}}");
        for (String t : tokenizers) {
            text("tokenizer " + t.substring(0, Math.min(30, t.length())), sentences, "s.txt", t.getBytes(StandardCharsets.UTF_8), Map.of());
        }
        List<String> options = List.of("{\"maxLength\":-1}", "{\"maxLength\":0}", "{\"maxLength\":100000000}", "{\"maxLength\":\"long\"}",
                "{\"inputNames\":\"x\"}", "{\"inputNames\":{\"input_ids\":5}}", "{\"unknown\":true}", "{\"maxLength\":" + "[".repeat(20000)
                + "]".repeat(20000) + "}", "not json", "{\"maxLength\":1e999}");
        for (String o : options) {
            text("options " + o.substring(0, Math.min(30, o.length())), sentences, "s.txt", tokenizer, Map.of("text", o));
        }
        List<byte[]> bodies = List.of(new byte[]{(byte) 0xff, (byte) 0xfe, 0, 0}, "{\"text\": 5}\n".getBytes(), "{\"text\":\"a\",\"label\":\"x\"}\n".getBytes(),
                "{\"text\":\"a\",\"textPair\":[1]}\n".getBytes(), ("[".repeat(40000) + "\n").getBytes(), "\n\n\n".getBytes(), randomBytes(3000),
                ("x".repeat(2_000_000) + "\n").getBytes());
        for (int i = 0; i < bodies.size(); i++) {
            text("sentences " + i + " as jsonl", bodies.get(i), "s.jsonl", tokenizer, Map.of());
            text("sentences " + i + " as txt", bodies.get(i), "s.txt", tokenizer, Map.of());
        }
    }

    private void jobs(String model, String data) {
        ObjectNode valid = NODES.objectNode();
        valid.put("type", "ptq").put("modelId", model).put("calibrationDatasetId", data).put("evaluationDatasetId", data);
        ObjectNode config = valid.putObject("config");
        config.putObject("activations").put("calibrator", "mse").put("percentile", 99.99).put("bins", 2048);
        config.putObject("calibration").put("maxSamples", 64).put("batchSize", 8);
        config.putObject("evaluation").put("maxSamples", 100);
        config.putObject("benchmark").put("iterations", 10).put("warmup", 2);
        config.putObject("exclude").putArray("opTypes");
        config.put("quantizeResidualAdd", true);
        // seeded mutations of a valid submission: every leaf replaced by values of the wrong type / range, unknown keys
        JsonNode[] wrong = {NODES.stringNode("ten"), NODES.numberNode(-1), NODES.numberNode(1e300), NODES.numberNode(Long.MAX_VALUE),
                NODES.booleanNode(true), NODES.nullNode(), NODES.arrayNode().add(1), NODES.objectNode().put("x", 1), NODES.stringNode(""),
                NODES.numberNode(new java.math.BigInteger("9".repeat(40))), NODES.stringNode("\u0000"), NODES.numberNode(0.5),
                NODES.stringNode("x".repeat(10000))};
        List<String[]> paths = new ArrayList<>();
        collect(valid, new ArrayList<>(), paths);
        for (int i = 0; i < 320; i++) {
            ObjectNode copy = valid.deepCopy();
            int edits = 1 + rnd.nextInt(3);
            StringBuilder what = new StringBuilder();
            for (int e = 0; e < edits; e++) {
                String[] path = paths.get(rnd.nextInt(paths.size()));
                ObjectNode parent = copy;
                for (int k = 0; k < path.length - 1; k++) {
                    JsonNode next = parent.path(path[k]);
                    if (!next.isObject()) {
                        parent = null;
                        break;
                    }
                    parent = (ObjectNode) next;
                }
                if (parent == null) {
                    continue;
                }
                String leaf = path[path.length - 1];
                switch (rnd.nextInt(4)) {
                    case 0 -> parent.put(leaf + "Typo", 1);
                    case 1 -> parent.set("unknown" + rnd.nextInt(100), wrong[rnd.nextInt(wrong.length)]);
                    default -> parent.set(leaf, wrong[rnd.nextInt(wrong.length)]);
                }
                what.append(String.join(".", path)).append(' ');
            }
            job("mutated " + what, copy.toString());
        }
        for (String type : List.of("evaluate", "benchmark", "sensitivity", "auto_quantize", "qat", "compile_tensorrt", "PTQ", "", "x".repeat(300))) {
            ObjectNode c = valid.deepCopy();
            c.put("type", type);
            ((ObjectNode) c.get("config")).put("notAKeyOf" + type, 1);
            job("type " + type.substring(0, Math.min(20, type.length())) + " with an unknown key", c.toString());
        }
        List<String> bodies = List.of("", "null", "[]", "\"ptq\"", "42", "{", "{\"type\":\"ptq\",}", "\uFEFF{}", "{\"type\":\"ptq\",\"modelId\":\"not-a-uuid\"}",
                "{\"type\":\"ptq\",\"modelId\":\"00000000-0000-0000-0000-000000000000\"}", "{\"type\":\"ptq\",\"modelId\":" + model.length() + "}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":" + "[".repeat(100000) + "]".repeat(100000) + "}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":" + "{\"a\":".repeat(5000) + "1" + "}".repeat(5000) + "}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":{\"x\":\"" + "y".repeat(25_000_000) + "\"}}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"priority\":" + "9".repeat(3000) + "}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":{\"exclude\":{\"patterns\":[\"((\"]}}}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":{\"exclude\":{\"nodes\":[" + "\"n\",".repeat(50000) + "\"n\"]}}}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":{\"calibration\":{\"maxSamples\":1e2}}}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":{\"activations\":{\"percentile\":NaN}}}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"type\":\"evaluate\"}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"calibrationDatasetId\":\"" + model + "\"}",
                "{\"type\":\"ptq\",\"modelId\":\"" + model + "\",\"config\":{\"overrides\":[{\"nodes\":[\"[\"]}]}}");
        for (String body : bodies) {
            job("body " + (body.length() > 50 ? body.substring(0, 50) + "..." : body), body);
        }
    }

    private static void collect(JsonNode node, List<String> prefix, List<String[]> out) {
        for (var e : node.properties()) {
            List<String> p = new ArrayList<>(prefix);
            p.add(e.getKey());
            out.add(p.toArray(String[]::new));
            if (e.getValue().isObject()) {
                collect(e.getValue(), p, out);
            }
        }
    }

    // ------------------------------------------------------------------ the campaign

    @Test
    void malformedInputsAtVolumeNeverBreakTheService() throws IOException {
        rnd = new Random(SEED);
        Api.Res m = api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of());
        Api.Res d = api().upload("/api/v1/datasets", SharedData.file("mnist/mnist8-calib.npz"), Map.of());
        assertThat(m.status()).isIn(200, 201);
        assertThat(d.status()).isIn(200, 201);
        models();
        arrays();
        images();
        texts();
        jobs(m.json().path("id").asString(), d.json().path("id").asString());
        System.out.println("bad-input campaign: seed " + SEED + ", " + cases.size() + " inputs");
        assertThat(cases.size()).isGreaterThanOrEqualTo(1000);

        String only = System.getProperty("qf.campaign.only");
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<String> failures = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < cases.size(); i++) {
            if (only != null && Integer.parseInt(only) != i) {
                continue;
            }
            Case c = cases.get(i);
            String label = "#" + i + " " + c.name();
            Api.Res r;
            try {
                r = c.send().get();
            } catch (RuntimeException e) {
                failures.add(label + ": no answer (" + e + ")");
                continue;
            }
            statuses.merge(r.status(), 1, Integer::sum);
            String problem = problemOf(r);
            if (problem != null) {
                failures.add(label + ": " + problem);
            }
        }
        System.out.println("bad-input campaign: statuses " + statuses + " in " + Duration.ofNanos(System.nanoTime() - start).toSeconds() + " s");
        assertThat(failures).as("seed " + SEED + " (-Dqf.campaign.seed=" + SEED + ", one case: -Dqf.campaign.only=<#>)").isEmpty();

        // healthy, and nothing left behind
        assertThat(api().get("/actuator/health").json().path("status").asString()).isEqualTo("UP");
        assertThat(api().upload("/api/v1/models", SharedData.file("mnist/mnist-8.onnx"), Map.of()).status()).isEqualTo(200);
        assertThat(leftoverTempFiles()).as("temp files left").isEmpty();
        List<String> orphans = new ArrayList<>();
        try (Stream<Path> s = Files.walk(DATA_DIR.resolve("blobs"))) {
            s.filter(Files::isRegularFile).map(p -> p.getFileName().toString())
                    .filter(sha -> !references.isReferenced(sha)).forEach(orphans::add);
        }
        assertThat(orphans).as("blobs no row references").isEmpty();
    }

    private List<Path> leftoverTempFiles() throws IOException {
        Path scratch = applicationScratch();
        List<Path> left = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        do {
            try (Stream<Path> s = Files.list(scratch)) {
                left = s.toList();
            }
            if (left.isEmpty()) {
                break;
            }
            try {
                Thread.sleep(200); // a refused upload's part file is removed as its request ends
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        } while (System.nanoTime() < deadline);
        return left;
    }

    @Autowired
    InstanceDirectory instance;

    private Path applicationScratch() {
        return instance.scratch();
    }

    /** Null when the answer is acceptable for bad input; else what is wrong with it. */
    private String problemOf(Api.Res r) {
        if (r.status() >= 500) {
            return r.status() + " " + abbreviate(r.body());
        }
        if (r.status() < 400) {
            return null; // a mutation that happened to stay valid
        }
        if (r.contentType() == null || !r.contentType().startsWith("application/problem+json")) {
            return r.status() + " not problem+json: " + r.contentType() + " " + abbreviate(r.body());
        }
        String detail = r.detail();
        if (detail == null || detail.isBlank()) {
            return r.status() + " without a detail: " + abbreviate(r.body());
        }
        if (detail.contains("failed unexpectedly") || detail.contains("Exception") || detail.contains(DATA_DIR.toString())
                || detail.contains(".part") || detail.contains("upload_")) {
            return r.status() + " detail does not name the problem or shows a server path: " + abbreviate(detail);
        }
        if (r.json() == null || r.json().path("status").asInt() != r.status()) {
            return r.status() + " problem's status field differs: " + abbreviate(r.body());
        }
        return null;
    }

    private static String abbreviate(String s) {
        return s == null ? "null" : s.length() > 400 ? s.substring(0, 400) + "..." : s;
    }
}
