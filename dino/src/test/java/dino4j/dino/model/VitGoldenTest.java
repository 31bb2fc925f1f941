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
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** The whole ViT against the official implementation's outputs and gradients (../shared/golden). */
class VitGoldenTest {
    static final double TOL = 1e-4;

    static VitConfig tiny(String ffn, double ratio, int storage) {
        return new VitConfig("tiny", 128, 2, 2, ffn, ratio, storage, 16, true, true, 1e-5, 1e-5, false, 100);
    }

    @Test
    void mlpVitMatchesForwardAndGradients() throws IOException {
        var model = new DinoVisionTransformer(tiny("mlp", 4, 4), new Random(1));
        model.loadStateDict(Safetensors.read(Golden.file("vit_tiny_weights.safetensors")).tensors(), true);
        model.eval();
        var io = Safetensors.read(Golden.file("vit_tiny_io.safetensors"));
        check(model, io, "", null);
        check(model, io, "masked.", io.get("masks"));
    }

    @Test
    void swigluVitFromPthMatches() throws IOException {
        var model = new DinoVisionTransformer(tiny("swiglu", 6, 0), new Random(1));
        model.loadStateDict(TorchCheckpoint.read(Golden.file("vit_tiny_swiglu.pth")), true);
        model.eval();
        check(model, Safetensors.read(Golden.file("vit_tiny_swiglu_io.safetensors")), "", null);
    }

    private static void check(DinoVisionTransformer model, Safetensors.Contents io, String p, Tensor masks) {
        model.zeroGrad();
        Var x = Var.leaf(io.get("x").to(DType.F32).copy());
        Features f = model.forwardFeatures(x, masks);
        assertClose(f.clsToken().data(), io.get(p + "x_norm_clstoken"), p + "x_norm_clstoken");
        assertClose(f.storageTokens().data(), io.get(p + "x_storage_tokens"), p + "x_storage_tokens");
        assertClose(f.patchTokens().data(), io.get(p + "x_norm_patchtokens"), p + "x_norm_patchtokens");
        assertClose(f.prenorm().data(), io.get(p + "x_prenorm"), p + "x_prenorm");

        Var loss = F.add(F.sum(F.mul(f.clsToken(), Var.constant(io.get(p + "probe.r_cls").to(DType.F32)))),
                F.sum(F.mul(f.patchTokens(), Var.constant(io.get(p + "probe.r_patch").to(DType.F32)))));
        if (f.storageTokens().size(1) > 0)
            loss = F.add(loss, F.sum(F.mul(f.storageTokens(), Var.constant(io.get(p + "probe.r_storage").to(DType.F32)))));
        assertEquals(io.get(p + "probe.loss").item(), loss.data().item(), 1e-4 * Math.abs(io.get(p + "probe.loss").item()) + 1e-5, p + "probe.loss");
        loss.backward();
        assertClose(x.grad(), io.get(p + "grad.x"), p + "grad.x");
        int checked = 0;
        for (Map.Entry<String, Parameter> e : model.namedParameters().entrySet()) {
            Tensor ref = io.tensors().get(p + "grad." + e.getKey());
            assertNotNull(ref, "golden file has no gradient for " + e.getKey());
            Tensor g = e.getValue().grad();
            if (g == null) g = Tensor.zeros(e.getValue().shape());
            assertClose(g, ref, p + "grad." + e.getKey());
            checked++;
        }
        assertEquals(model.namedParameters().size(), checked);
    }

    private static void assertClose(Tensor got, Tensor ref, String what) {
        assertArrayEquals(ref.shape(), got.shape(), what + " shape");
        double err = Golden.relL2(got, ref);
        assertTrue(err <= TOL, what + ": relative L2 error " + err + " > " + TOL + " (got " + got + ", want " + ref + ")");
    }

    @Test
    void parameterCountsMatchTheSpec() {
        // spec §1.11, "params (computed)"
        Map<String, Long> want = Map.of("vits16", 21_601_152L, "vits16plus", 28_697_472L, "vitb16", 85_669_632L,
                "vitl16", 303_154_176L, "vitl16_sat", 303_156_224L, "vith16plus", 840_633_600L, "vit7b16", 6_716_043_264L);
        want.forEach((name, n) -> assertEquals(n, VitConfig.preset(name).parameterCount(), name));
        // and the formula agrees with what the module really registers
        for (String name : new String[]{"vits16", "vits16plus"}) {
            var m = new DinoVisionTransformer(VitConfig.preset(name), new Random(0));
            assertEquals(VitConfig.preset(name).parameterCount(), m.numParameters(), name);
        }
        var key = new DinoVisionTransformer(VitConfig.preset("vits16"), new Random(0)).stateDict().keySet();
        assertEquals(188, key.size(), "ViT-S/16 state_dict has 188 entries (spec §5.2): " + key);
        assertTrue(key.containsAll(Arrays.asList("cls_token", "storage_tokens", "mask_token", "rope_embed.periods",
                "blocks.11.attn.qkv.bias_mask", "blocks.0.ls1.gamma", "blocks.0.mlp.fc1.weight", "norm.bias")));
    }
}
