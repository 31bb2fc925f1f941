package dino4j.dino.model;

import dino4j.nn.SwiGLUFFN;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DINOv3 ViT's shape (spec §1.11). {@code ffn} is "mlp", "swiglu" (hidden aligned to 8) or
 * "swiglu64"; {@code ffnRatio} is the nominal hidden ratio.
 */
public record VitConfig(String name, int embedDim, int depth, int heads, String ffn, double ffnRatio,
                        int storageTokens, int patchSize, boolean qkvBias, boolean maskKBias,
                        double layerScaleInit, double normEps, boolean localClsNorm, double ropeBase) {

    public VitConfig {
        if (embedDim % heads != 0) throw new IllegalArgumentException(name + ": embed_dim " + embedDim + " not divisible by heads " + heads);
        if ((embedDim / heads) % 4 != 0) throw new IllegalArgumentException(name + ": head_dim must be a multiple of 4 for 2-D RoPE");
        if (!ffn.equals("mlp") && !ffn.equals("swiglu") && !ffn.equals("swiglu64"))
            throw new IllegalArgumentException(name + ": ffn must be mlp, swiglu or swiglu64, got " + ffn);
    }

    public int headDim() { return embedDim / heads; }

    /** The same shape with another LayerScale init (a new model's recipe choice; loaded weights bring their own). */
    public VitConfig withLayerScaleInit(double g) {
        return new VitConfig(name, embedDim, depth, heads, ffn, ffnRatio, storageTokens, patchSize, qkvBias, maskKBias, g, normEps, localClsNorm, ropeBase);
    }

    /** Tokens before the patches: CLS + storage tokens (left unrotated by RoPE). */
    public int prefixTokens() { return 1 + storageTokens; }

    public int ffnHidden() {
        return switch (ffn) {
            case "mlp" -> (int) (embedDim * ffnRatio);
            case "swiglu" -> SwiGLUFFN.hiddenSize(embedDim, ffnRatio, 8);
            default -> SwiGLUFFN.hiddenSize(embedDim, ffnRatio, 64);
        };
    }

    /** Trainable parameters (cls, storage, mask token, patch embed, blocks, final norm(s)); buffers excluded. */
    public long parameterCount() {
        long d = embedDim, h = ffnHidden(), p = patchSize;
        long perBlock = 2 * (2 * d)                                   // norm1, norm2
                + 3 * d * d + (qkvBias ? 3 * d : 0) + d * d + d       // qkv, proj
                + 2 * d                                               // ls1, ls2
                + (ffn.equals("mlp") ? d * h + h + h * d + d : 2 * (d * h + h) + h * d + d);
        long tokens = d * (1 + storageTokens) + d;
        long patch = d * 3 * p * p + d;
        return tokens + patch + depth * perBlock + 2 * d + (localClsNorm ? 2 * d : 0);
    }

    public VitConfig withStorageTokens(int r) {
        return new VitConfig(name, embedDim, depth, heads, ffn, ffnRatio, r, patchSize, qkvBias, maskKBias,
                layerScaleInit, normEps, localClsNorm, ropeBase);
    }

    private static VitConfig released(String name, int d, int depth, int heads, String ffn, double ratio, boolean qkvBias, boolean localClsNorm) {
        return new VitConfig(name, d, depth, heads, ffn, ratio, 4, 16, qkvBias, qkvBias, 1e-5, 1e-5, localClsNorm, 100);
    }

    /** The released sizes (§1.11) by hub-style name. */
    public static final Map<String, VitConfig> PRESETS = presets();

    private static Map<String, VitConfig> presets() {
        Map<String, VitConfig> m = new LinkedHashMap<>();
        m.put("vits16", released("vits16", 384, 12, 6, "mlp", 4, true, false));
        m.put("vits16plus", released("vits16plus", 384, 12, 6, "swiglu", 6, true, false));
        m.put("vitb16", released("vitb16", 768, 12, 12, "mlp", 4, true, false));
        m.put("vitl16", released("vitl16", 1024, 24, 16, "mlp", 4, true, false));
        m.put("vitl16_sat", released("vitl16_sat", 1024, 24, 16, "mlp", 4, true, true));
        m.put("vith16plus", released("vith16plus", 1280, 32, 20, "swiglu", 6, true, false));
        m.put("vit7b16", released("vit7b16", 4096, 40, 32, "swiglu64", 3, false, true));
        return m;
    }

    public static VitConfig preset(String name) {
        VitConfig c = PRESETS.get(name);
        if (c == null) throw new IllegalArgumentException("unknown model '" + name + "' (known: " + String.join(", ", PRESETS.keySet()) + ")");
        return c;
    }
}
