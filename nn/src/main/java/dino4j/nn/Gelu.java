package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;

/** Exact (erf) GELU. */
public class Gelu extends Module {
    @Override public Var forward(Var x) { return F.gelu(x); }
}
