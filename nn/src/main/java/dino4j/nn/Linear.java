package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.tensor.Tensor;

import java.util.Random;

/** y = x·Wᵀ + b with W [out, in] (PyTorch layout); weight trunc-normal std 0.02, bias 0 (§1.10). */
public class Linear extends Module {
    public final int in, out;
    public final Parameter weight;
    public final Parameter bias; // null without bias

    public Linear(int in, int out, boolean bias) { this(in, out, bias, Init.truncNormal(0.02), Init.defaultRng()); }

    public Linear(int in, int out, boolean bias, Random rng) { this(in, out, bias, Init.truncNormal(0.02), rng); }

    /** A Linear whose weight is filled by {@code weightInit} (bias 0). */
    public Linear(int in, int out, boolean bias, Init weightInit, Random rng) {
        if (in <= 0 || out <= 0) throw new IllegalArgumentException("Linear dims must be positive, got in=" + in + " out=" + out);
        this.in = in;
        this.out = out;
        Tensor w = Tensor.zeros(out, in);
        weightInit.apply(w, rng);
        this.weight = registerParameter("weight", w);
        this.bias = bias ? registerParameter("bias", Tensor.zeros(out)) : null;
    }

    @Override public Var forward(Var x) {
        return F.linear(x, weight.var(), bias == null ? null : bias.var());
    }
}
