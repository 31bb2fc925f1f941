package dino4j.nn;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.tensor.Tensor;

/** Per-channel scale {@code x ⊙ gamma}, gamma initialised to {@code init} (1e-5 in DINOv3, §1.4). Key: {@code ls1.gamma}. */
public class LayerScale extends Module {
    public final Parameter gamma;

    public LayerScale(int dim, double init) {
        this.gamma = registerParameter("gamma", Tensor.full(dino4j.tensor.DType.F32, init, dim));
    }

    @Override public Var forward(Var x) { return F.mul(x, gamma.var()); }
}
