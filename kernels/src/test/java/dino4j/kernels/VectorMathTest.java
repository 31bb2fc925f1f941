package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class VectorMathTest {
    interface V { FloatVector f(FloatVector v); }

    static double maxUlps(V vf, java.util.function.DoubleUnaryOperator ref, float lo, float hi) {
        Random r = new Random(1);
        float[] x = new float[Simd.LANES * 4000], y = new float[x.length];
        for (int i = 0; i < x.length; i++) x[i] = lo + (hi - lo) * r.nextFloat();
        for (int i = 0; i < x.length; i += Simd.LANES) vf.f(FloatVector.fromArray(Simd.F, x, i)).intoArray(y, i);
        double worst = 0;
        for (int i = 0; i < x.length; i++) {
            double want = ref.applyAsDouble(x[i]);
            if (want == 0) continue;
            worst = Math.max(worst, Math.abs(y[i] - want) / Math.ulp((float) want));
        }
        return worst;
    }

    @Test
    void accurateToAFewUlps() {
        assertTrue(maxUlps(VectorMath::exp, Math::exp, -87f, 88f) <= 3, "exp: " + maxUlps(VectorMath::exp, Math::exp, -87f, 88f)
                + " ulps; [-10,10]: " + maxUlps(VectorMath::exp, Math::exp, -10f, 10f));
        assertTrue(maxUlps(VectorMath::log, Math::log, 1e-30f, 1e30f) <= 3, "log wide");
        assertTrue(maxUlps(VectorMath::log, Math::log, 0.5f, 2f) <= 3, "log near 1");
        assertTrue(maxUlps(VectorMath::tanh, Math::tanh, -10f, 10f) <= 4, "tanh");
        assertTrue(maxUlps(VectorMath::tanh, Math::tanh, -0.7f, 0.7f) <= 4, "tanh small");
    }

    @Test
    void specialValues() {
        assertTrue(VectorMath.exp(100f) > 3e38f, "saturates high");
        assertTrue(VectorMath.exp(-100f) < 1.2e-38f, "flushes low");
        assertEquals(1f, VectorMath.exp(0f));
        assertTrue(Float.isNaN(VectorMath.exp(Float.NaN)));
        assertEquals(Float.NEGATIVE_INFINITY, VectorMath.log(0f));
        assertTrue(Float.isNaN(VectorMath.log(-1f)));
        assertEquals(0f, VectorMath.log(1f));
        assertEquals(Float.POSITIVE_INFINITY, VectorMath.log(Float.POSITIVE_INFINITY));
        assertEquals(1f, VectorMath.tanh(30f));
        assertEquals(-1f, VectorMath.tanh(-30f));
        assertEquals(0f, VectorMath.tanh(0f));
    }
}
