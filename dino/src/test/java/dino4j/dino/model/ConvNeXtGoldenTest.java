package dino4j.dino.model;

import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.nn.Parameter;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import dino4j.tensor.io.TorchCheckpoint;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The ConvNeXt student against the official implementation's outputs and gradients (../shared/golden). */
class ConvNeXtGoldenTest {
    static final double TOL = 1e-4;

    static ConvNeXtConfig golden() { return new ConvNeXtConfig("golden", new int[]{1, 1, 2, 1}, new int[]{16, 32, 48, 64}); }

    static ConvNeXt load() throws IOException {
        var model = new ConvNeXt(golden(), new Random(1));
        model.loadStateDict(TorchCheckpoint.read(Golden.file("convnext_tiny.pth")), true);
        model.eval();
        return model;
    }

    @Test
    void matchesForwardAndAllGradients() throws IOException {
        ConvNeXt model = load();
        var io = Safetensors.read(Golden.file("convnext_tiny_io.safetensors"));
        model.zeroGrad();
        Var x = Var.leaf(io.get("x").to(DType.F32).copy());
        Features f = model.forwardFeatures(x);
        assertEquals(2, f.gridH());
        assertEquals(3, f.gridW());
        assertClose(f.clsToken().data(), io.get("x_norm_clstoken"), "x_norm_clstoken");
        assertArrayEquals(new int[]{2, 0, 64}, f.storageTokens().shape(), "x_storage_tokens shape");
        assertArrayEquals(io.get("x_storage_tokens").shape(), f.storageTokens().shape(), "x_storage_tokens shape");
        assertClose(f.patchTokens().data(), io.get("x_norm_patchtokens"), "x_norm_patchtokens");
        assertClose(f.prenorm().data(), io.get("x_prenorm"), "x_prenorm");

        Var loss = F.add(F.sum(F.mul(f.clsToken(), Var.constant(io.get("probe.r_cls").to(DType.F32)))),
                F.sum(F.mul(f.patchTokens(), Var.constant(io.get("probe.r_patch").to(DType.F32)))));
        double want = io.get("probe.loss").item();
        assertEquals(want, loss.data().item(), 1e-4 * Math.abs(want) + 1e-5, "probe.loss");
        loss.backward();
        assertClose(x.grad(), io.get("grad.x"), "grad.x");
        int checked = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor ref = io.tensors().get("grad." + e.getKey());
            assertNotNull(ref, "golden file has no gradient for " + e.getKey());
            assertNotNull(e.getValue().grad(), "no gradient reached " + e.getKey());
            assertClose(e.getValue().grad(), ref, "grad." + e.getKey());
            checked++;
        }
        long goldenGrads = io.tensors().keySet().stream().filter(k -> k.startsWith("grad.") && !k.equals("grad.x")).count();
        assertEquals(goldenGrads, checked, "every golden parameter gradient is checked");
        assertEquals(63, checked);
    }

    @Test
    void stateDictHasTheOfficialKeysIncludingTheDuplicateNorm() throws IOException {
        Map<String, Tensor> pth = TorchCheckpoint.read(Golden.file("convnext_tiny.pth"));
        ConvNeXt model = load();
        var sd = model.stateDict();
        // (TorchCheckpoint.read does not keep the pickle's key order, so the order is spelled out: the official
        // file lists per block gamma first, and norm.* then norms.3.* last)
        assertEquals(new java.util.TreeSet<>(pth.keySet()), new java.util.TreeSet<>(sd.keySet()), "same keys as the official file");
        assertEquals(65, sd.size());
        List<String> keys = new ArrayList<>(sd.keySet());
        assertEquals(List.of("downsample_layers.0.0.weight", "downsample_layers.0.0.bias", "downsample_layers.0.1.weight"), keys.subList(0, 3));
        assertEquals(List.of("stages.0.0.gamma", "stages.0.0.dwconv.weight", "stages.0.0.dwconv.bias", "stages.0.0.norm.weight",
                "stages.0.0.norm.bias", "stages.0.0.pwconv1.weight", "stages.0.0.pwconv1.bias", "stages.0.0.pwconv2.weight",
                "stages.0.0.pwconv2.bias"), keys.subList(16, 25));
        assertEquals(List.of("norm.weight", "norm.bias", "norms.3.weight", "norms.3.bias"), keys.subList(61, 65));
        for (var e : pth.entrySet()) assertEquals(0, Golden.relL2(sd.get(e.getKey()), e.getValue()), e.getKey() + " round-trips");
        assertSame(sd.get("norm.weight"), sd.get("norms.3.weight"), "norms.3 is the final norm itself");
        // parameters list the shared norm once, under its first name
        assertTrue(model.namedParameters().containsKey("norm.weight"));
        assertFalse(model.namedParameters().containsKey("norms.3.weight"));
        assertEquals(63, model.namedParameters().size());
    }

    @Test
    void loadingTreatsTheDuplicateNormConsistently() throws IOException {
        Map<String, Tensor> pth = TorchCheckpoint.read(Golden.file("convnext_tiny.pth"));
        // without norms.3.* (e.g. a trimmed dict): still loads strictly, norm and norms.3 stay one module
        Map<String, Tensor> trimmed = new LinkedHashMap<>(pth);
        trimmed.remove("norms.3.weight");
        trimmed.remove("norms.3.bias");
        var m = new ConvNeXt(golden(), new Random(2));
        assertTrue(m.loadStateDict(trimmed, true).isEmpty());
        assertEquals(0, Golden.relL2(m.norm.weight.data(), pth.get("norm.weight")));
        // disagreeing duplicates are refused
        Map<String, Tensor> bad = new LinkedHashMap<>(pth);
        bad.put("norms.3.bias", Tensor.zeros(64));
        var e = assertThrows(IllegalArgumentException.class, () -> new ConvNeXt(golden(), new Random(2)).loadStateDict(bad, true));
        assertTrue(e.getMessage().contains("norms.3.bias"), e.getMessage());
        // unrelated missing keys still fail strict loading
        Map<String, Tensor> missing = new LinkedHashMap<>(pth);
        missing.remove("stages.2.1.gamma");
        assertThrows(IllegalArgumentException.class, () -> new ConvNeXt(golden(), new Random(2)).loadStateDict(missing, true));
    }

    @Test
    void intermediateLayersFollowTheOfficialRecipe() throws IOException {
        ConvNeXt model = load();
        var io = Safetensors.read(Golden.file("convnext_tiny_io.safetensors"));
        Var x = Var.constant(io.get("x").to(DType.F32));
        List<Features> all = model.intermediateLayers(x, 4, true);
        assertEquals(4, all.size());
        int[][] grids = {{16, 24}, {8, 12}, {4, 6}, {2, 3}};
        int[] dims = {16, 32, 48, 64};
        for (int s = 0; s < 4; s++) {
            Features f = all.get(s);
            assertArrayEquals(new int[]{2, dims[s]}, f.clsToken().shape());
            assertArrayEquals(new int[]{2, grids[s][0] * grids[s][1], dims[s]}, f.patchTokens().shape());
            assertArrayEquals(new int[]{2, 0, dims[s]}, f.storageTokens().shape());
            if (s < 3) assertEquals(0, Golden.relL2(f.patchTokens().data(), f.prenorm().data()), "stages 0-2 are not normed");
        }
        // the last stage through norms[3] is forward_features
        assertClose(all.get(3).clsToken().data(), io.get("x_norm_clstoken"), "stage 3 cls");
        assertClose(all.get(3).patchTokens().data(), io.get("x_norm_patchtokens"), "stage 3 patches");
        // with patch_size 16 the maps are resized to the H/16 × W/16 grid
        var p16 = new ConvNeXt(golden().withPatchSize(16), new Random(1));
        p16.loadStateDict(model.stateDict(), true);
        p16.eval();
        Features g = p16.intermediateLayers(x, new int[]{1}, true).getFirst();
        assertEquals(4, g.gridH());
        assertEquals(6, g.gridW());
        assertArrayEquals(new int[]{2, 24, 32}, g.patchTokens().shape());
    }

    @Test
    void trainingModeDropPathIsPerSample() throws IOException {
        var io = Safetensors.read(Golden.file("convnext_tiny_io.safetensors"));
        Var x = Var.constant(io.get("x").to(DType.F32));
        ConvNeXt model = load();
        Tensor eval = model.forwardFeatures(x).patchTokens().data();
        model.train();
        assertEquals(0, Golden.relL2(model.forwardFeatures(x).patchTokens().data(), eval), "rate 0: training = eval");
        var dp = new ConvNeXt(golden().withDropPathRate(0.9), new Random(1));
        dp.loadStateDict(model.stateDict(), true);
        assertEquals(0.9, ((ConvNeXtBlock) dp.stages.get(3).get(0)).dropPath, 1e-12, "linear rates end at drop_path_rate");
        assertEquals(0.0, ((ConvNeXtBlock) dp.stages.get(0).get(0)).dropPath, "and start at 0");
        dp.train();
        Features f = dp.forwardFeatures(x);
        assertArrayEquals(new int[]{2, 6, 64}, f.patchTokens().shape());
        F.sum(f.patchTokens()).backward();
        assertNotNull(dp.stages.get(0).get(0).namedParameters().get("pwconv1.weight").grad());
        dp.eval();
        assertEquals(0, Golden.relL2(dp.forwardFeatures(x).patchTokens().data(), eval), "eval ignores drop path");
    }

    @Test
    void parameterCountsMatchTheSpec() {
        // spec §2, "params (backbone, computed)", in millions rounded to 0.01M
        Map<String, Double> want = Map.of("tiny", 27.82, "small", 49.45, "base", 87.57, "large", 196.23);
        want.forEach((name, m) -> assertEquals(m, Math.round(ConvNeXtConfig.preset(name).parameterCount() / 1e4) / 100.0, 1e-9, name));
        // the formula agrees with what the modules really register (the shared final norm counted once)
        var tiny = new ConvNeXt(ConvNeXtConfig.tiny(), new Random(0));
        assertEquals(ConvNeXtConfig.tiny().parameterCount(), tiny.numParameters());
        assertEquals(golden().parameterCount(), new ConvNeXt(golden(), new Random(0)).numParameters());
        // official Tiny state_dict: 16 downsample + 18·9 block + 2 norm + 2 norms.3 keys
        assertEquals(16 + 18 * 9 + 4, tiny.stateDict().size());
    }

    private static void assertClose(Tensor got, Tensor ref, String what) {
        assertArrayEquals(ref.shape(), got.shape(), what + " shape");
        double err = Golden.relL2(got, ref);
        if (Boolean.getBoolean("dino4j.printErrors")) System.out.printf("%-40s %.3e%n", what, err);
        assertTrue(err <= TOL, what + ": relative L2 error " + err + " > " + TOL);
    }
}
