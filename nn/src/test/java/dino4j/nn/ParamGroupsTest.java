package dino4j.nn;

import dino4j.nn.optim.AdamW;
import dino4j.nn.optim.ParamGroup;
import dino4j.nn.optim.ParamGroups;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class ParamGroupsTest {

    /** Only the names matter: a fake backbone with the official parameter names. */
    static final class Fake extends Module {
        Fake(int depth) {
            registerParameter("cls_token", Tensor.zeros(1));
            registerParameter("storage_tokens", Tensor.zeros(1));
            registerParameter("mask_token", Tensor.zeros(1));
            Module pe = registerModule("patch_embed", new Module() {});
            Module proj = pe.registerModule("proj", new Module() {});
            proj.registerParameter("weight", Tensor.zeros(1));
            proj.registerParameter("bias", Tensor.zeros(1));
            ModuleList<Module> blocks = registerModule("blocks", new ModuleList<>());
            for (int i = 0; i < depth; i++) {
                Module b = blocks.add(new Module() {});
                b.registerModule("norm1", new LayerNorm(1, 1e-5));
                Module attn = b.registerModule("attn", new Module() {});
                attn.registerModule("qkv", new Linear(1, 3, true));
                b.registerModule("ls1", new LayerScale(1, 1e-5));
                b.registerModule("mlp", new Mlp(1, 2, 1));
            }
            registerModule("norm", new LayerNorm(1, 1e-5));
            Module head = registerModule("head", new Module() {});
            head.registerModule("last_layer", new Linear(1, 2, false));
        }
    }

    @Test void layerIdsAndMultipliers() {
        int depth = 12;
        double rho = 0.9;
        assertEquals(0, ParamGroups.layerId("patch_embed.proj.weight", depth));
        assertEquals(0, ParamGroups.layerId("cls_token", depth));
        assertEquals(0, ParamGroups.layerId("storage_tokens", depth));
        assertEquals(0, ParamGroups.layerId("mask_token", depth));
        assertEquals(1, ParamGroups.layerId("blocks.0.attn.qkv.weight", depth));
        assertEquals(12, ParamGroups.layerId("blocks.11.mlp.fc2.bias", depth));
        assertEquals(13, ParamGroups.layerId("norm.weight", depth));
        assertEquals(11, ParamGroups.layerId("backbone.blocks.10.ls1.gamma", depth));
        assertEquals(Math.pow(rho, 13) * 0.2, ParamGroups.lrMultiplier("patch_embed.proj.weight", rho, depth, 0.2), 1e-15);
        assertEquals(Math.pow(rho, 13), ParamGroups.lrMultiplier("cls_token", rho, depth, 0.2), 1e-15);
        assertEquals(Math.pow(rho, 12), ParamGroups.lrMultiplier("blocks.0.norm1.weight", rho, depth, 0.2), 1e-15);
        assertEquals(1.0, ParamGroups.lrMultiplier("blocks.11.attn.qkv.weight", rho, depth, 0.2) / rho, 1e-15);
        assertEquals(1.0, ParamGroups.lrMultiplier("norm.bias", rho, depth, 0.2), 0);
        // 7B: 0.98^41 * 0.2 ≈ 0.087
        assertEquals(0.087, ParamGroups.lrMultiplier("patch_embed.proj.weight", 0.98, 40, 0.2), 5e-4);
        assertEquals(0, ParamGroups.wdMultiplier("blocks.3.attn.qkv.bias"));
        assertEquals(0, ParamGroups.wdMultiplier("blocks.3.norm2.weight"));
        assertEquals(0, ParamGroups.wdMultiplier("blocks.3.ls2.gamma"));
        assertEquals(0, ParamGroups.wdMultiplier("norm.weight"));
        assertEquals(1, ParamGroups.wdMultiplier("cls_token"));
        assertEquals(1, ParamGroups.wdMultiplier("mask_token"));
        assertEquals(1, ParamGroups.wdMultiplier("blocks.3.attn.qkv.weight"));
    }

    @Test void groupsCoverEveryParameterOnceWithTheRightMultipliers() {
        int depth = 3;
        Fake m = new Fake(depth);
        List<ParamGroup> groups = ParamGroups.dinov3(m, 0.5, depth, 0.2);
        Map<String, double[]> seen = new HashMap<>();
        for (ParamGroup g : groups)
            for (String n : g.namedParams().keySet())
                assertNull(seen.put(n, new double[]{g.lrMultiplier(), g.wdMultiplier(), g.isLastLayer() ? 1 : 0}), "twice: " + n);
        assertEquals(m.namedParameters().keySet(), seen.keySet());
        assertArrayEquals(new double[]{Math.pow(0.5, 4) * 0.2, 1, 0}, seen.get("patch_embed.proj.weight"));
        assertArrayEquals(new double[]{Math.pow(0.5, 4) * 0.2, 0, 0}, seen.get("patch_embed.proj.bias"));
        assertArrayEquals(new double[]{Math.pow(0.5, 4), 1, 0}, seen.get("cls_token"));
        assertArrayEquals(new double[]{Math.pow(0.5, 3), 0, 0}, seen.get("blocks.0.norm1.weight"));
        assertArrayEquals(new double[]{Math.pow(0.5, 2), 1, 0}, seen.get("blocks.1.attn.qkv.weight"));
        assertArrayEquals(new double[]{0.5, 0, 0}, seen.get("blocks.2.ls1.gamma"));
        assertArrayEquals(new double[]{0.5, 1, 0}, seen.get("blocks.2.mlp.fc2.weight"));
        assertArrayEquals(new double[]{1, 0, 0}, seen.get("norm.bias"));
        assertArrayEquals(new double[]{1, 1, 1}, seen.get("head.last_layer.weight"));
        // groups are fused by (lr, wd, last_layer): patch_embed w/b, tokens, 3 blocks × 2, norm, last_layer
        assertEquals(2 + 1 + 3 * 2 + 1 + 1, groups.size());
        new AdamW(groups); // names are unique across groups
        List<ParamGroup> head = ParamGroups.dinov3(m, "dino_head.", 1.0, 0, 1.0);
        assertTrue(head.get(0).namedParams().keySet().iterator().next().startsWith("dino_head."));
    }
}
