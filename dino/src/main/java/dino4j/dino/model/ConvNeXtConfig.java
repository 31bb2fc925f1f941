package dino4j.dino.model;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A DINOv3 ConvNeXt student's shape (spec §2): four stages with {@code depths[i]} blocks of width
 * {@code dims[i]}. {@code layerScaleInit} ≤ 0 means no {@code gamma}; {@code dropPathRate} is the last
 * block's per-sample DropPath rate (linear from 0; 0 in all DINOv3 configs). {@code patchSize} &gt; 0 makes
 * {@link ConvNeXt#intermediateLayers} resize the stage maps to the H/p × W/p grid (as in distillation);
 * 0 = no resize.
 */
public record ConvNeXtConfig(String name, int[] depths, int[] dims, double layerScaleInit, double normEps,
                             double dropPathRate, int patchSize) {

    public ConvNeXtConfig {
        if (depths == null || dims == null || depths.length != 4 || dims.length != 4)
            throw new IllegalArgumentException(name + ": ConvNeXt needs 4 depths and 4 dims, got " + Arrays.toString(depths) + " / " + Arrays.toString(dims));
        for (int i = 0; i < 4; i++) {
            if (depths[i] < 0) throw new IllegalArgumentException(name + ": negative depth " + depths[i] + " in stage " + i);
            if (dims[i] <= 0) throw new IllegalArgumentException(name + ": non-positive width " + dims[i] + " in stage " + i);
        }
        if (dropPathRate < 0 || dropPathRate >= 1) throw new IllegalArgumentException(name + ": drop path rate must be in [0, 1), got " + dropPathRate);
        if (patchSize < 0) throw new IllegalArgumentException(name + ": patch size must be ≥ 0, got " + patchSize);
        depths = depths.clone();
        dims = dims.clone();
    }

    /** A config with the official defaults (LayerScale 1e-6, LayerNorm eps 1e-6, no drop path, no patch resize). */
    public ConvNeXtConfig(String name, int[] depths, int[] dims) { this(name, depths, dims, 1e-6, 1e-6, 0, 0); }

    @Override public int[] depths() { return depths.clone(); }
    @Override public int[] dims() { return dims.clone(); }

    public int depth(int stage) { return depths[stage]; }
    public int dim(int stage) { return dims[stage]; }

    /** Width of the output features (the last stage). */
    public int embedDim() { return dims[3]; }

    /** Total number of blocks. */
    public int totalBlocks() { return depths[0] + depths[1] + depths[2] + depths[3]; }

    /**
     * Trainable parameters (the duplicate {@code norms.3} counted once). Per block of width C: dwconv 49C + C,
     * norm 2C, pwconv1 4C² + 4C, pwconv2 4C² + C, gamma C.
     */
    public long parameterCount() {
        long n = 3L * dims[0] * 16 + dims[0] + 2L * dims[0];                               // stem conv + LN
        for (int i = 1; i < 4; i++) n += 2L * dims[i - 1] + (long) dims[i] * dims[i - 1] * 4 + dims[i]; // LN + conv 2×2
        for (int i = 0; i < 4; i++) {
            long c = dims[i];
            long block = 49 * c + c + 2 * c + 4 * c * c + 4 * c + 4 * c * c + c + (layerScaleInit > 0 ? c : 0);
            n += depths[i] * block;
        }
        return n + 2L * dims[3];                                                           // final norm
    }

    public ConvNeXtConfig withPatchSize(int p) { return new ConvNeXtConfig(name, depths, dims, layerScaleInit, normEps, dropPathRate, p); }

    public ConvNeXtConfig withDropPathRate(double r) { return new ConvNeXtConfig(name, depths, dims, layerScaleInit, normEps, r, patchSize); }

    @Override public boolean equals(Object o) {
        return o instanceof ConvNeXtConfig c && name.equals(c.name) && Arrays.equals(depths, c.depths) && Arrays.equals(dims, c.dims)
                && Double.compare(layerScaleInit, c.layerScaleInit) == 0 && Double.compare(normEps, c.normEps) == 0
                && Double.compare(dropPathRate, c.dropPathRate) == 0 && patchSize == c.patchSize;
    }

    @Override public int hashCode() { return 31 * (31 * name.hashCode() + Arrays.hashCode(depths)) + Arrays.hashCode(dims); }

    @Override public String toString() {
        return "ConvNeXtConfig[" + name + ", depths=" + Arrays.toString(depths) + ", dims=" + Arrays.toString(dims)
                + ", layerScaleInit=" + layerScaleInit + ", normEps=" + normEps + ", dropPathRate=" + dropPathRate + ", patchSize=" + patchSize + "]";
    }

    public static ConvNeXtConfig tiny() { return PRESETS.get("convnext_tiny"); }
    public static ConvNeXtConfig small() { return PRESETS.get("convnext_small"); }
    public static ConvNeXtConfig base() { return PRESETS.get("convnext_base"); }
    public static ConvNeXtConfig large() { return PRESETS.get("convnext_large"); }

    /** The released sizes (§2) by hub-style name. */
    public static final Map<String, ConvNeXtConfig> PRESETS = presets();

    private static Map<String, ConvNeXtConfig> presets() {
        Map<String, ConvNeXtConfig> m = new LinkedHashMap<>();
        m.put("convnext_tiny", new ConvNeXtConfig("convnext_tiny", new int[]{3, 3, 9, 3}, new int[]{96, 192, 384, 768}));
        m.put("convnext_small", new ConvNeXtConfig("convnext_small", new int[]{3, 3, 27, 3}, new int[]{96, 192, 384, 768}));
        m.put("convnext_base", new ConvNeXtConfig("convnext_base", new int[]{3, 3, 27, 3}, new int[]{128, 256, 512, 1024}));
        m.put("convnext_large", new ConvNeXtConfig("convnext_large", new int[]{3, 3, 27, 3}, new int[]{192, 384, 768, 1536}));
        return java.util.Collections.unmodifiableMap(m);
    }

    /** A preset by name, with or without the {@code convnext_} prefix ("tiny", "convnext_tiny"). */
    public static ConvNeXtConfig preset(String name) {
        ConvNeXtConfig c = PRESETS.get(name.startsWith("convnext_") ? name : "convnext_" + name);
        if (c == null) throw new IllegalArgumentException("unknown ConvNeXt '" + name + "' (known: " + String.join(", ", PRESETS.keySet()) + ")");
        return c;
    }
}
