package dino4j.dino.model;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.kernels.RopeTable;
import dino4j.nn.Linear;
import dino4j.nn.Module;
import dino4j.tensor.Tensor;

import java.util.Random;

/**
 * Fused-qkv multi-head attention (§1.5). With {@code maskKBias} the qkv bias is multiplied by the
 * {@code bias_mask} buffer (zero on the k third), so keys have no bias, exactly as the official model.
 */
public final class SelfAttention extends Module {
    public final int dim, heads;
    public final Linear qkv, proj;

    public SelfAttention(int dim, int heads, boolean qkvBias, boolean maskKBias, Random rng) {
        this.dim = dim;
        this.heads = heads;
        this.qkv = registerModule("qkv", new Linear(dim, 3 * dim, qkvBias, rng));
        if (qkvBias && maskKBias) {
            float[] m = new float[3 * dim];
            for (int i = 0; i < m.length; i++) m[i] = i >= dim && i < 2 * dim ? 0f : 1f;
            qkv.registerBuffer("bias_mask", Tensor.of(m, 3 * dim));
        }
        this.proj = registerModule("proj", new Linear(dim, dim, true, rng));
    }

    /** x [B, N, D]; RoPE on the last N − prefix tokens (nullable table = no RoPE). */
    public Var forward(Var x, RopeTable rope, int prefix) {
        Var bias = null;
        if (qkv.bias != null) {
            bias = qkv.bias.var();
            if (qkv.namedBuffers().containsKey("bias_mask")) bias = F.mul(bias, Var.constant(qkv.buffer("bias_mask")));
        }
        Var t = F.linear(x, qkv.weight.var(), bias);
        return proj.forward(F.attention(t, heads, rope, prefix));
    }
}
