package dino4j.nn;

import dino4j.nn.io.StateDicts;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ModuleTest {

    /** A two-block miniature of the official ViT layout (§5.2). */
    static final class Attn extends Module {
        final Linear qkv, proj;
        Attn(int d, Random r) {
            qkv = registerModule("qkv", new Linear(d, 3 * d, true, r));
            float[] mask = new float[3 * d];
            for (int i = 0; i < 3 * d; i++) mask[i] = (i >= d && i < 2 * d) ? 0 : 1;
            qkv.registerBuffer("bias_mask", Tensor.of(mask, 3 * d));
            proj = registerModule("proj", new Linear(d, d, true, r));
        }
    }

    static final class Block extends Module {
        Block(int d, Random r) {
            registerModule("norm1", new LayerNorm(d, 1e-5));
            registerModule("attn", new Attn(d, r));
            registerModule("ls1", new LayerScale(d, 1e-5));
            registerModule("norm2", new LayerNorm(d, 1e-5));
            registerModule("mlp", new Mlp(d, 4 * d, d, true, r));
            registerModule("ls2", new LayerScale(d, 1e-5));
        }
    }

    static final class TinyVit extends Module {
        TinyVit(int d, int depth, long seed) {
            Random r = new Random(seed);
            Tensor cls = Tensor.zeros(1, 1, d);
            Init.fillNormal(cls, 0, 0.02, r);
            registerParameter("cls_token", cls);
            registerParameter("storage_tokens", Tensor.zeros(1, 4, d));
            registerParameter("mask_token", Tensor.zeros(1, d));
            Module pe = new Module() {};
            pe.registerModule("proj", new Linear(3 * 4 * 4, d, true, r));
            registerModule("patch_embed", pe);
            Module rope = new Module() {};
            rope.registerBuffer("periods", Tensor.of(new float[]{1, 2, 3, 4}, 4));
            registerModule("rope_embed", rope);
            ModuleList<Block> blocks = new ModuleList<>();
            for (int i = 0; i < depth; i++) blocks.add(new Block(d, r));
            registerModule("blocks", blocks);
            registerModule("norm", new LayerNorm(d, 1e-5));
            registerBuffer("scratch", Tensor.zeros(2), false);
        }
    }

    @Test void namesFollowPyTorchStateDictOrder() {
        TinyVit m = new TinyVit(8, 2, 1);
        List<String> keys = List.copyOf(m.stateDict().keySet());
        assertEquals(List.of("cls_token", "storage_tokens", "mask_token", "patch_embed.proj.weight", "patch_embed.proj.bias",
                "rope_embed.periods"), keys.subList(0, 6));
        assertEquals(List.of("blocks.0.norm1.weight", "blocks.0.norm1.bias", "blocks.0.attn.qkv.weight", "blocks.0.attn.qkv.bias",
                "blocks.0.attn.qkv.bias_mask", "blocks.0.attn.proj.weight", "blocks.0.attn.proj.bias", "blocks.0.ls1.gamma",
                "blocks.0.norm2.weight", "blocks.0.norm2.bias", "blocks.0.mlp.fc1.weight", "blocks.0.mlp.fc1.bias",
                "blocks.0.mlp.fc2.weight", "blocks.0.mlp.fc2.bias", "blocks.0.ls2.gamma"), keys.subList(6, 21));
        assertEquals(List.of("norm.weight", "norm.bias"), keys.subList(keys.size() - 2, keys.size()));
        assertEquals(6 + 2 * 15 + 2, keys.size());
        assertFalse(keys.contains("scratch"), "non-persistent buffers stay out of the state dict");
        assertTrue(m.namedBuffers().containsKey("scratch"));
        // parameters exclude buffers
        assertFalse(m.namedParameters().containsKey("rope_embed.periods"));
        assertFalse(m.namedParameters().containsKey("blocks.1.attn.qkv.bias_mask"));
        assertEquals("blocks.1.ls2.gamma", m.namedParameters().get("blocks.1.ls2.gamma").name());
        assertArrayEquals(new int[]{24, 8}, m.namedParameters().get("blocks.0.attn.qkv.weight").shape());
        assertEquals(1e-5, m.namedParameters().get("blocks.0.ls1.gamma").data().get(3), 1e-12);
        long n = 0;
        for (Parameter p : m.parameters()) n += p.numel();
        assertEquals(n, m.numParameters());
        assertTrue(m.namedModules().containsKey("blocks.1.mlp.fc2"));
    }

    @Test void initIsReproducibleAndTruncNormalStaysInBounds() {
        TinyVit a = new TinyVit(8, 1, 7), b = new TinyVit(8, 1, 7);
        assertArrayEquals(a.stateDict().get("blocks.0.mlp.fc1.weight").toFloatArray(), b.stateDict().get("blocks.0.mlp.fc1.weight").toFloatArray());
        Tensor t = Tensor.zeros(DType.F64, 20000);
        Init.fillTruncNormal(t, 0, 1, -0.5, 1.0, new Random(3));
        double sum = 0;
        for (int i = 0; i < t.numel(); i++) {
            double v = t.getFlat(i);
            assertTrue(v >= -0.5 && v <= 1.0);
            sum += v;
        }
        // mean of N(0,1) truncated to [-0.5, 1]: (φ(-0.5) − φ(1)) / (Φ(1) − Φ(-0.5)) ≈ 0.1975
        assertEquals(0.1975, sum / t.numel(), 0.01);
        Tensor w = new Linear(64, 64, false, new Random(1)).weight.data();
        double ss = 0;
        for (int i = 0; i < w.numel(); i++) ss += w.getFlat(i) * w.getFlat(i);
        assertEquals(0.02, Math.sqrt(ss / w.numel()), 0.001);
    }

    @Test void stateDictRoundTripsThroughSafetensors(@TempDir Path dir) throws Exception {
        TinyVit a = new TinyVit(8, 2, 1), b = new TinyVit(8, 2, 2);
        a.namedBuffers().get("rope_embed.periods").set(42, 0);
        Path f = dir.resolve("m.safetensors");
        StateDicts.save(a, f);
        assertNotEquals(a.stateDict().get("cls_token").getFlat(0), b.stateDict().get("cls_token").getFlat(0));
        assertTrue(StateDicts.load(b, f, true).isEmpty());
        Map<String, Tensor> sa = a.stateDict(), sb = b.stateDict();
        for (String k : sa.keySet()) assertArrayEquals(sa.get(k).toFloatArray(), sb.get(k).toFloatArray(), k);
        assertEquals(42, b.namedBuffers().get("rope_embed.periods").getFlat(0));
        assertEquals(List.copyOf(sa.keySet()), List.copyOf(Safetensors.read(f).tensors().keySet()));
    }

    @Test void strictLoadListsMissingUnexpectedAndMisShapedKeys() {
        TinyVit a = new TinyVit(8, 1, 1);
        LinkedHashMap<String, Tensor> sd = new LinkedHashMap<>(new TinyVit(8, 1, 2).stateDict());
        sd.remove("blocks.0.ls1.gamma");
        sd.remove("norm.bias");
        sd.put("head.weight", Tensor.zeros(3));
        sd.put("blocks.0.attn.proj.weight", Tensor.zeros(8, 9));
        double before = a.stateDict().get("cls_token").getFlat(0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.loadStateDict(sd, true));
        String msg = e.getMessage();
        assertTrue(msg.contains("missing keys (2)") && msg.contains("blocks.0.ls1.gamma") && msg.contains("norm.bias"), msg);
        assertTrue(msg.contains("unexpected keys (1)") && msg.contains("head.weight"), msg);
        assertTrue(msg.contains("mis-shaped keys (1)") && msg.contains("blocks.0.attn.proj.weight: checkpoint [8, 9] vs model [8, 8]"), msg);
        assertEquals(before, a.stateDict().get("cls_token").getFlat(0), "a failed load changes nothing");
        // non-strict: mis-shaped still fails, missing/unexpected are tolerated
        assertThrows(IllegalArgumentException.class, () -> a.loadStateDict(sd, false));
        sd.remove("blocks.0.attn.proj.weight");
        List<String> notLoaded = a.loadStateDict(sd, false);
        assertTrue(notLoaded.containsAll(List.of("blocks.0.ls1.gamma", "norm.bias", "blocks.0.attn.proj.weight")));
        assertEquals(sd.get("cls_token").getFlat(0), a.stateDict().get("cls_token").getFlat(0));
    }

    @Test void bf16CheckpointLoadsIntoF32AndF64(@TempDir Path dir) throws Exception {
        TinyVit src = new TinyVit(8, 1, 5);
        LinkedHashMap<String, Tensor> bf = new LinkedHashMap<>();
        src.stateDict().forEach((k, v) -> bf.put(k, v.to(DType.BF16)));
        Path f = dir.resolve("bf16.safetensors");
        Safetensors.write(f, bf);
        TinyVit dst = new TinyVit(8, 1, 6);
        StateDicts.load(dst, f, true);
        Tensor w = dst.stateDict().get("blocks.0.attn.qkv.weight");
        assertEquals(DType.F32, w.dtype());
        float[] want = bf.get("blocks.0.attn.qkv.weight").toFloatArray(), got = w.toFloatArray();
        assertArrayEquals(want, got);
        float[] orig = src.stateDict().get("blocks.0.attn.qkv.weight").toFloatArray();
        for (int i = 0; i < orig.length; i++) assertEquals(orig[i], got[i], Math.abs(orig[i]) / 128 + 1e-30);
        // F64 checkpoint into an F64 module, and BF16 into F64
        TinyVit d64 = new TinyVit(8, 1, 6);
        d64.to(DType.F64);
        assertEquals(DType.F64, d64.stateDict().get("norm.weight").dtype());
        assertEquals(DType.F64, d64.namedBuffers().get("rope_embed.periods").dtype());
        d64.loadStateDict(bf, true);
        assertEquals(DType.F64, d64.stateDict().get("blocks.0.attn.qkv.weight").dtype());
        assertArrayEquals(want, d64.stateDict().get("blocks.0.attn.qkv.weight").toFloatArray());
    }

    @Test void trainEvalRecursesAndZeroGradClears() {
        TinyVit m = new TinyVit(8, 2, 1);
        assertTrue(m.isTraining());
        m.eval();
        for (Module c : m.namedModules().values()) assertFalse(c.isTraining());
        m.train();
        for (Module c : m.namedModules().values()) assertTrue(c.isTraining());
        Parameter p = m.parameters().get(0);
        p.setGrad(Tensor.ones(p.shape()));
        m.zeroGrad();
        assertNull(p.grad());
    }

    @Test void duplicateNamesAndDotsAreRejected() {
        Module m = new Module() {};
        m.registerParameter("w", Tensor.zeros(2));
        assertThrows(IllegalArgumentException.class, () -> m.registerParameter("w", Tensor.zeros(2)));
        assertThrows(IllegalArgumentException.class, () -> m.registerModule("a.b", new Gelu()));
    }

    @Test void swigluHiddenSizeRule() {
        assertEquals(1536, SwiGLUFFN.hiddenSize(384, 6, 8));
        assertEquals(5120, SwiGLUFFN.hiddenSize(1280, 6, 8));
        assertEquals(8192, SwiGLUFFN.hiddenSize(4096, 3, 64));
        assertEquals(24, SwiGLUFFN.hiddenSize(32, 8)); // int(64/3)=21 -> 24
        SwiGLUFFN f = new SwiGLUFFN(16, 64, 16, 8);
        assertEquals(List.of("w1.weight", "w1.bias", "w2.weight", "w2.bias", "w3.weight", "w3.bias"), List.copyOf(f.stateDict().keySet()));
        assertArrayEquals(new int[]{48, 16}, f.w1.weight.shape());
        assertArrayEquals(new int[]{16, 48}, f.w3.weight.shape());
    }
}
