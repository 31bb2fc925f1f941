package dino4j.nn;

import dino4j.nn.optim.GradClip;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ClipTest {
    @Test void clipsOnlyAboveMaxNorm() {
        Parameter a = new Parameter(Tensor.zeros(2)), b = new Parameter(Tensor.zeros(DType.F64, 1)), c = new Parameter(Tensor.zeros(3));
        a.setGrad(Tensor.of(new float[]{3, 0}, 2));
        b.setGrad(Tensor.of(new double[]{4}, 1));
        // c has no grad: ignored
        double norm = GradClip.clipGlobalNorm(List.of(a, b, c), 10);
        assertEquals(5, norm, 1e-12);
        assertArrayEquals(new float[]{3, 0}, a.grad().toFloatArray(), "below max norm: untouched");

        norm = GradClip.clipGlobalNorm(List.of(a, b, c), 1);
        assertEquals(5, norm, 1e-12);
        double coef = 1 / (5 + 1e-6);
        assertEquals(3 * coef, a.grad().getFlat(0), 1e-7);
        assertEquals(4 * coef, b.grad().getFlat(0), 1e-15);
        assertEquals(1, GradClip.globalNorm(List.of(a, b)), 1e-6);
        assertNull(c.grad());
    }
}
