package dino4j.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dino4j.tensor.DType;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Tape semantics: accumulation, grad mode, in-place detection, detach. */
class AutogradTest {
    private static Tensor t(double... v) { return Tensor.of(v, v.length); }

    @Test void leafGradAccumulatesAcrossBackwardCalls() {
        Var x = Var.leaf(t(1, 2, 3));
        F.sum(F.square(x)).backward();
        assertArrayEquals(new double[]{2, 4, 6}, x.grad().toDoubleArray(), 1e-12);
        F.sum(F.square(x)).backward();
        assertArrayEquals(new double[]{4, 8, 12}, x.grad().toDoubleArray(), 1e-12);
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test void valueUsedTwiceSumsItsGradients() {
        Var x = Var.leaf(t(1, -2, 3));
        Var y = F.mul(x, x);            // x used twice in one op
        Var z = F.add(y, F.mulScalar(x, 3)); // and again in another
        F.sum(z).backward();
        assertArrayEquals(new double[]{5, -1, 9}, x.grad().toDoubleArray(), 1e-12);
        // an intermediate used by two consumers
        Var a = Var.leaf(t(2, 3));
        Var e = F.exp(a);
        F.sum(F.add(e, F.mul(e, e))).backward();
        double[] g = a.grad().toDoubleArray();
        assertEquals(Math.exp(2) + 2 * Math.exp(4), g[0], 1e-9);
        assertEquals(Math.exp(3) + 2 * Math.exp(6), g[1], 1e-9);
    }

    @Test void constantsGetNoGradient() {
        Var x = Var.leaf(t(1, 2));
        Var c = Var.constant(t(3, 4));
        F.sum(F.mul(x, c)).backward();
        assertArrayEquals(new double[]{3, 4}, x.grad().toDoubleArray(), 1e-12);
        assertNull(c.grad());
    }

    @Test void noGradRecordsNothing() {
        Var x = Var.leaf(t(1, 2, 3));
        Var y;
        try (var g = Grad.noGrad()) {
            y = F.sum(F.mul(x, x));
            assertFalse(Grad.isEnabled());
        }
        assertTrue(Grad.isEnabled());
        assertFalse(y.requiresGrad());
        assertTrue(y.isLeaf());
        assertNull(y.op());
        assertEquals(14, y.data().item(), 1e-12);
        assertThrows(IllegalStateException.class, y::backward);
        assertNull(x.grad());
    }

    @Test void inPlaceWriteToASavedTensorFailsBackward() {
        Var x = Var.leaf(t(1, 2, 3));
        Var w = Var.constant(t(4, 5, 6));
        Var y = F.sum(F.mul(x, w));      // mul saves x and w
        Ops.fill_(w.data(), 0);          // in-place write bumps w's version
        IllegalStateException e = assertThrows(IllegalStateException.class, y::backward);
        assertTrue(e.getMessage().contains("modified in place") && e.getMessage().contains("mul"), e.getMessage());

        Var a = Var.leaf(t(1, 2));
        Var s = F.sum(F.exp(a));
        a.data().bumpVersion();
        assertThrows(IllegalStateException.class, s::backward);
    }

    @Test void detachCutsTheTape() {
        Var x = Var.leaf(t(2, 3));
        Var y = F.mul(x, x).detach();
        assertFalse(y.requiresGrad());
        F.sum(F.mul(y, x)).backward();
        assertArrayEquals(new double[]{4, 9}, x.grad().toDoubleArray(), 1e-12); // not 3x²
    }

    @Test void nonScalarBackwardNeedsASeed() {
        Var x = Var.leaf(t(1, 2));
        Var y = F.mulScalar(x, 2);
        assertThrows(IllegalStateException.class, y::backward);
        y.backward(t(1, 10));
        assertArrayEquals(new double[]{2, 20}, x.grad().toDoubleArray(), 1e-12);
    }

    @Test void float32GraphMatchesFloat64() {
        Random rng = new Random(3);
        Tensor x64 = Tensor.randn(rng, DType.F64, 2, 4, 6), w64 = Tensor.randn(rng, DType.F64, 5, 6);
        double[][] grads = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            DType dt = pass == 0 ? DType.F64 : DType.F32;
            Var x = Var.leaf(x64.to(dt)), w = Var.leaf(w64.to(dt));
            Var h = F.gelu(F.linear(F.layerNorm(x, null, null, 1e-6), w, null));
            F.mean(F.softmax(h)).backward();
            F.sum(F.square(h)).backward();
            grads[pass] = w.grad().toDoubleArray();
        }
        double num = 0, den = 0;
        for (int i = 0; i < grads[0].length; i++) { num += Math.pow(grads[0][i] - grads[1][i], 2); den += grads[0][i] * grads[0][i]; }
        assertTrue(Math.sqrt(num / den) < 1e-5, "relative L2 " + Math.sqrt(num / den));
    }

    @Test void maximumTiesAndClampInFloat32() {
        Var a = Var.leaf(Tensor.of(new float[]{1, 2, 3, 1e30f}, 4)), b = Var.leaf(Tensor.of(new float[]{1, 5, 0, -1e30f}, 4));
        F.sum(F.maximum(a, b)).backward();
        assertArrayEquals(new float[]{1, 0, 1, 1}, a.grad().toFloatArray()); // a wins ties
        assertArrayEquals(new float[]{0, 1, 0, 0}, b.grad().toFloatArray());
        Var x = Var.leaf(Tensor.of(new float[]{0.5f, 1f, 2f}, 3));
        F.sum(F.clampMin(x, 1)).backward();
        assertArrayEquals(new float[]{0, 0, 1}, x.grad().toFloatArray());
    }
}
