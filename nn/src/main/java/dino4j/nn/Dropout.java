package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;

import java.util.Random;

/** Inverted dropout (scale 1/(1−p) in training, identity in eval). */
public class Dropout extends Module {
    public final double p;
    private Random rng;

    public Dropout(double p) { this(p, new Random(0)); }

    public Dropout(double p, Random rng) {
        if (p < 0 || p >= 1) throw new IllegalArgumentException("dropout p must be in [0, 1), got " + p);
        this.p = p;
        this.rng = rng;
    }

    public void setRng(Random rng) { this.rng = rng; }

    @Override public Var forward(Var x) {
        if (p == 0 || !isTraining()) return x;
        return F.dropout(x, p, rng, true);
    }
}
