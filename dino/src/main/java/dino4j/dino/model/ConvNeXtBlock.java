package dino4j.dino.model;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.nn.LayerNorm;
import dino4j.nn.Linear;
import dino4j.nn.Module;
import dino4j.nn.Parameter;
import dino4j.tensor.Tensor;

import java.util.Random;

/**
 * ConvNeXt v1 block (§2): {@code dwconv} 7×7 depthwise → channels-last {@code norm} (eps 1e-6) → {@code pwconv1}
 * C→4C → exact GELU → {@code pwconv2} 4C→C → × {@code gamma} → back to channels-first → residual add, with
 * per-sample DropPath (timm semantics: kept samples scaled by 1/(1−p)) in training.
 */
public final class ConvNeXtBlock extends Module {
    public final int dim;
    public final Parameter gamma;   // null when layerScaleInit ≤ 0
    public final ConvNeXt.Conv dwconv;
    public final LayerNorm norm;
    public final Linear pwconv1, pwconv2;
    /** This block's DropPath rate (training only). */
    public final double dropPath;
    private final ConvNeXt owner;    // supplies the training RNG; null → a private one
    private final Random fallbackRng = new Random(0);

    ConvNeXtBlock(int dim, double layerScaleInit, double eps, double dropPath, ConvNeXt owner, Random rng) {
        this.dim = dim;
        this.dropPath = dropPath;
        this.owner = owner;
        dwconv = registerModule("dwconv", new ConvNeXt.Conv(dim, dim, 7, 1, 3, true, rng));
        norm = registerModule("norm", new LayerNorm(dim, eps));
        pwconv1 = registerModule("pwconv1", new Linear(dim, 4 * dim, true, rng));
        pwconv2 = registerModule("pwconv2", new Linear(4 * dim, dim, true, rng));
        gamma = layerScaleInit > 0 ? registerParameter("gamma", Tensor.full(dino4j.tensor.DType.F32, layerScaleInit, dim)) : null;
    }

    /** x [B, C, H, W] → [B, C, H, W]. */
    @Override public Var forward(Var x) {
        Var y = dwconv.forward(x);
        y = F.contiguous(F.permute(y, 0, 2, 3, 1));                          // [B, H, W, C]
        y = pwconv2.forward(F.gelu(pwconv1.forward(norm.forward(y))));
        if (gamma != null) y = F.mul(y, gamma.var());
        y = F.contiguous(F.permute(y, 0, 3, 1, 2));                          // [B, C, H, W]
        if (isTraining() && dropPath > 0) y = dropSamples(y);
        return F.add(x, y);
    }

    private Var dropSamples(Var y) {
        Random rng = owner != null ? owner.trainRng : fallbackRng;
        int b = y.size(0);
        double keep = 1 - dropPath;
        Tensor mask = Tensor.zeros(y.data().dtype(), b, 1, 1, 1);
        for (int i = 0; i < b; i++) mask.set(rng.nextDouble() < keep ? 1 / keep : 0, i, 0, 0, 0);
        return F.mul(y, Var.constant(mask));
    }
}
