package dino4j.dino.model;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.kernels.RopeTable;
import dino4j.nn.Init;
import dino4j.nn.LayerNorm;
import dino4j.nn.Module;
import dino4j.nn.ModuleList;
import dino4j.nn.Parameter;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The DINOv3 ViT backbone (spec §1): patch embedding, [CLS | storage tokens | patches] with no absolute
 * position embedding, RoPE on patch tokens inside attention, pre-norm blocks with LayerScale, final norm.
 * Parameter names are the official checkpoint keys, so official state_dicts load without renaming.
 */
public final class DinoVisionTransformer extends Module implements Backbone {
    public final VitConfig config;
    public final Parameter clsToken, storageTokens, maskToken;
    public final PatchEmbed patchEmbed;
    public final RopeEmbed ropeEmbed;
    public final ModuleList<Block> blocks;
    public final LayerNorm norm;
    public final LayerNorm localClsNorm; // null unless config.localClsNorm()
    /** Stochastic-depth rate used in training (§1.9); 0 at inference. */
    public double dropPath = 0;
    /** Randomness for drop path and RoPE rescale in training. */
    public Random trainRng = new Random(0);

    public DinoVisionTransformer(VitConfig c, Random rng) {
        this.config = c;
        int d = c.embedDim();
        clsToken = registerParameter("cls_token", fill(Tensor.zeros(1, 1, d), Init.normal(0, 0.02), rng));
        storageTokens = c.storageTokens() > 0
                ? registerParameter("storage_tokens", fill(Tensor.zeros(1, c.storageTokens(), d), Init.normal(0, 0.02), rng)) : null;
        maskToken = registerParameter("mask_token", Tensor.zeros(1, d));
        patchEmbed = registerModule("patch_embed", new PatchEmbed(d, c.patchSize(), rng));
        ropeEmbed = registerModule("rope_embed", new RopeEmbed(c.headDim(), c.ropeBase()));
        blocks = registerModule("blocks", new ModuleList<>());
        for (int i = 0; i < c.depth(); i++) blocks.add(new Block(c, rng));
        norm = registerModule("norm", new LayerNorm(d, c.normEps()));
        localClsNorm = c.localClsNorm() ? registerModule("local_cls_norm", new LayerNorm(d, c.normEps())) : null;
    }

    private static Tensor fill(Tensor t, Init init, Random rng) { init.apply(t, rng); return t; }

    /** Eval-mode features of a batch of images [B, 3, H, W]. */
    @Override public Features forwardFeatures(Var x) { return forwardFeatures(x, null); }

    @Override public int embedDim() { return config.embedDim(); }

    @Override public int patchSize() { return config.patchSize(); }

    @Override public String describe() {
        return config.name() + " (ViT: D " + config.embedDim() + ", " + config.depth() + " blocks, " + config.heads() + " heads, "
                + config.storageTokens() + " storage tokens, patch " + config.patchSize() + ", ffn " + config.ffn() + ")";
    }

    /**
     * @param masks null, or BOOL/float [B, h·w]: true = patch embedding replaced by {@code mask_token} (iBOT)
     */
    public Features forwardFeatures(Var x, Tensor masks) {
        Var seq = embed(x, masks);
        int h = x.size(2) / config.patchSize(), w = x.size(3) / config.patchSize();
        int prefix = config.prefixTokens();
        for (Block b : blocks) seq = b.forward(seq, ropeTable(h, w), prefix, isTraining() ? dropPath : 0, trainRng);
        return outputs(seq, h, w);
    }

    /** Outputs of the listed blocks (0-based), each through the final norm when {@code normed}. */
    public List<Features> intermediateLayers(Var x, int[] layers, boolean normed) {
        Var seq = embed(x, null);
        int h = x.size(2) / config.patchSize(), w = x.size(3) / config.patchSize();
        int prefix = config.prefixTokens();
        List<Features> out = new ArrayList<>();
        int last = Arrays.stream(layers).max().orElse(-1);
        if (last >= blocks.size()) throw new IllegalArgumentException("layer " + last + " requested, the model has " + blocks.size() + " blocks");
        for (int i = 0; i <= last; i++) {
            seq = blocks.get(i).forward(seq, ropeTable(h, w), prefix, isTraining() ? dropPath : 0, trainRng);
            final int idx = i;
            if (Arrays.stream(layers).anyMatch(l -> l == idx)) out.add(normed ? outputs(seq, h, w) : split(seq, seq, h, w));
        }
        return out;
    }

    private RopeTable ropeTable(int h, int w) { return ropeEmbed.table(h, w, isTraining() ? trainRng : null); }

    private Var embed(Var x, Tensor masks) {
        Var patches = patchEmbed.forward(x);                       // [B, hw, D]
        int b = patches.size(0), n = patches.size(1), d = config.embedDim();
        Var cls = clsToken.var();
        if (masks != null) {
            if (masks.numel() != b * n)
                throw new IllegalArgumentException("masks must be [B, h*w] = [" + b + ", " + n + "], got " + Arrays.toString(masks.shape()));
            Tensor m = masks.to(patches.data().dtype()).reshape(b, n, 1);
            Tensor keep = Tensor.full(m.dtype(), 1, b, n, 1);
            for (int i = 0; i < b * n; i++) keep.storage().set(i, 1 - m.getFlat(i));
            patches = F.add(F.mul(patches, Var.constant(keep)), F.mul(Var.constant(m), F.reshape(maskToken.var(), 1, 1, d)));
        } else {
            // the official model adds 0·mask_token to keep it in the graph: its gradient is then zero, not missing
            cls = F.add(cls, F.mulScalar(F.reshape(maskToken.var(), 1, 1, d), 0.0));
        }
        Tensor zeros = Tensor.zeros(patches.data().dtype(), b, 1, d);
        List<Var> parts = new ArrayList<>();
        parts.add(F.add(Var.constant(zeros), cls));
        if (storageTokens != null) {
            Tensor z = Tensor.zeros(patches.data().dtype(), b, config.storageTokens(), d);
            parts.add(F.add(Var.constant(z), storageTokens.var()));
        }
        parts.add(patches);
        return F.cat(1, parts.toArray(Var[]::new));
    }

    private Features outputs(Var prenorm, int h, int w) { return split(norm.forward(prenorm), prenorm, h, w); }

    private Features split(Var normed, Var prenorm, int h, int w) {
        int r = config.storageTokens(), n = normed.size(1);
        Var cls = F.select(normed, 1, 0);
        Var storage = F.slice(normed, 1, 1, 1 + r);
        Var patches = F.slice(normed, 1, 1 + r, n);
        return new Features(cls, storage, patches, prenorm, h, w);
    }

    /** Converts all parameters and buffers (tests run the model in F64 for gradient checks). */
    @Override public DinoVisionTransformer to(DType dtype) { super.to(dtype); return this; }
}
