package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;

import java.util.Random;

/**
 * SwiGLU FFN (§1.7): {@code w3( SiLU(w1 x) ⊙ (w2 x) )}, all with bias. The constructor takes the
 * nominal hidden size {@code hid = int(D·ratio)}; the real width is {@link #hiddenSize(int, int)}.
 */
public class SwiGLUFFN extends Module {
    public final Linear w1, w2, w3;
    public final int hidden;

    public SwiGLUFFN(int in, int hid, int out, int alignTo) { this(in, hid, out, alignTo, true, Init.defaultRng()); }

    public SwiGLUFFN(int in, int hid, int out, int alignTo, boolean bias, Random rng) {
        this.hidden = hiddenSize(hid, alignTo);
        this.w1 = registerModule("w1", new Linear(in, hidden, bias, rng));
        this.w2 = registerModule("w2", new Linear(in, hidden, bias, rng));
        this.w3 = registerModule("w3", new Linear(hidden, out, bias, rng));
    }

    /** d = int(hid·2/3) rounded up to a multiple of alignTo (S+: 2304 → 1536, 7B: 12288 → 8192). */
    public static int hiddenSize(int hid, int alignTo) {
        if (alignTo <= 0) throw new IllegalArgumentException("align_to must be positive, got " + alignTo);
        int d = (int) ((2L * hid) / 3);
        return (d + alignTo - 1) / alignTo * alignTo;
    }

    /** hiddenSize(int(dim·ratio), alignTo). */
    public static int hiddenSize(int dim, double ratio, int alignTo) { return hiddenSize((int) (dim * ratio), alignTo); }

    @Override public Var forward(Var x) {
        return w3.forward(F.swiglu(w1.forward(x), w2.forward(x)));   // one fused gate (same bits as silu then mul)
    }
}
