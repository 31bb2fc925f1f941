package dino4j.dino.model;

import dino4j.kernels.RopeKernels;
import dino4j.kernels.RopeTable;
import dino4j.nn.Module;
import dino4j.tensor.Tensor;

import java.util.Random;

/**
 * 2-D axial RoPE (§1.6): the {@code periods} buffer (loaded from checkpoints when present) and the
 * sin/cos table for a patch grid. In training the coordinate box is rescaled by a log-uniform factor in
 * [1/S, S] (S = {@link #rescale}; 0 = off), drawn by the caller once per block and crop set.
 */
public final class RopeEmbed extends Module {
    public final int headDim;
    public double rescale = 2.0;

    public RopeEmbed(int headDim, double base) {
        this.headDim = headDim;
        registerBuffer("periods", Tensor.of(toFloats(RopeKernels.periods(headDim, base)), headDim / 4));
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    private double[] periods() {
        Tensor p = buffer("periods");
        if (p.numel() != headDim / 4)
            throw new IllegalStateException("rope_embed.periods has " + p.numel() + " entries, head_dim " + headDim + " needs " + headDim / 4);
        return p.toDoubleArray();
    }

    /** Eval-mode table, or with the training-time rescale when this module trains and rng is given. */
    public RopeTable table(int h, int w, Random rng) {
        if (isTraining() && rng != null && rescale > 1) {
            double s = Math.exp((rng.nextDouble() * 2 - 1) * Math.log(rescale));
            return RopeKernels.table(h, w, periods(), 0, 0, 1, 1, s);
        }
        return RopeKernels.table(h, w, periods());
    }
}
