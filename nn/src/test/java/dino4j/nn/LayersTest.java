package dino4j.nn;

import dino4j.autograd.GradCheck;
import dino4j.autograd.Var;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class LayersTest {
    private static double gelu(double x) { return 0.5 * x * (1 + erf(x / Math.sqrt(2))); }

    /** Abramowitz–Stegun 7.1.26 is too coarse; use a series/continued-fraction-free high-precision erf. */
    private static double erf(double x) {
        // erf via the Taylor series (|x| small in this test)
        double s = 0, term = x;
        for (int n = 0; n < 60; n++) {
            s += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * s;
    }

    @Test void mlpSwigluLayerNormLayerScaleForward() {
        Random r = new Random(4);
        Mlp mlp = new Mlp(3, 4, 2, true, r);
        mlp.to(DType.F64);
        Init.fillNormal(mlp.fc1.bias.data(), 0, 0.5, r);
        Init.fillNormal(mlp.fc1.weight.data(), 0, 0.5, r);
        Tensor x = Tensor.randn(r, DType.F64, 2, 3);
        Tensor y = mlp.forward(Var.constant(x)).data();
        for (int b = 0; b < 2; b++)
            for (int o = 0; o < 2; o++) {
                double acc = mlp.fc2.bias.data().get(o);
                for (int h = 0; h < 4; h++) {
                    double z = mlp.fc1.bias.data().get(h);
                    for (int i = 0; i < 3; i++) z += x.get(b, i) * mlp.fc1.weight.data().get(h, i);
                    acc += gelu(z) * mlp.fc2.weight.data().get(o, h);
                }
                assertEquals(acc, y.get(b, o), 1e-12);
            }

        SwiGLUFFN sw = new SwiGLUFFN(3, 6, 3, 2, true, r); // hidden int(12/3)=4
        sw.to(DType.F64);
        for (Linear l : List.of(sw.w1, sw.w2, sw.w3)) Init.fillNormal(l.weight.data(), 0, 0.5, r);
        Tensor ys = sw.forward(Var.constant(x)).data();
        for (int b = 0; b < 2; b++)
            for (int o = 0; o < 3; o++) {
                double acc = 0;
                for (int h = 0; h < sw.hidden; h++) {
                    double a = 0, c = 0;
                    for (int i = 0; i < 3; i++) { a += x.get(b, i) * sw.w1.weight.data().get(h, i); c += x.get(b, i) * sw.w2.weight.data().get(h, i); }
                    acc += a / (1 + Math.exp(-a)) * c * sw.w3.weight.data().get(o, h);
                }
                assertEquals(acc, ys.get(b, o), 1e-12);
            }

        LayerNorm ln = new LayerNorm(3, 1e-5);
        ln.to(DType.F64);
        Tensor yl = ln.forward(Var.constant(x)).data();
        double m = (x.get(0, 0) + x.get(0, 1) + x.get(0, 2)) / 3, v = 0;
        for (int i = 0; i < 3; i++) v += (x.get(0, i) - m) * (x.get(0, i) - m) / 3;
        assertEquals((x.get(0, 1) - m) / Math.sqrt(v + 1e-5), yl.get(0, 1), 1e-12);

        LayerScale ls = new LayerScale(3, 1e-5);
        ls.to(DType.F64);
        assertEquals(x.get(1, 2) * ls.gamma.data().get(2), ls.forward(Var.constant(x)).data().get(1, 2), 1e-20);
        assertEquals(1e-5, ls.gamma.data().get(2), 1e-12);

        Sequential seq = new Sequential(new Linear(3, 5, true, r), new Gelu(), new Dropout(0.5), new Linear(5, 2, false, r));
        assertEquals(List.of("0.weight", "0.bias", "3.weight"), List.copyOf(seq.stateDict().keySet()));
        seq.eval();
        Tensor a1 = seq.forward(Var.constant(x.to(DType.F32))).data(), a2 = seq.forward(Var.constant(x.to(DType.F32))).data();
        assertArrayEquals(a1.toFloatArray(), a2.toFloatArray(), "dropout is the identity in eval");
    }

    @Test void linearGradientsThroughParameters() {
        Random r = new Random(8);
        Linear lin = new Linear(4, 3, true, r);
        lin.to(DType.F64);
        Tensor x = Tensor.randn(r, DType.F64, 5, 4);
        // gradient check of the functional form with the module's own tensors as inputs
        GradCheck.assertGradients(1e-6, in -> dino4j.autograd.F.linear(in.get(0), in.get(1), in.get(2)),
                x, lin.weight.data(), lin.bias.data());
        // backward accumulates into Parameter.grad() across calls; zeroGrad clears
        Var y = dino4j.autograd.F.sum(lin.forward(Var.constant(x)));
        y.backward();
        double g0 = lin.bias.grad().getFlat(0);
        assertEquals(5, g0, 1e-12);
        dino4j.autograd.F.sum(lin.forward(Var.constant(x))).backward();
        assertEquals(10, lin.bias.grad().getFlat(0), 1e-12);
        lin.zeroGrad();
        assertNull(lin.weight.grad());
    }
}
