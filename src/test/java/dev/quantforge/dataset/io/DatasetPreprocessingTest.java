package dev.quantforge.dataset.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.quantforge.quant.InvalidInputException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatasetPreprocessingTest {

    @Test
    void parsesTheApiObjectAndWritesItBack() {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("resize", List.of(224, 224));
        json.put("scale", 0.00392156862745098);
        json.put("mean", List.of(0.485, 0.456, 0.406));
        json.put("std", List.of(0.229, 0.224, 0.225));
        json.put("layout", "NHWC");
        json.put("channelOrder", "bgr");
        json.put("grayscale", false);
        Preprocessing p = Preprocessing.fromMap(json);
        assertThat(p.resize()).containsExactly(224, 224);
        assertThat(p.nhwc()).isTrue();
        assertThat(p.bgr()).isTrue();
        assertThat(p.channels()).isEqualTo(3);
        Map<String, Object> back = p.toMap();
        assertThat(back.get("layout")).isEqualTo("nhwc");
        assertThat(Preprocessing.fromMap(back)).isEqualTo(p);
    }

    @Test
    void defaults() {
        Preprocessing p = Preprocessing.fromMap(Map.of());
        assertThat(p).isEqualTo(Preprocessing.DEFAULT);
        assertThat(p.scale()).isEqualTo(1.0);
        assertThat(p.layout()).isEqualTo("nchw");
        assertThat(p.channelOrder()).isEqualTo("rgb");
        assertThat(Preprocessing.fromMap(null)).isEqualTo(Preprocessing.DEFAULT);
        assertThat(Preprocessing.fromMap(Map.of("scale", 2)).scale()).isEqualTo(2.0);
    }

    @Test
    void invalidValuesNameTheField() {
        assertInvalid(Map.of("colour", "rgb"), "unknown key 'colour'");
        assertInvalid(Map.of("mean", List.of(0.5, 0.5)), "'mean' must have 3 values");
        assertInvalid(Map.of("mean", List.of(0.5, 0.5, 0.5), "grayscale", true), "'mean' must have 1 value");
        assertInvalid(Map.of("std", List.of(0.2, 0.0, 0.2)), "'std' entries must be finite and > 0");
        assertInvalid(Map.of("resize", List.of(5000, 10)), "'resize' entries must be between 1 and 4096");
        assertInvalid(Map.of("resize", List.of(10)), "'resize' must be [height, width]");
        assertInvalid(Map.of("resize", List.of(10.5, 3)), "'resize' entries must be integers");
        assertInvalid(Map.of("layout", "chw"), "'layout' must be \"nchw\" or \"nhwc\"");
        assertInvalid(Map.of("channelOrder", "rgba"), "'channelOrder' must be \"rgb\" or \"bgr\"");
        assertInvalid(Map.of("scale", "1/255"), "'scale' must be a number");
        assertInvalid(Map.of("scale", 0), "'scale' must be a finite non-zero number");
        assertInvalid(Map.of("grayscale", "yes"), "'grayscale' must be true or false");
    }

    private static void assertInvalid(Map<String, Object> json, String expected) {
        assertThatThrownBy(() -> Preprocessing.fromMap(json))
                .isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(expected);
    }
}
