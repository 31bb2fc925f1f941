package dino4j.dino.model;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import dino4j.nn.Module;
import dino4j.nn.SwiGLUFFN;
import dino4j.tensor.DType;
import dino4j.tensor.Shape;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import dino4j.tensor.io.TorchCheckpoint;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Reading, recognising and writing DINOv3 checkpoints (spec §5).
 *
 * <p>Accepted inputs: an official {@code .pth} (a torch.save zip, read by the allow-listed
 * {@link TorchCheckpoint}), a {@code .safetensors} file, a Hugging Face model folder ({@code model.safetensors}
 * or a sharded {@code model.safetensors.index.json}, plus {@code config.json}) or the path of such a
 * {@code model.safetensors}. The format is recognised by content (zip magic / safetensors header), not by
 * the file name. Wrapper prefixes are stripped ({@code module.}, {@code teacher.backbone.} /
 * {@code backbone.} — head keys such as {@code dino_head.*} next to them are dropped — and a
 * {@code model.} / {@code state_dict.} prefix shared by every key), HF layouts are renamed to the official
 * keys ({@link HfVitMapping}), and BF16/F16 tensors become F32.
 */
public final class Checkpoints {
    private Checkpoints() {}

    /** Where a state dict came from and in which layout it was stored. */
    public enum Layout { OFFICIAL_PTH, SAFETENSORS, HF_VIT, HF_CONVNEXT }

    /**
     * A read checkpoint: official-named tensors, the layout found and, for HF folders, config.json (else null).
     */
    public record Checkpoint(Path path, Layout layout, Map<String, Tensor> stateDict, JsonObject hfConfig) {}

    /** Depths and widths of a ConvNeXt, inferred from official keys (independent of the model classes). */
    public record ConvNeXtShape(int[] depths, int[] dims) {
        @Override public String toString() { return "ConvNeXtShape(depths " + Arrays.toString(depths) + ", dims " + Arrays.toString(dims) + ")"; }
        @Override public boolean equals(Object o) {
            return o instanceof ConvNeXtShape s && Arrays.equals(depths, s.depths) && Arrays.equals(dims, s.dims);
        }
        @Override public int hashCode() { return 31 * Arrays.hashCode(depths) + Arrays.hashCode(dims); }
    }

    // ------------------------------------------------------------------ reading

    /** The official-named state dict of any accepted checkpoint (see the class comment). */
    public static Map<String, Tensor> readStateDict(Path path) throws IOException { return read(path).stateDict(); }

    /** Reads and normalises a checkpoint, keeping the layout and HF config. */
    public static Checkpoint read(Path path) throws IOException {
        if (!Files.exists(path)) throw new IOException(path + ": no such file or folder");
        JsonObject config = null;
        Path file = path;
        Map<String, Tensor> raw;
        Layout layout;
        if (Files.isDirectory(path)) {
            Path single = path.resolve("model.safetensors"), index = path.resolve("model.safetensors.index.json");
            if (Files.isRegularFile(single)) {
                file = single;
                raw = readSafetensors(single);
            } else if (Files.isRegularFile(index)) {
                file = index;
                raw = readSharded(index);
            } else {
                throw new IOException(path + ": not a checkpoint: a folder must be a Hugging Face model folder holding "
                        + "model.safetensors (or model.safetensors.index.json) and config.json");
            }
            config = readConfig(path.resolve("config.json"));
            layout = Layout.SAFETENSORS;
        } else {
            byte[] head = readHead(path, 16);
            if (head.length >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) {
                raw = TorchCheckpoint.read(path);
                layout = Layout.OFFICIAL_PTH;
            } else if (looksLikeSafetensors(head, Files.size(path))) {
                raw = readSafetensors(path);
                layout = Layout.SAFETENSORS;
                Path cfg = path.toAbsolutePath().getParent() == null ? null : path.toAbsolutePath().getParent().resolve("config.json");
                if (cfg != null && Files.isRegularFile(cfg)) config = readConfig(cfg);
            } else if (path.getFileName().toString().endsWith(".json") && path.getFileName().toString().contains("index")) {
                raw = readSharded(path);
                layout = Layout.SAFETENSORS;
                config = readConfig(path.toAbsolutePath().getParent().resolve("config.json"));
            } else {
                throw new IOException(path + ": not a checkpoint: neither a torch.save .pth (zip) archive, a .safetensors file "
                        + "nor a Hugging Face model folder");
            }
        }
        Map<String, Tensor> sd = stripPrefixes(raw);
        sd = toF32(sd);
        if (HfVitMapping.isHfVit(sd)) {
            sd = HfVitMapping.vitToOfficial(sd, config, file);
            layout = Layout.HF_VIT;
        } else if (HfVitMapping.isHfConvNeXt(sd)) {
            sd = HfVitMapping.convNeXtToOfficial(sd, file);
            layout = Layout.HF_CONVNEXT;
        }
        if (sd.isEmpty()) throw new IOException(path + ": the checkpoint holds no tensors");
        return new Checkpoint(path, layout, sd, config);
    }

    private static byte[] readHead(Path p, int n) throws IOException {
        try (InputStream in = Files.newInputStream(p)) { return in.readNBytes(n); }
    }

    private static boolean looksLikeSafetensors(byte[] head, long size) {
        if (head.length < 9) return false;
        long len = ByteBuffer.wrap(head, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        return len > 0 && 8 + len <= size && head[8] == '{';
    }

    private static Map<String, Tensor> readSafetensors(Path p) throws IOException {
        return new LinkedHashMap<>(Safetensors.read(p).tensors());
    }

    /** A sharded HF checkpoint: {"weight_map": {key: shard file}}. */
    private static Map<String, Tensor> readSharded(Path index) throws IOException {
        JsonObject idx = readJson(index);
        if (idx == null || !idx.has("weight_map") || !idx.get("weight_map").isJsonObject())
            throw new IOException(index + ": not a safetensors index (no weight_map)");
        Map<String, Tensor> out = new LinkedHashMap<>();
        LinkedHashSet<String> shards = new LinkedHashSet<>();
        for (Map.Entry<String, JsonElement> e : idx.getAsJsonObject("weight_map").entrySet()) shards.add(e.getValue().getAsString());
        Path dir = index.toAbsolutePath().getParent();
        for (String s : shards) out.putAll(Safetensors.read(dir.resolve(s)).tensors());
        return out;
    }

    private static JsonObject readConfig(Path cfg) throws IOException {
        return Files.isRegularFile(cfg) ? readJson(cfg) : null;
    }

    private static JsonObject readJson(Path p) throws IOException {
        try {
            JsonElement e = JsonParser.parseString(Files.readString(p, StandardCharsets.UTF_8));
            if (!e.isJsonObject()) throw new IOException(p + ": expected a JSON object");
            return e.getAsJsonObject();
        } catch (JsonParseException ex) {
            throw new IOException(p + ": invalid JSON (" + ex.getMessage() + ")", ex);
        }
    }

    /**
     * Removes wrapper prefixes: {@code module.} wherever present; {@code teacher.} / {@code backbone.} by keeping
     * only the keys under them (dropping heads next to the backbone); {@code model.} / {@code state_dict.} when
     * every key has it.
     */
    public static Map<String, Tensor> stripPrefixes(Map<String, Tensor> in) {
        Map<String, Tensor> sd = new LinkedHashMap<>(in);
        boolean changed = true;
        while (changed && !sd.isEmpty()) {
            changed = false;
            if (sd.keySet().stream().anyMatch(k -> k.startsWith("module."))) {
                Map<String, Tensor> n = new LinkedHashMap<>();
                sd.forEach((k, v) -> n.put(k.startsWith("module.") ? k.substring(7) : k, v));
                sd = n;
                changed = true;
            }
            for (String p : new String[]{"teacher.", "backbone."}) {
                if (sd.keySet().stream().anyMatch(k -> k.startsWith(p))) {
                    Map<String, Tensor> n = new LinkedHashMap<>();
                    sd.forEach((k, v) -> { if (k.startsWith(p)) n.put(k.substring(p.length()), v); });
                    sd = n;
                    changed = true;
                }
            }
            for (String p : new String[]{"model.", "state_dict."}) {
                if (!sd.isEmpty() && sd.keySet().stream().allMatch(k -> k.startsWith(p))) {
                    Map<String, Tensor> n = new LinkedHashMap<>();
                    sd.forEach((k, v) -> n.put(k.substring(p.length()), v));
                    sd = n;
                    changed = true;
                }
            }
        }
        return sd;
    }

    private static Map<String, Tensor> toF32(Map<String, Tensor> sd) {
        Map<String, Tensor> out = new LinkedHashMap<>();
        sd.forEach((k, v) -> out.put(k, v.dtype() == DType.BF16 || v.dtype() == DType.F16 ? v.to(DType.F32) : v));
        return out;
    }

    // ------------------------------------------------------------------ recognising

    /** True when the official keys describe a ViT ({@code cls_token} and {@code blocks.*}). */
    public static boolean isVit(Map<String, Tensor> sd) { return sd.containsKey("cls_token"); }

    /** True when the official keys describe a ConvNeXt ({@code downsample_layers.*}). */
    public static boolean isConvNeXt(Map<String, Tensor> sd) {
        return sd.keySet().stream().anyMatch(k -> k.startsWith("downsample_layers."));
    }

    /**
     * The ViT shape of an official-named state dict: width from {@code cls_token}, depth from the largest block
     * index, FFN kind and ratio from {@code fc1}/{@code w1}, storage tokens, head_dim = 4 × len(periods) (64 when
     * absent), qkv bias, masked key bias ({@code bias_mask}), {@code local_cls_norm}, patch size, RoPE base. Named
     * after the released preset with the same shapes, else {@code "vit-custom"}. LayerScale init and norm eps are
     * not stored in checkpoints: 1e-5 (the released value).
     */
    public static VitConfig inferVitConfig(Map<String, Tensor> sd) {
        Tensor cls = sd.get("cls_token");
        if (cls == null) {
            String what = isConvNeXt(sd) ? "a ConvNeXt checkpoint (downsample_layers.*)" : "not a DINOv3 ViT state dict";
            throw new IllegalArgumentException("cannot infer a ViT config: no 'cls_token' key, " + what
                    + " (first keys: " + sd.keySet().stream().limit(8).toList() + ")");
        }
        int d = cls.size(-1);
        int depth = 0;
        for (String k : sd.keySet()) {
            if (k.startsWith("blocks.")) {
                String[] parts = k.split("\\.");
                try { depth = Math.max(depth, Integer.parseInt(parts[1]) + 1); } catch (NumberFormatException ignored) {}
            }
        }
        if (depth == 0) throw new IllegalArgumentException("cannot infer a ViT config: no blocks.N.* keys");
        Tensor pe = sd.get("patch_embed.proj.weight");
        int patch = pe != null && pe.dim() == 4 ? pe.size(2) : 16;
        Tensor periods = sd.get("rope_embed.periods");
        int headDim = periods != null ? 4 * periods.numel() : 64;
        if (d % headDim != 0) throw new IllegalArgumentException("cannot infer a ViT config: embed_dim " + d + " is not a multiple of head_dim " + headDim);
        int heads = d / headDim;
        double base = 100;
        if (periods != null && periods.numel() >= 2) {
            double b = Math.pow(periods.getFlat(1), headDim / 4.0);
            base = Math.abs(b - Math.rint(b)) <= 1e-4 * b ? Math.rint(b) : b;
        }
        int storage = sd.containsKey("storage_tokens") ? sd.get("storage_tokens").size(1) : 0;
        boolean qkvBias = sd.containsKey("blocks.0.attn.qkv.bias");
        boolean maskK = sd.containsKey("blocks.0.attn.qkv.bias_mask");
        boolean localCls = sd.containsKey("local_cls_norm.weight");

        String ffn;
        double ratio;
        Tensor fc1 = sd.get("blocks.0.mlp.fc1.weight"), w1 = sd.get("blocks.0.mlp.w1.weight");
        if (fc1 != null) {
            int h = fc1.size(0);
            ffn = "mlp";
            ratio = (double) h / d;
            while ((int) (d * ratio) < h) ratio = Math.nextUp(ratio);
        } else if (w1 != null) {
            int h = w1.size(0);
            double[] r8 = swigluRatio(d, h, 8), r64 = swigluRatio(d, h, 64);
            // a whole ratio wins; among equals, align 8 ("swiglu") before 64
            if (r8 != null && (r64 == null || r8[1] <= r64[1])) { ffn = "swiglu"; ratio = r8[0]; }
            else if (r64 != null) { ffn = "swiglu64"; ratio = r64[0]; }
            else throw new IllegalArgumentException("cannot infer a ViT config: SwiGLU hidden size " + h + " is not a multiple of 8");
        } else {
            throw new IllegalArgumentException("cannot infer a ViT config: blocks.0 has neither mlp.fc1 nor mlp.w1");
        }
        VitConfig c = new VitConfig("vit-custom", d, depth, heads, ffn, ratio, storage, patch, qkvBias, maskK, 1e-5, 1e-5, localCls, base);
        for (VitConfig p : VitConfig.PRESETS.values()) if (sameShapes(p, c)) return p;
        return c;
    }

    /** {ratio, rank}: the simplest ratio whose aligned SwiGLU width is h (rank 0 = whole, 1 = half, 2 = exact fraction). */
    private static double[] swigluRatio(int d, int h, int align) {
        if (h % align != 0) return null;
        for (int r = 1; r <= 16; r++) if (SwiGLUFFN.hiddenSize(d, r, align) == h) return new double[]{r, 0};
        for (int r2 = 3; r2 <= 33; r2 += 2) if (SwiGLUFFN.hiddenSize(d, r2 / 2.0, align) == h) return new double[]{r2 / 2.0, 1};
        double ratio = 1.5 * h / d;
        while ((int) (d * ratio) < (int) Math.ceil(1.5 * h)) ratio = Math.nextUp(ratio);
        return SwiGLUFFN.hiddenSize(d, ratio, align) == h ? new double[]{ratio, 2} : null;
    }

    private static boolean sameShapes(VitConfig a, VitConfig b) {
        return a.embedDim() == b.embedDim() && a.depth() == b.depth() && a.heads() == b.heads()
                && a.ffn().equals("mlp") == b.ffn().equals("mlp") && a.ffnHidden() == b.ffnHidden()
                && a.storageTokens() == b.storageTokens() && a.patchSize() == b.patchSize()
                && a.qkvBias() == b.qkvBias() && a.maskKBias() == b.maskKBias() && a.localClsNorm() == b.localClsNorm()
                && Math.abs(a.ropeBase() - b.ropeBase()) <= 1e-6 * a.ropeBase();
    }

    /** Stage depths and widths of an official-named ConvNeXt state dict. */
    public static ConvNeXtShape inferConvNeXtShape(Map<String, Tensor> sd) {
        if (!isConvNeXt(sd)) throw new IllegalArgumentException("not a ConvNeXt state dict: no downsample_layers.* keys (first keys: "
                + sd.keySet().stream().limit(8).toList() + ")");
        int stages = 0;
        for (String k : sd.keySet()) if (k.startsWith("downsample_layers.")) stages = Math.max(stages, Integer.parseInt(k.split("\\.")[1]) + 1);
        int[] depths = new int[stages], dims = new int[stages];
        for (String k : sd.keySet()) {
            if (!k.startsWith("stages.")) continue;
            String[] p = k.split("\\.");
            int s = Integer.parseInt(p[1]);
            if (s < stages) depths[s] = Math.max(depths[s], Integer.parseInt(p[2]) + 1);
        }
        for (int s = 0; s < stages; s++) {
            Tensor conv = sd.get("downsample_layers." + s + "." + (s == 0 ? 0 : 1) + ".weight");
            if (conv == null || conv.dim() != 4)
                throw new IllegalArgumentException("ConvNeXt state dict lacks the 4-D downsample conv of stage " + s);
            dims[s] = conv.size(0);
        }
        return new ConvNeXtShape(depths, dims);
    }

    // ------------------------------------------------------------------ loading

    /**
     * A DINOv3 ViT with the checkpoint's weights, in eval mode. With {@code modelName} (a {@link VitConfig}
     * preset name) that architecture is built; otherwise it is inferred from the keys ({@link #inferVitConfig};
     * HF {@code layer_norm_eps} is honoured). For HF files the model's own RoPE periods are used with a named
     * model, and an absent {@code local_cls_norm} keeps its initial (identity) values. Load errors (missing, unexpected or mis-shaped keys) are the
     * module's detailed message prefixed with the path.
     */
    public static DinoVisionTransformer loadVit(Path path, String modelName) throws IOException {
        Checkpoint ck = read(path);
        Map<String, Tensor> sd = new LinkedHashMap<>(ck.stateDict());
        VitConfig cfg;
        try {
            if (modelName != null) {
                cfg = VitConfig.preset(modelName);
            } else {
                cfg = inferVitConfig(sd);
                if (ck.layout() == Layout.HF_VIT && ck.hfConfig() != null && ck.hfConfig().has("layer_norm_eps")) {
                    double eps = ck.hfConfig().get("layer_norm_eps").getAsDouble();
                    cfg = new VitConfig(cfg.name(), cfg.embedDim(), cfg.depth(), cfg.heads(), cfg.ffn(), cfg.ffnRatio(),
                            cfg.storageTokens(), cfg.patchSize(), cfg.qkvBias(), cfg.maskKBias(), cfg.layerScaleInit(), eps,
                            cfg.localClsNorm(), cfg.ropeBase());
                }
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
        DinoVisionTransformer model = new DinoVisionTransformer(cfg, new Random(0));
        // checkpoints written without the RoPE buffer get the architecture's periods; so do HF files, whose periods
        // were only derived from config.json (a named model knows its head_dim better)
        if (sd.containsKey("cls_token") && (!sd.containsKey("rope_embed.periods") || (modelName != null && ck.layout() == Layout.HF_VIT)))
            sd.put("rope_embed.periods", model.ropeEmbed.buffer("periods"));
        // HF drops local_cls_norm (used only on local crops in training): keep the model's identity-initialised one
        if (ck.layout() == Layout.HF_VIT && model.localClsNorm != null && !sd.containsKey("local_cls_norm.weight"))
            model.localClsNorm.stateDict().forEach((k, v) -> sd.put("local_cls_norm." + k, v));
        return loadInto(model, sd, path, ck.layout(), cfg.name());
    }

    /**
     * A DINOv3 backbone with the checkpoint's weights, in eval mode: a {@link ConvNeXt} when the keys say so
     * ({@link #isConvNeXt}) or {@code modelName} names a ConvNeXt preset ("convnext_tiny", "tiny", ...), else a ViT
     * via {@link #loadVit}. Without a name the ConvNeXt shape is inferred ({@link #inferConvNeXtShape}) and named
     * after the released preset with the same depths and widths, else {@code "convnext-custom"}; LayerScale is on
     * when the blocks carry {@code gamma}.
     */
    public static Backbone loadBackbone(Path path, String modelName) throws IOException {
        boolean namedVit = modelName != null && VitConfig.PRESETS.containsKey(modelName);
        if (namedVit) return loadVit(path, modelName);
        Checkpoint ck = read(path);
        Map<String, Tensor> sd = ck.stateDict();
        boolean namedConvNeXt = modelName != null && ConvNeXtConfig.PRESETS.containsKey(modelName.startsWith("convnext_") ? modelName : "convnext_" + modelName);
        if (modelName != null && !namedConvNeXt)
            throw new IllegalArgumentException("unknown model '" + modelName + "' (ViT: " + String.join(", ", VitConfig.PRESETS.keySet())
                    + "; ConvNeXt: " + String.join(", ", ConvNeXtConfig.PRESETS.keySet()) + ")");
        if (!namedConvNeXt && !isConvNeXt(sd)) return loadVit(path, null);
        ConvNeXtConfig cfg;
        try {
            if (namedConvNeXt) {
                cfg = ConvNeXtConfig.preset(modelName);
            } else {
                ConvNeXtShape shape = inferConvNeXtShape(sd);
                if (shape.depths().length != 4)
                    throw new IllegalArgumentException("ConvNeXt needs 4 stages, the checkpoint has " + shape.depths().length);
                cfg = null;
                for (ConvNeXtConfig p : ConvNeXtConfig.PRESETS.values())
                    if (Arrays.equals(p.depths(), shape.depths()) && Arrays.equals(p.dims(), shape.dims())) cfg = p;
                if (cfg == null) cfg = new ConvNeXtConfig("convnext-custom", shape.depths(), shape.dims());
                boolean gamma = sd.keySet().stream().anyMatch(k -> k.startsWith("stages.") && k.endsWith(".gamma"));
                if (!gamma) cfg = new ConvNeXtConfig(cfg.name(), cfg.depths(), cfg.dims(), 0, cfg.normEps(), 0, 0);
            }
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
        }
        ConvNeXt model = new ConvNeXt(cfg, new Random(0));
        return loadInto(model, sd, path, ck.layout(), cfg.name());
    }

    /** Strict load; a mismatch names the file, its layout and the model before the key lists. */
    private static <M extends Module> M loadInto(M model, Map<String, Tensor> sd, Path path, Layout layout, String name) {
        try {
            model.loadStateDict(sd, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + " (" + layout + ", model " + name + "): " + e.getMessage(), e);
        }
        model.eval();
        return model;
    }

    // ------------------------------------------------------------------ writing

    /**
     * Writes a module's state dict (parameters and persistent buffers, official names) as safetensors, atomically.
     * Python: {@code model.load_state_dict(safetensors.torch.load_file(path))}. For a ViT the config is stored in
     * the metadata ({@code dino4j.config}).
     */
    public static void saveOfficial(Module module, Path path) throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>();
        module.stateDict().forEach((k, v) -> sd.put(k, v.contiguous()));
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", "pt");
        if (module instanceof DinoVisionTransformer vit) meta.put("dino4j.config", vit.config.toString());
        Safetensors.write(path, sd, meta);
    }

    /** Lists tensors as "key shape dtype" lines (for CLI inspection). */
    public static List<String> describe(Map<String, Tensor> sd) {
        List<String> out = new ArrayList<>();
        sd.forEach((k, v) -> out.add(k + " " + Shape.str(v.shape()) + " " + v.dtype()));
        return out;
    }
}
