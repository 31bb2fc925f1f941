package dino4j.dino.model;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.kernels.RopeTable;
import dino4j.nn.LayerNorm;
import dino4j.nn.LayerScale;
import dino4j.nn.Mlp;
import dino4j.nn.Module;
import dino4j.nn.StochasticDepth;
import dino4j.nn.SwiGLUFFN;

import java.util.Random;

/** Pre-norm block with LayerScale on both branches and batch-subset stochastic depth (§1.4, §1.9). */
public final class Block extends Module {
    public final LayerNorm norm1, norm2;
    public final SelfAttention attn;
    public final LayerScale ls1, ls2;
    public final Module mlp;

    public Block(VitConfig c, Random rng) {
        norm1 = registerModule("norm1", new LayerNorm(c.embedDim(), c.normEps()));
        attn = registerModule("attn", new SelfAttention(c.embedDim(), c.heads(), c.qkvBias(), c.maskKBias(), rng));
        ls1 = registerModule("ls1", new LayerScale(c.embedDim(), c.layerScaleInit()));
        norm2 = registerModule("norm2", new LayerNorm(c.embedDim(), c.normEps()));
        mlp = registerModule("mlp", c.ffn().equals("mlp")
                ? new Mlp(c.embedDim(), c.ffnHidden(), c.embedDim(), true, rng)
                : new SwiGLUFFN(c.embedDim(), (int) (c.embedDim() * c.ffnRatio()), c.embedDim(), c.ffn().equals("swiglu") ? 8 : 64, true, rng));
        ls2 = registerModule("ls2", new LayerScale(c.embedDim(), c.layerScaleInit()));
    }

    public Var forward(Var x, RopeTable rope, int prefix, double dropPath, Random rng) {
        boolean train = isTraining();
        if (!train || dropPath == 0) {   // the common case: LayerScale fused into the residual add
            x = F.addScaled(x, attn.forward(norm1.forward(x), rope, prefix), ls1.gamma.var());
            return F.addScaled(x, mlp.forward(norm2.forward(x)), ls2.gamma.var());
        }
        x = StochasticDepth.residual(x, dropPath, rng, train, v -> ls1.forward(attn.forward(norm1.forward(v), rope, prefix)));
        return StochasticDepth.residual(x, dropPath, rng, train, v -> ls2.forward(mlp.forward(norm2.forward(v))));
    }
}
