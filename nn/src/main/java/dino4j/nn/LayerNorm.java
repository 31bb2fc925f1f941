package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.tensor.Tensor;

/** LayerNorm over the last axis with affine weight (1) and bias (0). DINOv3 uses eps 1e-5 or 1e-6 (§1.8). */
public class LayerNorm extends Module {
    public final int dim;
    public final double eps;
    public final Parameter weight, bias;

    public LayerNorm(int dim, double eps) {
        this.dim = dim;
        this.eps = eps;
        this.weight = registerParameter("weight", Tensor.ones(dim));
        this.bias = registerParameter("bias", Tensor.zeros(dim));
    }

    @Override public Var forward(Var x) { return F.layerNorm(x, weight.var(), bias.var(), eps); }
}
