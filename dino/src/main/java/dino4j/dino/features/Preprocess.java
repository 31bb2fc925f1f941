package dino4j.dino.features;

import dino4j.dino.data.Image;
import dino4j.kernels.ResizeKernels;
import dino4j.tensor.Tensor;

import java.util.List;
import java.util.Locale;

/**
 * Inference preprocessing (§1.13, §5.5): antialiased bilinear resize of the float [0, 1] image, bottom/right crop
 * to a multiple of the patch size, per-channel mean/std normalisation and batching into [B, 3, H, W].
 */
public final class Preprocess {
    private Preprocess() {}

    /** Per-channel normalisation constants. */
    public record MeanStd(String name, float[] mean, float[] std) {
        /** LVD-1689M models (ImageNet statistics). */
        public static final MeanStd LVD = new MeanStd("lvd", new float[]{0.485f, 0.456f, 0.406f}, new float[]{0.229f, 0.224f, 0.225f});
        /** SAT-493M (satellite) models. */
        public static final MeanStd SAT = new MeanStd("sat", new float[]{0.430f, 0.411f, 0.296f}, new float[]{0.213f, 0.156f, 0.143f});

        /** "lvd" or "sat" (case-insensitive). */
        public static MeanStd parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "lvd", "imagenet" -> LVD;
                case "sat" -> SAT;
                default -> throw new IllegalArgumentException("--mean-std must be 'lvd' or 'sat', got '" + s + "'");
            };
        }
    }

    /** Antialiased bilinear resize of a 3-channel float image to oh × ow (a copy even when the size is unchanged). */
    public static Image resize(Image img, int oh, int ow) {
        if (oh < 1 || ow < 1) throw new IllegalArgumentException("resize target must be positive, got " + oh + "x" + ow);
        if (oh == img.h() && ow == img.w()) return img.copy();
        float[] out = new float[img.c() * oh * ow];
        ResizeKernels.resize(ResizeKernels.Mode.BILINEAR, true, img.c(), img.h(), img.w(), oh, ow, img.chw(), 0, out, 0);
        for (int i = 0; i < out.length; i++) out[i] = Math.min(1f, Math.max(0f, out[i]));   // as a uint8 round trip would
        return new Image(out, img.c(), oh, ow);
    }

    /**
     * Crops the bottom rows and right columns so both sides are multiples of {@code patch}: the official strided
     * patch convolution ignores that remainder anyway. Throws when the image is smaller than one patch.
     */
    public static Image cropToMultiple(Image img, int patch) {
        int h = img.h() / patch * patch, w = img.w() / patch * patch;
        if (h == 0 || w == 0)
            throw new IllegalArgumentException("image " + img.w() + "x" + img.h() + " (WxH) is smaller than one " + patch + "x" + patch + " patch");
        if (h == img.h() && w == img.w()) return img;
        float[] out = new float[img.c() * h * w];
        for (int c = 0; c < img.c(); c++)
            for (int y = 0; y < h; y++)
                System.arraycopy(img.chw(), (c * img.h() + y) * img.w(), out, (c * h + y) * w, w);
        return new Image(out, img.c(), h, w);
    }

    /**
     * The §7 PCA sizing: height = {@code height} (a multiple of {@code patch}), width proportional and rounded down
     * to a multiple of {@code patch}: {@code w = floor(W·height/(H·patch))·patch}.
     */
    public static Image resizeToHeight(Image img, int height, int patch) {
        if (height < patch || height % patch != 0)
            throw new IllegalArgumentException("--height must be a positive multiple of the patch size " + patch + ", got " + height);
        int w = (int) Math.floor((double) img.w() * height / ((double) img.h() * patch)) * patch;
        if (w < patch) throw new IllegalArgumentException("image " + img.w() + "x" + img.h() + " is too narrow: at height " + height
                + " its width rounds down to less than one " + patch + "-pixel patch");
        return resize(img, height, w);
    }

    /** Normalised batch [B, 3, H, W] (F32) of same-sized 3-channel images. */
    public static Tensor toBatch(List<Image> images, MeanStd ms) {
        if (images.isEmpty()) throw new IllegalArgumentException("empty batch");
        int h = images.get(0).h(), w = images.get(0).w(), plane = h * w;
        float[] x = new float[images.size() * 3 * plane];
        for (int b = 0; b < images.size(); b++) {
            Image img = images.get(b);
            if (img.h() != h || img.w() != w || img.c() != 3)
                throw new IllegalArgumentException("batch mixes sizes: " + img.c() + "x" + img.h() + "x" + img.w() + " vs 3x" + h + "x" + w);
            for (int c = 0; c < 3; c++) {
                float m = ms.mean()[c], s = ms.std()[c];
                int src = c * plane, dst = (b * 3 + c) * plane;
                for (int i = 0; i < plane; i++) x[dst + i] = (img.chw()[src + i] - m) / s;
            }
        }
        return Tensor.of(x, images.size(), 3, h, w);
    }
}
