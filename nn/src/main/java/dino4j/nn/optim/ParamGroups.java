package dino4j.nn.optim;

import dino4j.nn.Module;
import dino4j.nn.Parameter;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** DINOv3's parameter grouping (§4.5): layer-wise lr decay, patch-embed lr multiplier, no decay for biases/norms/LayerScale. */
public final class ParamGroups {
    private ParamGroups() {}

    /**
     * layer_id of a backbone parameter name: 0 for patch_embed / cls_token / storage_tokens / mask_token
     * (and pos_embed), i+1 for {@code blocks.i.*}, depth+1 for everything else (final norms, heads).
     */
    public static int layerId(String name, int depth) {
        if (name.contains("patch_embed") || name.contains("cls_token") || name.contains("storage_tokens")
                || name.contains("mask_token") || name.contains("pos_embed")) return 0;
        int at = name.startsWith("blocks.") ? 0 : name.indexOf(".blocks.") + 1;
        if ((at > 0 || name.startsWith("blocks.")) && !name.contains("residual.")) {
            String rest = name.substring(at + "blocks.".length());
            int dot = rest.indexOf('.');
            try {
                return Integer.parseInt(dot < 0 ? rest : rest.substring(0, dot)) + 1;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("cannot read the block index in parameter name '" + name + "'");
            }
        }
        return depth + 1;
    }

    /** lr multiplier ρ^(depth+1−layer_id), times patchEmbedLrMult for patch_embed parameters. */
    public static double lrMultiplier(String name, double layerDecay, int depth, double patchEmbedLrMult) {
        double m = Math.pow(layerDecay, depth + 1 - layerId(name, depth));
        return name.contains("patch_embed") ? m * patchEmbedLrMult : m;
    }

    /** 0 for names ending in "bias" or containing "norm" or "gamma", else 1. */
    public static double wdMultiplier(String name) {
        return name.endsWith("bias") || name.contains("norm") || name.contains("gamma") ? 0.0 : 1.0;
    }

    public static List<ParamGroup> dinov3(Module backbone, double layerDecay, int depth, double patchEmbedLrMult) {
        return dinov3(backbone, "", layerDecay, depth, patchEmbedLrMult);
    }

    /**
     * Groups {@code module}'s parameters by (lr multiplier, wd multiplier, last_layer), in first-seen order.
     * {@code prefix} is prepended to the parameter names used as optimizer-state keys (e.g. "dino_head."
     * so the head's names do not collide with the backbone's); rules look at the unprefixed name. For a
     * head, pass layerDecay 1 (every multiplier is then 1). Names containing "last_layer" are flagged.
     */
    public static List<ParamGroup> dinov3(Module module, String prefix, double layerDecay, int depth, double patchEmbedLrMult) {
        record Key(double lr, double wd, boolean last) {}
        Map<Key, LinkedHashMap<String, Parameter>> buckets = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : module.namedParameters().entrySet()) {
            String n = e.getKey();
            Key k = new Key(lrMultiplier(n, layerDecay, depth, patchEmbedLrMult), wdMultiplier(n), n.contains("last_layer"));
            buckets.computeIfAbsent(k, x -> new LinkedHashMap<>()).put(prefix + n, e.getValue());
        }
        List<ParamGroup> out = new ArrayList<>();
        for (Map.Entry<Key, LinkedHashMap<String, Parameter>> b : buckets.entrySet()) {
            Key k = b.getKey();
            String gname = prefix + String.format("lr%.6g_wd%.3g%s", k.lr, k.wd, k.last ? "_last_layer" : "");
            out.add(new ParamGroup(gname, b.getValue(), k.lr, k.wd, k.last));
        }
        return out;
    }
}
