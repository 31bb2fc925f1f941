package dino4j.dino.eval;

import dino4j.dino.model.Features;
import dino4j.tensor.Ops;
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
        int b = cls.size(0), d = cls.size(1);
        if (this == CLS) {
            System.arraycopy(cls.f32(), cls.offset(), out, row0 * d, b * d);
            return;
        }
        Tensor pm = Ops.mean(f.patchTokens().data(), 1, false).contiguous();   // [B, D], where the tokens live
        if (this == PATCH_MEAN) {
            System.arraycopy(pm.f32(), pm.offset(), out, row0 * d, b * d);
            return;
        }
        float[] c = Knn.normalizeRows(cls).f32(), p = Knn.normalizeRows(pm).f32();   // fresh, offset 0
        for (int i = 0; i < b; i++) {
            System.arraycopy(c, i * d, out, (row0 + i) * 2 * d, d);
            System.arraycopy(p, i * d, out, (row0 + i) * 2 * d + d, d);
        }
    }
}
