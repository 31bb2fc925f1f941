package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;

/** SiLU: x·sigmoid(x). */
public class Silu extends Module {
    @Override public Var forward(Var x) { return F.silu(x); }
}
