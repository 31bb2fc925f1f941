package dino4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dino4j.kernels.RopeKernels;
import dino4j.kernels.RopeTable;
import dino4j.tensor.io.Safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** RoPE periods and sin/cos tables (head_dim 64, base 100, eval mode) vs the reference implementation. */
class RopeGoldenTest {
    @Test void tablesMatchGolden() throws IOException {
        Path f = SafetensorsTest.shared().resolve("golden/rope.safetensors");
        Assumptions.assumeTrue(Files.exists(f), "rope golden file not present");
        Safetensors.Contents c = Safetensors.read(f);
        double[] periods = RopeKernels.periods(64, 100);
        assertArrayEquals(c.get("periods").toDoubleArray(), periods, 1e-4);
        for (int[] hw : new int[][]{{4, 6}, {14, 14}, {3, 5}}) {
            String sfx = hw[0] + "x" + hw[1];
            RopeTable t = RopeKernels.table(hw[0], hw[1], periods);
            float[] sin = c.get("sin_" + sfx).toFloatArray(), cos = c.get("cos_" + sfx).toFloatArray();
            assertTrue(maxAbs(sin, t.sin()) < 1e-5, "sin " + sfx + " max err " + maxAbs(sin, t.sin()));
            assertTrue(maxAbs(cos, t.cos()) < 1e-5, "cos " + sfx + " max err " + maxAbs(cos, t.cos()));
        }
    }

    private static double maxAbs(float[] a, float[] b) {
        if (a.length != b.length) return Double.POSITIVE_INFINITY;
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
