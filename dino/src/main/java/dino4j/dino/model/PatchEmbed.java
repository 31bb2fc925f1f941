package dino4j.dino.model;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.nn.Init;
import dino4j.nn.Module;
import dino4j.nn.Parameter;
import dino4j.tensor.Tensor;

import java.util.Random;

/** Conv 3→D, kernel = stride = patch, as tokens [B, h·w, D] row-major (§1.2). Key: {@code patch_embed.proj}. */
public final class PatchEmbed extends Module {
    public final int patch, dim;
    private final Proj proj;

    /** Holds the conv parameters under the official name {@code proj.weight}/{@code proj.bias}. */
    static final class Proj extends Module {
        final Parameter weight, bias;

        Proj(int dim, int patch, Random rng) {
            double k = Math.sqrt(1.0 / (3.0 * patch * patch));
            Tensor w = Tensor.zeros(dim, 3, patch, patch), b = Tensor.zeros(dim);
            Init.uniform(-k, k).apply(w, rng);
            Init.uniform(-k, k).apply(b, rng);
            weight = registerParameter("weight", w);
            bias = registerParameter("bias", b);
        }
    }

    public PatchEmbed(int dim, int patch, Random rng) {
        this.patch = patch;
        this.dim = dim;
        this.proj = registerModule("proj", new Proj(dim, patch, rng));
    }

    /** x [B, 3, H, W] → tokens [B, (H/p)·(W/p), D]; remainder pixels are ignored like the strided conv. */
    @Override public Var forward(Var x) {
        if (x.dim() != 4 || x.size(1) != 3)
            throw new IllegalArgumentException("patch embedding expects images [B, 3, H, W], got " + java.util.Arrays.toString(x.shape()));
        if (x.size(2) < patch || x.size(3) < patch)
            throw new IllegalArgumentException("image " + x.size(2) + "x" + x.size(3) + " is smaller than one " + patch + "-pixel patch");
        Var y = F.conv2d(x, proj.weight.var(), proj.bias.var(), patch, 0);   // [B, D, h, w]
        int b = y.size(0), h = y.size(2), w = y.size(3);
        return F.contiguous(F.transpose(F.reshape(y, b, dim, h * w), 1, 2));
    }
}
