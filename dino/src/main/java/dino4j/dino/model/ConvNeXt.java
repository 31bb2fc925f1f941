package dino4j.dino.model;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.nn.Init;
import dino4j.nn.LayerNorm;
import dino4j.nn.Module;
import dino4j.nn.ModuleList;
import dino4j.nn.Parameter;
import dino4j.nn.Sequential;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The DINOv3 ConvNeXt student (spec §2): ConvNeXt v1 (no GRN) whose head is replaced by the ViT output API.
 * Stem conv 4/4 + channels-first LayerNorm, downsamplers LN + conv 2/2, blocks dwconv 7×7 → LN → Linear 4C →
 * GELU → Linear C → gamma → residual; CLS := global average pool of the stage-4 map, and one final
 * {@code norm} over [CLS, stage-4 tokens].
 *
 * <p>Parameter names are the official keys (§5.4). As in the official model, the final norm is registered
 * twice, as {@code norm} and as {@code norms.3} ({@code norms.0..2} are identities): {@link #stateDict()}
 * therefore emits both key pairs (like the official {@code state_dict}), {@link #namedParameters()} lists
 * it once as {@code norm.*}, and {@link #loadStateDict} accepts dicts with both pairs (they must be equal)
 * or with only one of them.
 */
public final class ConvNeXt extends Module implements Backbone {
    public final ConvNeXtConfig config;
    public final ModuleList<Sequential> downsampleLayers;
    public final ModuleList<Sequential> stages;
    public final LayerNorm norm;
    /** Per-stage output norms for {@link #intermediateLayers}: identities, then {@link #norm} itself. */
    public final ModuleList<Module> norms;
    /** Randomness for DropPath in training. */
    public Random trainRng = new Random(0);

    public ConvNeXt(ConvNeXtConfig c, Random rng) {
        this.config = c;
        double eps = c.normEps();
        downsampleLayers = registerModule("downsample_layers", new ModuleList<>());
        downsampleLayers.add(new Sequential(new Conv(3, c.dim(0), 4, 4, 0, false, rng), new ChannelsFirstLayerNorm(c.dim(0), eps)));
        for (int i = 1; i < 4; i++)
            downsampleLayers.add(new Sequential(new ChannelsFirstLayerNorm(c.dim(i - 1), eps), new Conv(c.dim(i - 1), c.dim(i), 2, 2, 0, false, rng)));
        stages = registerModule("stages", new ModuleList<>());
        int total = c.totalBlocks(), k = 0;
        for (int s = 0; s < 4; s++) {
            Sequential stage = new Sequential();
            for (int j = 0; j < c.depth(s); j++, k++) {
                double rate = total > 1 ? c.dropPathRate() * k / (total - 1) : 0;   // torch.linspace(0, rate, total)
                stage.add(new ConvNeXtBlock(c.dim(s), c.layerScaleInit(), eps, rate, this, rng));
            }
            stages.add(stage);
        }
        norm = registerModule("norm", new LayerNorm(c.embedDim(), eps));
        norms = registerModule("norms", new ModuleList<>());
        for (int i = 0; i < 3; i++) norms.add(new Identity());
        norms.add(norm);
    }

    // ------------------------------------------------------------------ layers

    /** Conv2d with official keys {@code weight} [O, C/groups, k, k] and {@code bias}; trunc normal 0.02, bias 0 (§2). */
    public static final class Conv extends Module {
        public final Parameter weight, bias;
        public final int stride, pad;
        public final boolean depthwise;

        Conv(int in, int out, int kernel, int stride, int pad, boolean depthwise, Random rng) {
            if (depthwise && in != out) throw new IllegalArgumentException("depthwise conv needs in == out, got " + in + " → " + out);
            this.stride = stride;
            this.pad = pad;
            this.depthwise = depthwise;
            Tensor w = Tensor.zeros(out, depthwise ? 1 : in, kernel, kernel);
            Init.truncNormal(0.02).apply(w, rng);
            weight = registerParameter("weight", w);
            bias = registerParameter("bias", Tensor.zeros(out));
        }

        @Override public Var forward(Var x) {
            return depthwise ? F.depthwiseConv2d(x, weight.var(), bias.var(), pad) : F.conv2d(x, weight.var(), bias.var(), stride, pad);
        }
    }

    /** LayerNorm over the channel axis of [B, C, H, W] (the official {@code data_format="channels_first"}). */
    public static final class ChannelsFirstLayerNorm extends LayerNorm {
        ChannelsFirstLayerNorm(int dim, double eps) { super(dim, eps); }

        @Override public Var forward(Var x) {
            if (x.dim() != 4 || x.size(1) != dim)
                throw new IllegalArgumentException("channels-first LayerNorm(" + dim + ") expects [B, " + dim + ", H, W], got " + Arrays.toString(x.shape()));
            Var y = super.forward(F.contiguous(F.permute(x, 0, 2, 3, 1)));
            return F.contiguous(F.permute(y, 0, 3, 1, 2));
        }
    }

    /** nn.Identity: no parameters, returns its input. */
    public static final class Identity extends Module {
        @Override public Var forward(Var x) { return x; }
    }

    // ------------------------------------------------------------------ forward

    @Override public int embedDim() { return config.embedDim(); }

    /** The output stride: stem 4 × three 2× downsamplings. */
    @Override public int patchSize() { return 32; }

    @Override public String describe() {
        return config.name() + " (ConvNeXt: depths " + java.util.Arrays.toString(config.depths()) + ", dims "
                + java.util.Arrays.toString(config.dims()) + ", stride 32, no storage tokens)";
    }

    /** Eval- or train-mode features of images [B, 3, H, W]: stride-32 tokens, no storage tokens (§2). */
    @Override public Features forwardFeatures(Var x) {
        Var map = trunk(x, 3, null);
        int b = map.size(0), c = map.size(1), h = map.size(2), w = map.size(3);
        Var pooled = pool(map);                                               // [B, C]
        Var tokens = tokens(map);                                             // [B, h·w, C]
        Var normed = norm.forward(F.cat(1, F.reshape(pooled, b, 1, c), tokens));
        return new Features(F.select(normed, 1, 0), F.slice(normed, 1, 1, 1), F.slice(normed, 1, 1, 1 + h * w), tokens, h, w);
    }

    /**
     * Outputs of the listed stages (0..3), as {@code get_intermediate_layers}: CLS = pooled map, patches = the
     * stage map as tokens (bilinearly resized with antialias to H/p × W/p when {@code config.patchSize() > 0}).
     * With {@code normed}, the stage's entry of {@link #norms} is applied (identity for stages 0–2, the final
     * norm for stage 3); {@code prenorm} holds the un-normed tokens and storage tokens are empty.
     */
    public List<Features> intermediateLayers(Var x, int[] stageIndices, boolean normed) {
        int last = Arrays.stream(stageIndices).max().orElse(-1);
        for (int s : stageIndices) if (s < 0 || s > 3) throw new IllegalArgumentException("ConvNeXt has stages 0..3, got " + s);
        List<Features> out = new ArrayList<>();
        int imgH = x.size(2), imgW = x.size(3), p = config.patchSize();
        Var[] maps = new Var[4];
        trunk(x, last, maps);
        for (int s : stageIndices) {
            Var map = maps[s];
            Var pooled = pool(map);
            if (p > 0) map = F.resize(map, imgH / p, imgW / p, "bilinear", true);
            int b = map.size(0), c = map.size(1), h = map.size(2), w = map.size(3);
            Var tokens = tokens(map);
            Var seq = F.cat(1, F.reshape(pooled, b, 1, c), tokens);
            Var ns = normed ? norms.get(s).forward(seq) : seq;
            out.add(new Features(F.select(ns, 1, 0), F.slice(ns, 1, 1, 1), F.slice(ns, 1, 1, 1 + h * w), tokens, h, w));
        }
        return out;
    }

    /** The last {@code n} stages' outputs ({@code get_intermediate_layers(x, n)}). */
    public List<Features> intermediateLayers(Var x, int n, boolean normed) {
        if (n < 1 || n > 4) throw new IllegalArgumentException("n must be in 1..4, got " + n);
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = 4 - n + i;
        return intermediateLayers(x, idx, normed);
    }

    /** Runs downsampler + stage 0..last; stores each stage's map [B, C, h, w] in {@code maps} when given. */
    private Var trunk(Var x, int last, Var[] maps) {
        if (x.dim() != 4 || x.size(1) != 3)
            throw new IllegalArgumentException("ConvNeXt expects images [B, 3, H, W], got " + Arrays.toString(x.shape()));
        if (x.size(2) < 32 || x.size(3) < 32)
            throw new IllegalArgumentException("image " + x.size(2) + "x" + x.size(3) + " is smaller than the ConvNeXt stride of 32");
        for (int i = 0; i <= last; i++) {
            x = stages.get(i).forward(downsampleLayers.get(i).forward(x));
            if (maps != null) maps[i] = x;
        }
        return x;
    }

    /** Global average pool over H×W: [B, C, H, W] → [B, C]. */
    private static Var pool(Var map) { return F.mean(F.mean(map, 3, false), 2, false); }

    /** [B, C, H, W] → row-major tokens [B, H·W, C]. */
    private static Var tokens(Var map) {
        int b = map.size(0), c = map.size(1), hw = map.size(2) * map.size(3);
        return F.contiguous(F.transpose(F.reshape(map, b, c, hw), 1, 2));
    }

    // ------------------------------------------------------------------ checkpoints

    private static final String[] NORM_KEYS = {"weight", "bias"};

    /**
     * Loads official ConvNeXt state_dicts. The official file holds the final norm twice ({@code norm.*} and
     * {@code norms.3.*}, one module): both pairs must then be equal; a dict with only one pair is completed
     * from it, so strict loading accepts either form. Everything else is {@link Module#loadStateDict}.
     */
    @Override public List<String> loadStateDict(Map<String, Tensor> state, boolean strict) {
        Map<String, Tensor> s = new LinkedHashMap<>(state);
        for (String k : NORM_KEYS) {
            Tensor a = s.get("norm." + k), b = s.get("norms.3." + k);
            if (a != null && b != null) {
                if (!Arrays.equals(a.shape(), b.shape()) || !Arrays.equals(a.to(DType.F64).toDoubleArray(), b.to(DType.F64).toDoubleArray()))
                    throw new IllegalArgumentException("error loading state dict into ConvNeXt: 'norm." + k + "' and 'norms.3." + k
                            + "' differ, but are the same module in the official model");
            } else if (a != null) {
                s.put("norms.3." + k, a);
            } else if (b != null) {
                s.put("norm." + k, b);
            }
        }
        return super.loadStateDict(s, strict);
    }

    /** Converts all parameters (tests run the model in F64 for gradient checks). */
    @Override public ConvNeXt to(DType dtype) { super.to(dtype); return this; }
}
