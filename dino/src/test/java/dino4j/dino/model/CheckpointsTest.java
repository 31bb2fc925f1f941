package dino4j.dino.model;

import dino4j.autograd.Var;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** Reading the three ViT layouts, config inference, error messages and the save → read round trip. */
class CheckpointsTest {
    @TempDir Path tmp;

    private static Tensor cls(DinoVisionTransformer m, Tensor x) {
        return m.forwardFeatures(Var.constant(x.to(DType.F32).copy())).clsToken().data();
    }

    private static float[] f(Tensor t) { return t.to(DType.F32).toFloatArray(); }

    @Test
    void allLayoutsLoadTheSameWeightsAndGiveTheGoldenOutput() throws IOException {
        Map<String, Tensor> pth = Checkpoints.readStateDict(Golden.file("vit_tiny.pth"));
        Map<String, Tensor> st = Checkpoints.readStateDict(Golden.file("vit_tiny_weights.safetensors"));
        Map<String, Tensor> hf = Checkpoints.readStateDict(Golden.file("vit_tiny_hf"));
        Map<String, Tensor> hfFile = Checkpoints.readStateDict(Golden.file("vit_tiny_hf/model.safetensors"));
        assertEquals(Checkpoints.Layout.OFFICIAL_PTH, Checkpoints.read(Golden.file("vit_tiny.pth")).layout());
        assertEquals(Checkpoints.Layout.HF_VIT, Checkpoints.read(Golden.file("vit_tiny_hf")).layout());
        assertNotNull(Checkpoints.read(Golden.file("vit_tiny_hf")).hfConfig());

        assertEquals(new java.util.TreeSet<>(pth.keySet()), new java.util.TreeSet<>(st.keySet())); // TorchCheckpoint does not keep pickle order
        assertEquals(new java.util.TreeSet<>(pth.keySet()), new java.util.TreeSet<>(hf.keySet()));
        assertEquals(List.copyOf(hf.keySet()), List.copyOf(hfFile.keySet()));
        for (String k : pth.keySet()) {
            Tensor a = pth.get(k);
            assertArrayEquals(a.shape(), st.get(k).shape(), k);
            assertArrayEquals(a.shape(), hf.get(k).shape(), k);
            assertArrayEquals(f(a), f(st.get(k)), k);
            if (k.endsWith("attn.qkv.bias")) {
                // the official file keeps a (masked, unused) k bias; HF stores none: compare the effective bias
                float[] mask = f(pth.get(k + "_mask")), o = f(a), h = f(hf.get(k));
                for (int i = 0; i < o.length; i++) assertEquals(o[i] * mask[i], h[i], 0f, k + "[" + i + "]");
            } else if (k.equals("rope_embed.periods")) {
                assertArrayEquals(f(a), f(hf.get(k)), 1e-5f, k); // recomputed from num_attention_heads / rope_theta
            } else {
                assertArrayEquals(f(a), f(hf.get(k)), k);
            }
        }

        var io = Safetensors.read(Golden.file("vit_tiny_io.safetensors"));
        Tensor x = io.get("x"), ref = io.get("x_norm_clstoken");
        for (String p : new String[]{"vit_tiny.pth", "vit_tiny_weights.safetensors", "vit_tiny_hf", "vit_tiny_hf/model.safetensors"}) {
            DinoVisionTransformer m = Checkpoints.loadVit(Golden.file(p), null);
            assertFalse(m.isTraining());
            double err = Golden.relL2(cls(m, x), ref);
            assertTrue(err <= 1e-4, p + ": x_norm_clstoken relative L2 error " + err);
        }
    }

    @Test
    void hfSwigluFolderAndBareHfFileLoad() throws IOException {
        // SwiGLU weights exported to the HF layout (gate/up/down_proj) read back and reproduce the golden output
        Map<String, Tensor> official = Checkpoints.readStateDict(Golden.file("vit_tiny_swiglu.pth"));
        Map<String, Tensor> hf = HfVitMapping.vitFromOfficial(official);
        assertTrue(hf.containsKey("layer.0.mlp.gate_proj.weight") && !hf.containsKey("layer.0.attention.k_proj.bias"));
        Path dir = Files.createDirectory(tmp.resolve("hf_swiglu"));
        Safetensors.write(dir.resolve("model.safetensors"), hf);
        Files.writeString(dir.resolve("config.json"), "{\"hidden_size\": 128, \"num_attention_heads\": 2, \"use_gated_mlp\": true, \"rope_theta\": 100.0, \"layer_norm_eps\": 1e-5}");
        DinoVisionTransformer m = Checkpoints.loadVit(dir, null);
        assertEquals("swiglu", m.config.ffn());
        assertEquals(6.0, m.config.ffnRatio());
        var io = Safetensors.read(Golden.file("vit_tiny_swiglu_io.safetensors"));
        double err = Golden.relL2(cls(m, io.get("x")), io.get("x_norm_clstoken"));
        assertTrue(err <= 1e-4, "HF SwiGLU: " + err);

        // a bare HF model.safetensors without config.json: head_dim 64 default, still the same model
        Path bare = Files.createDirectory(tmp.resolve("bare"));
        Files.copy(Golden.file("vit_tiny_hf/model.safetensors"), bare.resolve("model.safetensors"));
        DinoVisionTransformer b = Checkpoints.loadVit(bare.resolve("model.safetensors"), null);
        assertEquals(2, b.config.heads());
        var io2 = Safetensors.read(Golden.file("vit_tiny_io.safetensors"));
        assertTrue(Golden.relL2(cls(b, io2.get("x")), io2.get("x_norm_clstoken")) <= 1e-4);
        assertEquals(32, HfVitMapping.defaultHeads(4096, 40)); // 7B: head_dim 128
        assertEquals(6, HfVitMapping.defaultHeads(384, 12));
    }

    @Test
    void infersTinyConfigs() throws IOException {
        VitConfig c = Checkpoints.inferVitConfig(Checkpoints.readStateDict(Golden.file("vit_tiny.pth")));
        assertEquals(128, c.embedDim());
        assertEquals(2, c.depth());
        assertEquals(2, c.heads());
        assertEquals("mlp", c.ffn());
        assertEquals(4.0, c.ffnRatio());
        assertEquals(4, c.storageTokens());
        assertEquals(16, c.patchSize());
        assertTrue(c.qkvBias());
        assertTrue(c.maskKBias());
        assertFalse(c.localClsNorm());
        assertEquals(100.0, c.ropeBase());
        assertEquals(c, Checkpoints.inferVitConfig(Checkpoints.readStateDict(Golden.file("vit_tiny_hf"))));

        VitConfig s = Checkpoints.inferVitConfig(Checkpoints.readStateDict(Golden.file("vit_tiny_swiglu.pth")));
        assertEquals("swiglu", s.ffn());
        assertEquals(6.0, s.ffnRatio());
        assertEquals(0, s.storageTokens());
        assertEquals(2, s.heads());
        assertEquals(c.embedDim(), s.embedDim());
        assertEquals(Checkpoints.readStateDict(Golden.file("vit_tiny_swiglu.pth")).get("blocks.0.mlp.w1.weight").size(0), s.ffnHidden());
    }

    /** Shape-only state dicts (expanded views, no memory) of every preset infer back to that preset. */
    @Test
    void infersEveryPresetFromItsShapes() {
        for (VitConfig p : VitConfig.PRESETS.values()) {
            Map<String, Tensor> sd = new LinkedHashMap<>();
            int d = p.embedDim();
            sd.put("cls_token", Tensor.zeros(1, 1, d));
            sd.put("storage_tokens", Tensor.zeros(1, p.storageTokens(), d));
            sd.put("patch_embed.proj.weight", Tensor.zeros(1, 1, 1, 1).expand(d, 3, 16, 16));
            sd.put("rope_embed.periods", Tensor.of(toFloats(dino4j.kernels.RopeKernels.periods(p.headDim(), 100)), p.headDim() / 4));
            String b = "blocks." + (p.depth() - 1) + ".";
            for (String pre : new String[]{"blocks.0.", b}) {
                if (p.qkvBias()) { sd.put(pre + "attn.qkv.bias", Tensor.zeros(3 * d)); sd.put(pre + "attn.qkv.bias_mask", Tensor.zeros(3 * d)); }
                sd.put(pre + "mlp." + (p.ffn().equals("mlp") ? "fc1" : "w1") + ".weight", Tensor.zeros(1, 1).expand(p.ffnHidden(), d));
            }
            if (p.localClsNorm()) sd.put("local_cls_norm.weight", Tensor.zeros(d));
            assertEquals(p, Checkpoints.inferVitConfig(sd), p.name());
        }
    }

    private static float[] toFloats(double[] d) {
        float[] f = new float[d.length];
        for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
        return f;
    }

    @Test
    void missingUnexpectedAndMisShapedKeysNameTheFile() throws IOException {
        Map<String, Tensor> sd = new LinkedHashMap<>(Checkpoints.readStateDict(Golden.file("vit_tiny_weights.safetensors")));
        sd.remove("norm.bias");
        sd.put("extra.weight", Tensor.zeros(3));
        sd.put("blocks.1.mlp.fc2.bias", Tensor.zeros(64));
        Path bad = tmp.resolve("bad.safetensors");
        Safetensors.write(bad, sd);
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadVit(bad, null));
        String msg = e.getMessage();
        assertTrue(msg.contains(bad.toString()), msg);
        assertTrue(msg.contains("missing keys (1): [norm.bias]"), msg);
        assertTrue(msg.contains("unexpected keys (1): [extra.weight]"), msg);
        assertTrue(msg.contains("blocks.1.mlp.fc2.bias: checkpoint [64] vs model [128]"), msg);
    }

    @Test
    void presetMismatchNamesTheFileAndKeys() {
        Path p = Golden.file("vit_tiny_swiglu.pth");
        var e = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadVit(p, "vits16plus"));
        String msg = e.getMessage();
        assertTrue(msg.contains(p.toString()), msg);
        assertTrue(msg.contains("cls_token: checkpoint [1, 1, 128] vs model [1, 1, 384]"), msg);
        assertTrue(msg.contains("missing keys"), msg); // storage_tokens, blocks.2..11
        var unknown = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadVit(p, "vit_nope"));
        assertTrue(unknown.getMessage().contains(p.toString()) && unknown.getMessage().contains("vits16"), unknown.getMessage());
    }

    @Test
    void notACheckpointNamesThePath() throws IOException {
        Path txt = tmp.resolve("weights.pth");
        Files.writeString(txt, "hello, not a checkpoint");
        var e = assertThrows(IOException.class, () -> Checkpoints.readStateDict(txt));
        assertTrue(e.getMessage().startsWith(txt.toString()), e.getMessage());
        Path dir = Files.createDirectory(tmp.resolve("empty"));
        e = assertThrows(IOException.class, () -> Checkpoints.readStateDict(dir));
        assertTrue(e.getMessage().startsWith(dir.toString()) && e.getMessage().contains("model.safetensors"), e.getMessage());
        var missing = tmp.resolve("nope.safetensors");
        e = assertThrows(IOException.class, () -> Checkpoints.readStateDict(missing));
        assertTrue(e.getMessage().contains(missing.toString()), e.getMessage());
        var conv = assertThrows(IllegalArgumentException.class, () -> Checkpoints.loadVit(Golden.file("convnext_tiny.pth"), null));
        assertTrue(conv.getMessage().contains("convnext_tiny.pth") && conv.getMessage().contains("ConvNeXt"), conv.getMessage());
    }

    @Test
    void saveThenReadRoundTrips() throws IOException {
        DinoVisionTransformer m = Checkpoints.loadVit(Golden.file("vit_tiny.pth"), null);
        Path out = tmp.resolve("sub/mine.safetensors");
        Checkpoints.saveOfficial(m, out);
        Map<String, Tensor> back = Checkpoints.readStateDict(out);
        Map<String, Tensor> orig = m.stateDict();
        assertEquals(List.copyOf(orig.keySet()), List.copyOf(back.keySet()));
        assertEquals(List.copyOf(Checkpoints.readStateDict(Golden.file("vit_tiny_weights.safetensors")).keySet()), List.copyOf(back.keySet()));
        for (String k : orig.keySet()) {
            assertArrayEquals(orig.get(k).shape(), back.get(k).shape(), k);
            assertEquals(orig.get(k).dtype(), back.get(k).dtype(), k);
            assertArrayEquals(f(orig.get(k)), f(back.get(k)), k);
        }
        assertEquals("pt", Safetensors.read(out).metadata().get("format"));
        try (var files = Files.list(out.getParent())) { assertEquals(1, files.count(), "no temp files left"); }
        assertEquals(m.config, Checkpoints.loadVit(out, null).config);
    }

    @Test
    void stripsWrapperPrefixesAndConvertsHalfPrecision() throws IOException {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("teacher.backbone.cls_token", Tensor.zeros(1, 1, 4));
        in.put("teacher.dino_head.last_layer.weight", Tensor.zeros(2, 2));
        assertEquals(List.of("cls_token"), List.copyOf(Checkpoints.stripPrefixes(in).keySet()));
        assertEquals(List.of("a", "b"), List.copyOf(Checkpoints.stripPrefixes(Map.of("module.backbone.a", Tensor.zeros(1), "module.backbone.b", Tensor.zeros(1))).keySet().stream().sorted().toList()));
        assertEquals(List.of("x"), List.copyOf(Checkpoints.stripPrefixes(Map.of("model.x", Tensor.zeros(1))).keySet()));

        // a teacher_checkpoint-like file in bf16 loads into the model
        Map<String, Tensor> sd = Checkpoints.readStateDict(Golden.file("vit_tiny_weights.safetensors"));
        Map<String, Tensor> wrapped = new LinkedHashMap<>();
        sd.forEach((k, v) -> wrapped.put("teacher.backbone." + k, v.to(DType.BF16)));
        wrapped.put("teacher.dino_head.mlp.0.weight", Tensor.zeros(DType.BF16, 8, 128));
        Path p = tmp.resolve("teacher.safetensors");
        Safetensors.write(p, wrapped);
        Map<String, Tensor> back = Checkpoints.readStateDict(p);
        assertEquals(List.copyOf(sd.keySet()), List.copyOf(back.keySet()));
        back.values().forEach(t -> assertEquals(DType.F32, t.dtype()));
        var io = Safetensors.read(Golden.file("vit_tiny_io.safetensors"));
        double err = Golden.relL2(cls(Checkpoints.loadVit(p, null), io.get("x")), io.get("x_norm_clstoken"));
        assertTrue(err < 2e-2, "bf16 weights: " + err); // bf16 rounding only
    }

    @Test
    void convNeXtShapesAndHfLayout() throws IOException {
        Map<String, Tensor> sd = Checkpoints.readStateDict(Golden.file("convnext_tiny.pth"));
        assertTrue(Checkpoints.isConvNeXt(sd));
        assertFalse(Checkpoints.isVit(sd));
        var shape = Checkpoints.inferConvNeXtShape(sd);
        assertArrayEquals(new int[]{1, 1, 2, 1}, shape.depths());
        assertArrayEquals(new int[]{16, 32, 48, 64}, shape.dims());

        // the same weights in the HF DINOv3ConvNext layout read back to the official keys
        Map<String, Tensor> hf = new LinkedHashMap<>();
        Pattern down = Pattern.compile("downsample_layers\\.(\\d+)\\.(\\d+)\\.(.+)"), block = Pattern.compile("stages\\.(\\d+)\\.(\\d+)\\.(.+)");
        for (var e : sd.entrySet()) {
            String k = e.getKey();
            Matcher m;
            if ((m = down.matcher(k)).matches()) hf.put("stages." + m.group(1) + ".downsample_layers." + m.group(2) + "." + m.group(3), e.getValue());
            else if ((m = block.matcher(k)).matches())
                hf.put("stages." + m.group(1) + ".layers." + m.group(2) + "." + m.group(3).replace("dwconv", "depthwise_conv")
                        .replace("pwconv", "pointwise_conv").replace("norm", "layer_norm"), e.getValue());
            else if (k.startsWith("norm.")) hf.put("layer_" + k, e.getValue());
        }
        Path dir = Files.createDirectory(tmp.resolve("hf_convnext"));
        Safetensors.write(dir.resolve("model.safetensors"), hf);
        Files.writeString(dir.resolve("config.json"), "{\"model_type\": \"dinov3_convnext\", \"depths\": [1,1,2,1]}");
        var ck = Checkpoints.read(dir);
        assertEquals(Checkpoints.Layout.HF_CONVNEXT, ck.layout());
        assertEquals(new java.util.TreeSet<>(sd.keySet()), new java.util.TreeSet<>(ck.stateDict().keySet()));
        List<String> diff = new ArrayList<>();
        for (String k : sd.keySet()) if (!java.util.Arrays.equals(f(sd.get(k)), f(ck.stateDict().get(k)))) diff.add(k);
        assertEquals(List.of(), diff);
    }
}
