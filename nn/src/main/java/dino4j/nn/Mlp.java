package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;

import java.util.Random;

/** fc1 → exact GELU → fc2, both with bias (§1.7, official names {@code mlp.fc1}, {@code mlp.fc2}). */
public class Mlp extends Module {
    public final Linear fc1, fc2;

    public Mlp(int in, int hidden, int out) { this(in, hidden, out, true, Init.defaultRng()); }

    public Mlp(int in, int hidden, int out, boolean bias, Random rng) {
        this.fc1 = registerModule("fc1", new Linear(in, hidden, bias, rng));
        this.fc2 = registerModule("fc2", new Linear(hidden, out, bias, rng));
    }

    @Override public Var forward(Var x) { return fc2.forward(F.gelu(fc1.forward(x))); }
}
