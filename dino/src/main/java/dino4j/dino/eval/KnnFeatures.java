package dino4j.dino.eval;

import dino4j.dino.model.Features;
import dino4j.tensor.Tensor;

import java.util.Locale;

/**
 * Which backbone output a k-NN probe reads per image. {@link #CLS} is the DINO protocol (spec §6.1);
 * {@link #PATCH_MEAN} averages the normed patch tokens; {@link #CLS_PATCH_MEAN} concatenates both, each scaled
 * to unit length first so that under cosine similarity neither half dominates by its norm.
 */
public enum KnnFeatures {
    CLS("cls"), PATCH_MEAN("patch-mean"), CLS_PATCH_MEAN("cls+patch-mean");

    public final String cliName;

    KnnFeatures(String cliName) { this.cliName = cliName; }

    /** Parses a command-line name (cls, patch-mean, cls+patch-mean), naming the option on error. */
    public static KnnFeatures parse(String option, String v) {
        String s = v == null ? "" : v.trim().toLowerCase(Locale.ROOT);
        for (KnnFeatures f : values()) if (f.cliName.equals(s)) return f;
        throw new IllegalArgumentException(option + " must be cls, patch-mean or cls+patch-mean, got '" + v + "'");
    }

    /** Width of one image's vector for a backbone of width d. */
    public int width(int d) { return this == CLS_PATCH_MEAN ? 2 * d : d; }

    /** Writes the batch's vectors, {@code width(d)} floats per image, to {@code out} from row {@code row0}. */
    public void write(Features f, float[] out, int row0) {
        Tensor cls = f.clsToken().data().contiguous();
        int b = cls.size(0), d = cls.size(1), w = width(d);
        float[] c = cls.f32();
        float[] pm = this == CLS ? null : patchMean(f.patchTokens().data().contiguous());
        for (int i = 0; i < b; i++) {
            int o = (row0 + i) * w;
            switch (this) {
                case CLS -> System.arraycopy(c, cls.offset() + i * d, out, o, d);
                case PATCH_MEAN -> System.arraycopy(pm, i * d, out, o, d);
                case CLS_PATCH_MEAN -> {
                    copyUnit(c, cls.offset() + i * d, out, o, d);
                    copyUnit(pm, i * d, out, o + d, d);
                }
            }
        }
    }

    /** [B, P, D] → mean over P, [B·D] floats. */
    private static float[] patchMean(Tensor p) {
        int b = p.size(0), n = p.size(1), d = p.size(2);
        float[] x = p.f32(), m = new float[b * d];
        for (int i = 0; i < b; i++) {
            double[] acc = new double[d];
            for (int t = 0; t < n; t++) {
                int base = p.offset() + (i * n + t) * d;
                for (int j = 0; j < d; j++) acc[j] += x[base + j];
            }
            for (int j = 0; j < d; j++) m[i * d + j] = (float) (acc[j] / n);
        }
        return m;
    }

    private static void copyUnit(float[] src, int from, float[] dst, int to, int d) {
        double ss = 0;
        for (int j = 0; j < d; j++) ss += (double) src[from + j] * src[from + j];
        double inv = 1.0 / Math.max(Math.sqrt(ss), 1e-12);
        for (int j = 0; j < d; j++) dst[to + j] = (float) (src[from + j] * inv);
    }
}
