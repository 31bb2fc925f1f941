package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.GradCheck;
import dino4j.autograd.Var;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

class StochasticDepthTest {
    static final int B = 8, D = 5;

    private static Function<Var, Var> branch(Var w, Var gamma) {
        return v -> F.mul(F.tanh(F.linear(v, w, null)), gamma);
    }

    private static double[] rowwise(Tensor x, Tensor w, Tensor gamma) {
        // x + branch(x), independently of the module code (scalar loops)
        double[] out = new double[B * D];
        for (int b = 0; b < B; b++)
            for (int o = 0; o < D; o++) {
                double s = 0;
                for (int i = 0; i < D; i++) s += x.get(b, i) * w.get(o, i);
                out[b * D + o] = Math.tanh(s) * gamma.get(o);
            }
        return out;
    }

    @Test void noDropEqualsPlainResidual() {
        Random r = new Random(1);
        Tensor x = Tensor.randn(r, DType.F64, B, D), w = Tensor.randn(r, DType.F64, D, D), g = Tensor.randn(r, DType.F64, D);
        double[] br = rowwise(x, w, g), xv = x.toDoubleArray();
        for (boolean training : new boolean[]{true, false}) {
            double p = training ? 0.0 : 0.5; // p = 0 in training, or any p in eval
            Var y = StochasticDepth.residual(Var.constant(x), p, new Random(2), training, branch(Var.constant(w), Var.constant(g)));
            double[] yv = y.data().toDoubleArray();
            for (int i = 0; i < yv.length; i++) assertEquals(xv[i] + br[i], yv[i], 1e-12);
        }
    }

    @Test void trainingUpdatesExactlyKeepRowsScaledByBOverKeep() {
        Random r = new Random(3);
        Tensor x = Tensor.randn(r, DType.F64, B, D), w = Tensor.randn(r, DType.F64, D, D), g = Tensor.randn(r, DType.F64, D);
        double[] br = rowwise(x, w, g), xv = x.toDoubleArray();
        for (double p : new double[]{0.25, 0.4, 0.5, 0.99}) {
            int keep = StochasticDepth.keep(B, p);
            assertEquals(Math.max((int) Math.floor(B * (1 - p)), 1), keep);
            Var y = StochasticDepth.residual(Var.constant(x), p, new Random(5), true, branch(Var.constant(w), Var.constant(g)));
            double[] yv = y.data().toDoubleArray();
            Set<Integer> changed = new HashSet<>();
            for (int b = 0; b < B; b++) {
                boolean same = true;
                for (int o = 0; o < D; o++) same &= yv[b * D + o] == xv[b * D + o];
                if (same) continue;
                changed.add(b);
                for (int o = 0; o < D; o++)
                    assertEquals(xv[b * D + o] + (double) B / keep * br[b * D + o], yv[b * D + o], 1e-12, "row " + b);
            }
            assertEquals(keep, changed.size(), "p=" + p);
            Set<Integer> expect = new HashSet<>();
            for (int i : StochasticDepth.subset(B, keep, new Random(5))) expect.add(i);
            assertEquals(expect, changed);
        }
        assertEquals(1, StochasticDepth.keep(4, 0.99));
        assertEquals(6, StochasticDepth.keep(8, 0.25));
        // the subsets differ between draws (independent branches get independent subsets)
        Random rng = new Random(11);
        int[] s1 = StochasticDepth.subset(16, 8, rng), s2 = StochasticDepth.subset(16, 8, rng);
        assertFalse(Arrays.equals(s1, s2));
    }

    @Test void gradientMatchesFiniteDifferences() {
        Random r = new Random(7);
        Tensor x = Tensor.randn(r, DType.F64, B, D), w = Tensor.randn(r, DType.F64, D, D), g = Tensor.randn(r, DType.F64, D);
        GradCheck.Result res = GradCheck.assertGradients(1e-6,
                in -> StochasticDepth.residual(in.get(0), 0.5, new Random(42), true, branch(in.get(1), in.get(2))), x, w, g);
        assertTrue(res.maxRelError() <= 1e-6, res.toString());
    }
}
