package dev.quantforge.quant.precision;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HalfTest {

    @Test
    void roundsToNearestEvenAndKeepsTheSpecialValues() {
        assertThat(Half.fromFloat(1.0f)).isEqualTo((short) 0x3c00);
        assertThat(Half.fromFloat(-2.0f)).isEqualTo((short) 0xc000);
        assertThat(Half.fromFloat(65504f)).isEqualTo((short) 0x7bff);
        assertThat(Half.fromFloat(65520f)).isEqualTo((short) 0x7c00); // halfway to the next step: rounds to Inf
        assertThat(Half.fromFloat(Float.NEGATIVE_INFINITY)).isEqualTo((short) 0xfc00);
        assertThat(Float.isNaN(Half.toFloat(Half.fromFloat(Float.NaN)))).isTrue();
        assertThat(Half.fromFloat(0x1p-24f)).isEqualTo((short) 0x0001); // smallest subnormal
        assertThat(Half.fromFloat(0x1p-26f)).isEqualTo((short) 0x0000);
        // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1.0)
        assertThat(Half.fromFloat(1f + 0x1p-11f)).isEqualTo((short) 0x3c00);
        assertThat(Half.fromFloat(1f + 3 * 0x1p-11f)).isEqualTo((short) 0x3c02);
    }

    @Test
    void everyHalfSurvivesTheRoundTrip() {
        for (int h = 0; h < 0x10000; h++) {
            short half = (short) h;
            float f = Half.toFloat(half);
            if (Float.isNaN(f)) {
                continue;
            }
            assertThat(Half.fromFloat(f)).as("0x%04x", h).isEqualTo(half);
        }
    }
}
