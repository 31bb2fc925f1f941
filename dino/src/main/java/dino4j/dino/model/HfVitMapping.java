package dino4j.dino.model;

import com.google.gson.JsonObject;
import dino4j.kernels.RopeKernels;
import dino4j.tensor.DType;
import dino4j.tensor.Shape;
import dino4j.tensor.Tensor;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Hugging Face {@code DINOv3ViTModel} / {@code DINOv3ConvNextModel} key layouts → the official DINOv3
 * state_dict names (spec §5.3, §5.4).
 *
 * <p>ViT: q/k/v projections are fused into {@code attn.qkv} rows [q; k; v]; without a key bias the k third of
 * {@code qkv.bias} is zero and a {@code bias_mask} buffer (1, 0, 1) is added, which is what the official
 * masked-key-bias model computes; {@code mask_token} [1,1,D] becomes [1,D]; {@code lambda1} → {@code ls*.gamma};
 * {@code up/down/gate_proj} → {@code fc1/fc2} or {@code w2/w3/w1} (gated when {@code gate_proj} is present or
 * {@code use_gated_mlp}); {@code o_proj} → {@code proj}; {@code rope_embed.periods} computed from
 * {@code num_attention_heads} and {@code rope_theta} (without a config: base 100 and the heads of the released
 * model of that width and depth, else head_dim 64). {@code local_cls_norm} is absent from HF files.
 */
public final class HfVitMapping {
    private HfVitMapping() {}

    /** True when the keys are in the HF ViT layout ({@code embeddings.*}, {@code layer.N.*}). */
    public static boolean isHfVit(Map<String, Tensor> sd) {
        return sd.containsKey("embeddings.cls_token") || sd.keySet().stream().anyMatch(k -> k.startsWith("embeddings.patch_embeddings."));
    }

    /** True when the keys are in the HF ConvNeXt layout ({@code stages.S.layers.J.*} / {@code stages.S.downsample_layers.K.*}). */
    public static boolean isHfConvNeXt(Map<String, Tensor> sd) {
        return sd.keySet().stream().anyMatch(k -> k.matches("stages\\.\\d+\\.(layers|downsample_layers)\\..*"));
    }

    private static final Pattern LAYER = Pattern.compile("layer\\.(\\d+)\\.(.+)");

    /**
     * Converts an HF ViT state dict (keys without prefix) to official names.
     *
     * @param config the parsed config.json, or null
     * @param source named in error messages
     */
    public static Map<String, Tensor> vitToOfficial(Map<String, Tensor> hf, JsonObject config, Path source) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        TreeSet<Integer> layers = new TreeSet<>();
        for (String k : hf.keySet()) {
            Matcher m = LAYER.matcher(k);
            if (m.matches()) layers.add(Integer.parseInt(m.group(1)));
        }
        Tensor cls = require(hf, "embeddings.cls_token", source);
        int d = cls.size(-1);
        boolean gated = hf.keySet().stream().anyMatch(k -> k.endsWith(".mlp.gate_proj.weight"))
                || (config != null && config.has("use_gated_mlp") && config.get("use_gated_mlp").getAsBoolean());

        // embeddings, in the official order
        out.put("cls_token", cls);
        if (hf.containsKey("embeddings.register_tokens")) out.put("storage_tokens", hf.get("embeddings.register_tokens"));
        if (hf.containsKey("embeddings.mask_token")) {
            Tensor mt = hf.get("embeddings.mask_token");
            out.put("mask_token", mt.dim() == 3 ? mt.contiguous().reshape(mt.size(0) * mt.size(1), mt.size(2)) : mt);
        }
        copy(hf, out, "embeddings.patch_embeddings.weight", "patch_embed.proj.weight");
        copy(hf, out, "embeddings.patch_embeddings.bias", "patch_embed.proj.bias");

        int heads = config != null && config.has("num_attention_heads") ? config.get("num_attention_heads").getAsInt() : defaultHeads(d, layers.size());
        double theta = config != null && config.has("rope_theta") ? config.get("rope_theta").getAsDouble() : 100.0;
        if (d % heads != 0 || (d / heads) % 4 != 0)
            throw new IllegalArgumentException(source + ": hidden_size " + d + " and num_attention_heads " + heads + " give no valid RoPE head_dim");
        double[] periods = RopeKernels.periods(d / heads, theta);
        float[] pf = new float[periods.length];
        for (int i = 0; i < pf.length; i++) pf[i] = (float) periods[i];
        out.put("rope_embed.periods", Tensor.of(pf, pf.length));

        for (int i : layers) {
            String h = "layer." + i + ".", o = "blocks." + i + ".";
            copy(hf, out, h + "norm1.weight", o + "norm1.weight");
            copy(hf, out, h + "norm1.bias", o + "norm1.bias");
            // fused qkv
            Tensor q = require(hf, h + "attention.q_proj.weight", source), kw = require(hf, h + "attention.k_proj.weight", source),
                    v = require(hf, h + "attention.v_proj.weight", source);
            out.put(o + "attn.qkv.weight", catRows(source, o + "attn.qkv.weight", q, kw, v));
            Tensor qb = hf.get(h + "attention.q_proj.bias"), kb = hf.get(h + "attention.k_proj.bias"), vb = hf.get(h + "attention.v_proj.bias");
            if (qb != null || kb != null || vb != null) {
                Tensor z = Tensor.zeros(d);
                out.put(o + "attn.qkv.bias", catRows(source, o + "attn.qkv.bias", qb != null ? qb : z, kb != null ? kb : z, vb != null ? vb : z));
                if (kb == null) {
                    float[] mask = new float[3 * d];
                    for (int j = 0; j < mask.length; j++) mask[j] = j >= d && j < 2 * d ? 0f : 1f;
                    out.put(o + "attn.qkv.bias_mask", Tensor.of(mask, 3 * d));
                }
            }
            copy(hf, out, h + "attention.o_proj.weight", o + "attn.proj.weight");
            copy(hf, out, h + "attention.o_proj.bias", o + "attn.proj.bias");
            copy(hf, out, h + "layer_scale1.lambda1", o + "ls1.gamma");
            copy(hf, out, h + "norm2.weight", o + "norm2.weight");
            copy(hf, out, h + "norm2.bias", o + "norm2.bias");
            for (String p : new String[]{"weight", "bias"}) {
                if (gated) {
                    copy(hf, out, h + "mlp.gate_proj." + p, o + "mlp.w1." + p);
                    copy(hf, out, h + "mlp.up_proj." + p, o + "mlp.w2." + p);
                    copy(hf, out, h + "mlp.down_proj." + p, o + "mlp.w3." + p);
                } else {
                    copy(hf, out, h + "mlp.up_proj." + p, o + "mlp.fc1." + p);
                    copy(hf, out, h + "mlp.down_proj." + p, o + "mlp.fc2." + p);
                }
            }
            copy(hf, out, h + "layer_scale2.lambda1", o + "ls2.gamma");
        }
        copy(hf, out, "norm.weight", "norm.weight");
        copy(hf, out, "norm.bias", "norm.bias");

        // anything we did not consume is reported, so a new HF layout never loads half silently
        java.util.Set<String> consumed = new java.util.HashSet<>(Arrays.asList(
                "embeddings.cls_token", "embeddings.register_tokens", "embeddings.mask_token",
                "embeddings.patch_embeddings.weight", "embeddings.patch_embeddings.bias", "norm.weight", "norm.bias"));
        for (int i : layers) {
            String h = "layer." + i + ".";
            for (String s : new String[]{"norm1.weight", "norm1.bias", "norm2.weight", "norm2.bias",
                    "attention.q_proj.weight", "attention.k_proj.weight", "attention.v_proj.weight",
                    "attention.q_proj.bias", "attention.k_proj.bias", "attention.v_proj.bias",
                    "attention.o_proj.weight", "attention.o_proj.bias", "layer_scale1.lambda1", "layer_scale2.lambda1",
                    "mlp.up_proj.weight", "mlp.up_proj.bias", "mlp.down_proj.weight", "mlp.down_proj.bias",
                    "mlp.gate_proj.weight", "mlp.gate_proj.bias"})
                consumed.add(h + s);
        }
        for (String k : hf.keySet()) if (!consumed.contains(k)) unknown.add(k);
        if (!unknown.isEmpty())
            throw new IllegalArgumentException(source + ": Hugging Face ViT checkpoint has keys with no official counterpart ("
                    + unknown.size() + "): " + unknown);
        return out;
    }

    private static final Pattern BLOCK = Pattern.compile("blocks\\.(\\d+)\\.(.+)");

    /**
     * Official ViT keys → the HF {@code DINOv3ViTModel} layout (the inverse of {@link #vitToOfficial}): qkv split in
     * thirds, the k bias dropped (it is masked in the official model: exact only with {@code bias_mask}),
     * {@code bias_mask}, {@code rope_embed.periods} and {@code local_cls_norm.*} dropped.
     */
    public static Map<String, Tensor> vitFromOfficial(Map<String, Tensor> sd) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Tensor> e : sd.entrySet()) {
            String k = e.getKey();
            Tensor v = e.getValue();
            Matcher m = BLOCK.matcher(k);
            if (k.equals("cls_token")) out.put("embeddings.cls_token", v);
            else if (k.equals("mask_token")) out.put("embeddings.mask_token", v.contiguous().reshape(1, 1, v.size(-1)));
            else if (k.equals("storage_tokens")) out.put("embeddings.register_tokens", v);
            else if (k.startsWith("patch_embed.proj.")) out.put("embeddings.patch_embeddings." + k.substring("patch_embed.proj.".length()), v);
            else if (k.startsWith("norm.")) out.put(k, v);
            else if (m.matches()) {
                String h = "layer." + m.group(1) + ".", r = m.group(2);
                int d = v.size(0) / 3;
                switch (r) {
                    case "attn.qkv.weight" -> {
                        out.put(h + "attention.q_proj.weight", v.slice(0, 0, d).contiguous());
                        out.put(h + "attention.k_proj.weight", v.slice(0, d, 2 * d).contiguous());
                        out.put(h + "attention.v_proj.weight", v.slice(0, 2 * d, 3 * d).contiguous());
                    }
                    case "attn.qkv.bias" -> {
                        out.put(h + "attention.q_proj.bias", v.slice(0, 0, d).contiguous());
                        out.put(h + "attention.v_proj.bias", v.slice(0, 2 * d, 3 * d).contiguous());
                    }
                    case "attn.qkv.bias_mask" -> { }
                    default -> out.put(h + r.replace("attn.proj.", "attention.o_proj.")
                            .replace("ls1.gamma", "layer_scale1.lambda1").replace("ls2.gamma", "layer_scale2.lambda1")
                            .replace("mlp.fc1.", "mlp.up_proj.").replace("mlp.fc2.", "mlp.down_proj.")
                            .replace("mlp.w1.", "mlp.gate_proj.").replace("mlp.w2.", "mlp.up_proj.").replace("mlp.w3.", "mlp.down_proj."), v);
                }
            } // rope_embed.periods, local_cls_norm.*: dropped
        }
        return out;
    }

    private static final Pattern HF_DOWN = Pattern.compile("stages\\.(\\d+)\\.downsample_layers\\.(\\d+)\\.(.+)");
    private static final Pattern HF_BLOCK = Pattern.compile("stages\\.(\\d+)\\.layers\\.(\\d+)\\.(.+)");

    /** HF ConvNeXt keys → official (§5.4); the final norm is also written as the duplicate {@code norms.3.*}. */
    public static Map<String, Tensor> convNeXtToOfficial(Map<String, Tensor> hf, Path source) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        List<String> unknown = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : hf.entrySet()) {
            String k = e.getKey();
            Matcher m;
            if ((m = HF_DOWN.matcher(k)).matches()) {
                out.put("downsample_layers." + m.group(1) + "." + m.group(2) + "." + m.group(3), e.getValue());
            } else if ((m = HF_BLOCK.matcher(k)).matches()) {
                String rest = m.group(3)
                        .replace("depthwise_conv", "dwconv")
                        .replace("pointwise_conv", "pwconv")
                        .replace("layer_norm", "norm")
                        .replace("layer_scale_parameter", "gamma");
                out.put("stages." + m.group(1) + "." + m.group(2) + "." + rest, e.getValue());
            } else if (k.startsWith("layer_norm.")) {
                out.put("norm." + k.substring("layer_norm.".length()), e.getValue());
            } else {
                unknown.add(k);
            }
        }
        if (!unknown.isEmpty())
            throw new IllegalArgumentException(source + ": Hugging Face ConvNeXt checkpoint has keys with no official counterpart ("
                    + unknown.size() + "): " + unknown);
        // the official model registers its final norm twice (norm and norms.3)
        List<String> last = new ArrayList<>();
        for (String k : out.keySet()) if (k.startsWith("norm.")) last.add(k);
        int lastStage = out.keySet().stream().filter(k -> k.startsWith("stages."))
                .mapToInt(k -> Integer.parseInt(k.split("\\.")[1])).max().orElse(3);
        for (String k : last) out.putIfAbsent("norms." + lastStage + "." + k.substring("norm.".length()), out.get(k));
        return out;
    }

    /** Without config.json: the heads of the released model with this width and depth (7B: head_dim 128), else head_dim 64. */
    static int defaultHeads(int d, int depth) {
        for (VitConfig p : VitConfig.PRESETS.values()) if (p.embedDim() == d && p.depth() == depth) return p.heads();
        return Math.max(1, d / 64);
    }

    private static Tensor require(Map<String, Tensor> hf, String key, Path source) {
        Tensor t = hf.get(key);
        if (t == null) throw new IllegalArgumentException(source + ": Hugging Face ViT checkpoint lacks '" + key + "'");
        return t;
    }

    private static void copy(Map<String, Tensor> hf, Map<String, Tensor> out, String from, String to) {
        Tensor t = hf.get(from);
        if (t != null) out.put(to, t);
    }

    /** Concatenates tensors along dim 0 (all with equal trailing shape), as F32 (or F64 when all are F64). */
    static Tensor catRows(Path source, String what, Tensor... parts) {
        int[] tail = Arrays.copyOfRange(parts[0].shape(), 1, parts[0].dim());
        int rows = 0;
        boolean f64 = true;
        for (Tensor p : parts) {
            if (!Arrays.equals(tail, Arrays.copyOfRange(p.shape(), 1, p.dim())) || p.dim() != parts[0].dim())
                throw new IllegalArgumentException(source + ": cannot fuse " + what + " from parts shaped "
                        + Arrays.stream(parts).map(t -> Shape.str(t.shape())).toList());
            rows += p.size(0);
            f64 &= p.dtype() == DType.F64;
        }
        int[] shape = parts[0].shape();
        shape[0] = rows;
        if (f64) {
            double[] all = new double[Shape.numel(shape)];
            int off = 0;
            for (Tensor p : parts) { double[] a = p.toDoubleArray(); System.arraycopy(a, 0, all, off, a.length); off += a.length; }
            return Tensor.of(all, shape);
        }
        float[] all = new float[Shape.numel(shape)];
        int off = 0;
        for (Tensor p : parts) { float[] a = p.to(DType.F32).toFloatArray(); System.arraycopy(a, 0, all, off, a.length); off += a.length; }
        return Tensor.of(all, shape);
    }
}
