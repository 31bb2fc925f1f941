package dino4j.dino.data;

import java.util.Random;

/**
 * DINOv3 multi-crop augmentation (spec §4.1/§4.2) of one image into 2 global and N local crops.
 * <pre>
 * global crop k (k = 1, 2): RandomResizedCrop(G, globalScale, bicubic, antialias) → hflip(p)
 *                           → RandomApply(ColorJitter(0.4, 0.4, 0.2, 0.1), 0.8) → RandomGrayscale(0.2)
 *                           → blur (crop 1: p = blurGlobal1, crop 2: p = blurGlobal2) → crop 2 only: solarize(p)
 *                           → normalise
 * local crop:               RandomResizedCrop(L, localScale) → flip → jitter → grayscale → blur(blurLocal) → normalise
 * </pre>
 * Blur probabilities default to the EFFECTIVE values of the reference (its RandomApply receives 1 − p,
 * spec §4.2 / pitfall 1): global 1 = 0.0, global 2 = 0.9, local = 0.5. Crops are drawn in the order
 * global 1, global 2, local 1..N from the one {@link Random}.
 */
public final class MultiCrop {

    /**
     * All settings. {@code mean}/{@code std} null = no normalisation (crops stay in [0,1]).
     */
    public record Config(int globalSize, double globalScaleMin, double globalScaleMax,
                         int localSize, double localScaleMin, double localScaleMax, int nLocal,
                         double ratioMin, double ratioMax,
                         double flipP,
                         double jitterP, double brightness, double contrast, double saturation, double hue,
                         double grayscaleP,
                         int blurKernel, double blurSigmaMin, double blurSigmaMax,
                         double blurGlobal1P, double blurGlobal2P, double blurLocalP,
                         double solarizeP, double solarizeThreshold,
                         float[] mean, float[] std) {
        public static final float[] IMAGENET_MEAN = {0.485f, 0.456f, 0.406f}, IMAGENET_STD = {0.229f, 0.224f, 0.225f};

        public Config {
            if (globalSize <= 0 || localSize <= 0 || nLocal < 0) throw new IllegalArgumentException("bad crop sizes/count");
            if (!(0 < globalScaleMin && globalScaleMin <= globalScaleMax && globalScaleMax <= 1)
                    || !(0 < localScaleMin && localScaleMin <= localScaleMax && localScaleMax <= 1))
                throw new IllegalArgumentException("crop scales must satisfy 0 < min ≤ max ≤ 1");
            if (!(0 < ratioMin && ratioMin <= ratioMax)) throw new IllegalArgumentException("crop aspect ratios must satisfy 0 < min ≤ max");
            if ((mean == null) != (std == null)) throw new IllegalArgumentException("mean and std must both be set or both null");
        }

        /** DINOv3 default recipe (ViT-L/ImageNet): global 224 (0.32, 1), 8 local 96 (0.05, 0.32), flips on, ImageNet normalisation. */
        public static Config dinov3() { return dinov3(224, 96, 8); }

        public static Config dinov3(int globalSize, int localSize, int nLocal) {
            return new Config(globalSize, 0.32, 1.0, localSize, 0.05, 0.32, nLocal,
                    3.0 / 4.0, 4.0 / 3.0, 0.5,
                    0.8, 0.4, 0.4, 0.2, 0.1, 0.2,
                    9, 0.1, 2.0, 0.0, 0.9, 0.5,
                    0.2, 0.5, IMAGENET_MEAN.clone(), IMAGENET_STD.clone());
        }

        /** Small-image variant (e.g. Fashion-MNIST 28×28): global 32, local 16, {@code nLocal} locals, blur kernel 9 kept. */
        public static Config small(int nLocal) { return dinov3(32, 16, nLocal); }

        public Config withSizes(int globalSize, int localSize, int nLocal) {
            return edit(e -> { e.globalSize = globalSize; e.localSize = localSize; e.nLocal = nLocal; });
        }

        public Config withScales(double gMin, double gMax, double lMin, double lMax) {
            return edit(e -> { e.globalScaleMin = gMin; e.globalScaleMax = gMax; e.localScaleMin = lMin; e.localScaleMax = lMax; });
        }

        /** RandomResizedCrop's aspect-ratio range (width / height), for every crop. */
        public Config withRatios(double min, double max) {
            return edit(e -> { e.ratioMin = min; e.ratioMax = max; });
        }

        public Config withFlipP(double p) { return edit(e -> e.flipP = p); }

        public Config withColor(double jitterP, double brightness, double contrast, double saturation, double hue, double grayscaleP) {
            return edit(e -> {
                e.jitterP = jitterP; e.brightness = brightness; e.contrast = contrast; e.saturation = saturation; e.hue = hue;
                e.grayscaleP = grayscaleP;
            });
        }

        /** Blur settings; probabilities are the EFFECTIVE ones (applied with exactly this probability). */
        public Config withBlur(int kernel, double sigmaMin, double sigmaMax, double global1P, double global2P, double localP) {
            return edit(e -> {
                e.blurKernel = kernel; e.blurSigmaMin = sigmaMin; e.blurSigmaMax = sigmaMax;
                e.blurGlobal1P = global1P; e.blurGlobal2P = global2P; e.blurLocalP = localP;
            });
        }

        public Config withSolarize(double p, double threshold) {
            return edit(e -> { e.solarizeP = p; e.solarizeThreshold = threshold; });
        }

        /** null/null disables normalisation. */
        public Config withNormalization(float[] mean, float[] std) {
            return edit(e -> { e.mean = mean == null ? null : mean.clone(); e.std = std == null ? null : std.clone(); });
        }

        /** A copy with some settings changed (records have no withers); the result is validated like any Config. */
        private Config edit(java.util.function.Consumer<Edit> change) {
            Edit e = new Edit(this);
            change.accept(e);
            return e.build();
        }

        /** The settings as mutable fields, for {@link #edit}. */
        private static final class Edit {
            int globalSize, localSize, nLocal, blurKernel;
            double globalScaleMin, globalScaleMax, localScaleMin, localScaleMax, ratioMin, ratioMax, flipP;
            double jitterP, brightness, contrast, saturation, hue, grayscaleP;
            double blurSigmaMin, blurSigmaMax, blurGlobal1P, blurGlobal2P, blurLocalP, solarizeP, solarizeThreshold;
            float[] mean, std;

            Edit(Config c) {
                globalSize = c.globalSize; globalScaleMin = c.globalScaleMin; globalScaleMax = c.globalScaleMax;
                localSize = c.localSize; localScaleMin = c.localScaleMin; localScaleMax = c.localScaleMax; nLocal = c.nLocal;
                ratioMin = c.ratioMin; ratioMax = c.ratioMax; flipP = c.flipP;
                jitterP = c.jitterP; brightness = c.brightness; contrast = c.contrast; saturation = c.saturation; hue = c.hue;
                grayscaleP = c.grayscaleP; blurKernel = c.blurKernel; blurSigmaMin = c.blurSigmaMin; blurSigmaMax = c.blurSigmaMax;
                blurGlobal1P = c.blurGlobal1P; blurGlobal2P = c.blurGlobal2P; blurLocalP = c.blurLocalP;
                solarizeP = c.solarizeP; solarizeThreshold = c.solarizeThreshold; mean = c.mean; std = c.std;
            }

            Config build() {
                return new Config(globalSize, globalScaleMin, globalScaleMax, localSize, localScaleMin, localScaleMax, nLocal,
                        ratioMin, ratioMax, flipP, jitterP, brightness, contrast, saturation, hue, grayscaleP, blurKernel,
                        blurSigmaMin, blurSigmaMax, blurGlobal1P, blurGlobal2P, blurLocalP, solarizeP, solarizeThreshold, mean, std);
            }
        }

        /** No photometric ops at all (crop + flip + normalise only). */
        public Config withoutPhotometric() {
            return withColor(0, 0, 0, 0, 0, 0).withBlur(blurKernel, blurSigmaMin, blurSigmaMax, 0, 0, 0).withSolarize(0, solarizeThreshold);
        }
    }

    /** The crops of one image, each float CHW: globals[0..1] (size G), locals[0..N-1] (size L). */
    public record Crops(Image[] globals, Image[] locals) {}

    private final Config cfg;

    public MultiCrop(Config cfg) { this.cfg = cfg; }

    public Config config() { return cfg; }

    public int globalSize() { return cfg.globalSize(); }

    public int localSize() { return cfg.localSize(); }

    public int nLocal() { return cfg.nLocal(); }

    /** All crops of {@code img} (3-channel; 1-channel images are replicated to 3 first). */
    public Crops apply(Random rng, Image img) {
        Image src = img.c() == 1 ? img.toChannels(3) : img;
        Image g1 = crop(rng, src, cfg.globalSize(), cfg.globalScaleMin(), cfg.globalScaleMax());
        g1 = blur(rng, g1, cfg.blurGlobal1P());
        Image g2 = crop(rng, src, cfg.globalSize(), cfg.globalScaleMin(), cfg.globalScaleMax());
        g2 = blur(rng, g2, cfg.blurGlobal2P());
        g2 = Augment.randomSolarize(rng, g2, cfg.solarizeP(), cfg.solarizeThreshold());
        Image[] locals = new Image[cfg.nLocal()];
        for (int i = 0; i < locals.length; i++) {
            Image l = crop(rng, src, cfg.localSize(), cfg.localScaleMin(), cfg.localScaleMax());
            locals[i] = normalize(blur(rng, l, cfg.blurLocalP()));
        }
        return new Crops(new Image[]{normalize(g1), normalize(g2)}, locals);
    }

    /** Geometric + colour part shared by every crop: RandomResizedCrop → flip → jitter → grayscale. */
    private Image crop(Random rng, Image src, int size, double sMin, double sMax) {
        Image x = Augment.randomResizedCrop(rng, src, size, size, sMin, sMax, cfg.ratioMin(), cfg.ratioMax());
        x = Augment.randomHFlip(rng, x, cfg.flipP());
        x = Augment.randomColorJitter(rng, x, cfg.jitterP(), cfg.brightness(), cfg.contrast(), cfg.saturation(), cfg.hue());
        return Augment.randomGrayscale(rng, x, cfg.grayscaleP());
    }

    private Image blur(Random rng, Image x, double p) {
        return Augment.randomGaussianBlur(rng, x, p, cfg.blurKernel(), cfg.blurSigmaMin(), cfg.blurSigmaMax());
    }

    private Image normalize(Image x) {
        return cfg.mean() == null ? x : Augment.normalize(x, cfg.mean(), cfg.std());
    }
}
