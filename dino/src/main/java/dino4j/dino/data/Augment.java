package dino4j.dino.data;

import dino4j.kernels.ResizeKernels;

import java.util.Random;

/**
 * Image augmentations with torchvision (v2) semantics, as pure functions on {@link Image} (the input is
 * never modified) driven by a caller-supplied {@link Random}. Values are floats in [0, 1]; every
 * photometric op clamps to [0, 1] like torchvision's float path (the reference runs on 8-bit images;
 * we do not quantise to 1/255 steps).
 * <p>
 * "Random*" helpers follow torchvision RandomApply semantics: one uniform u is ALWAYS drawn and the op
 * is applied iff {@code u < p} (so p = 0 never applies, p = 1 always does, and the RNG stream does not
 * depend on the probability).
 */
public final class Augment {
    private Augment() {}

    /** ITU-R 601-2 luma weights (PIL {@code convert("L")}; torchvision tensors use 0.2989 for red). */
    public static final float GRAY_R = 0.299f, GRAY_G = 0.587f, GRAY_B = 0.114f;

    public static final double RATIO_MIN = 3.0 / 4.0, RATIO_MAX = 4.0 / 3.0;

    // ------------------------------------------------------------------ geometric

    /** A crop window: rows [top, top+height), columns [left, left+width). */
    public record Crop(int top, int left, int height, int width) {}

    /**
     * torchvision {@code RandomResizedCrop.get_params}: up to 10 attempts of area fraction ~ U(scale),
     * log-uniform aspect ratio (w/h) in {@code ratio}, {@code w = round(sqrt(A·ar))}, {@code h =
     * round(sqrt(A/ar))} (round half to even, as Python), accepted when it fits; uniform position.
     * Fallback: centre crop with the aspect ratio clamped into {@code ratio}.
     */
    public static Crop randomResizedCropParams(Random rng, int height, int width, double scaleMin, double scaleMax,
                                               double ratioMin, double ratioMax) {
        double area = (double) height * width;
        double logLo = Math.log(ratioMin), logHi = Math.log(ratioMax);
        for (int attempt = 0; attempt < 10; attempt++) {
            double targetArea = area * uniform(rng, scaleMin, scaleMax);
            double ar = Math.exp(uniform(rng, logLo, logHi));
            int w = (int) Math.rint(Math.sqrt(targetArea * ar));
            int h = (int) Math.rint(Math.sqrt(targetArea / ar));
            if (0 < w && w <= width && 0 < h && h <= height) {
                int i = rng.nextInt(height - h + 1);
                int j = rng.nextInt(width - w + 1);
                return new Crop(i, j, h, w);
            }
        }
        double inRatio = (double) width / height;
        int w, h;
        if (inRatio < ratioMin) {
            w = width;
            h = (int) Math.rint(w / ratioMin);
        } else if (inRatio > ratioMax) {
            h = height;
            w = (int) Math.rint(h * ratioMax);
        } else {
            w = width;
            h = height;
        }
        return new Crop((height - h) / 2, (width - w) / 2, h, w);
    }

    /** Crops {@code c} out of {@code img} and resizes it to {@code outH × outW} (bicubic, antialias, clamped to [0,1]). */
    public static Image resizedCrop(Image img, Crop c, int outH, int outW) {
        if (c.top() < 0 || c.left() < 0 || c.height() <= 0 || c.width() <= 0
                || c.top() + c.height() > img.h() || c.left() + c.width() > img.w())
            throw new IllegalArgumentException("crop " + c + " outside image " + img.h() + "×" + img.w());
        return resizeWindow(img, c.top(), c.left(), c.height(), c.width(), outH, outW, true);
    }

    /** Whole-image resize, bicubic with antialias (PyTorch {@code interpolate(..., antialias=True)}), clamped to [0,1]. */
    public static Image resize(Image img, int outH, int outW) {
        return resizeWindow(img, 0, 0, img.h(), img.w(), outH, outW, true);
    }

    /** RandomResizedCrop(size, scale, ratio (3/4, 4/3), bicubic, antialias). */
    public static Image randomResizedCrop(Random rng, Image img, int size, double scaleMin, double scaleMax) {
        return randomResizedCrop(rng, img, size, size, scaleMin, scaleMax, RATIO_MIN, RATIO_MAX);
    }

    public static Image randomResizedCrop(Random rng, Image img, int outH, int outW, double scaleMin, double scaleMax,
                                          double ratioMin, double ratioMax) {
        Crop c = randomResizedCropParams(rng, img.h(), img.w(), scaleMin, scaleMax, ratioMin, ratioMax);
        return resizedCrop(img, c, outH, outW);
    }

    private static Image resizeWindow(Image img, int top, int left, int h, int w, int oh, int ow, boolean clamp) {
        int C = img.c(), W = img.w();
        float[] x = img.chw(), y = new float[C * oh * ow];
        if (h == oh && w == ow) {
            for (int ch = 0; ch < C; ch++)
                for (int r = 0; r < h; r++)
                    System.arraycopy(x, (ch * img.h() + top + r) * W + left, y, (ch * oh + r) * ow, ow);
            return new Image(y, C, oh, ow);
        }
        ResizeKernels.AxisWeights aw = ResizeKernels.axisWeights(ResizeKernels.Mode.BICUBIC, true, w, ow);
        ResizeKernels.AxisWeights ah = ResizeKernels.axisWeights(ResizeKernels.Mode.BICUBIC, true, h, oh);
        double[] tmp = new double[h * ow], acc = new double[ow];
        for (int ch = 0; ch < C; ch++) {
            int base = ch * img.h() * W;
            for (int r = 0; r < h; r++) {
                int xr = base + (top + r) * W + left;
                for (int ox = 0; ox < ow; ox++) {
                    int s = xr + aw.start[ox], wb = ox * aw.maxLen, n = aw.len[ox];
                    double a = 0;
                    for (int j = 0; j < n; j++) a += aw.w[wb + j] * x[s + j];
                    tmp[r * ow + ox] = a;
                }
            }
            int yb = ch * oh * ow;
            for (int oy = 0; oy < oh; oy++) {
                int n = ah.len[oy], wb = oy * ah.maxLen, s = ah.start[oy];
                java.util.Arrays.fill(acc, 0.0);
                for (int j = 0; j < n; j++) {
                    double wv = ah.w[wb + j];
                    int tr = (s + j) * ow;
                    for (int ox = 0; ox < ow; ox++) acc[ox] += wv * tmp[tr + ox];
                }
                for (int ox = 0; ox < ow; ox++) {
                    float v = (float) acc[ox];
                    y[yb + oy * ow + ox] = clamp ? clamp01(v) : v;
                }
            }
        }
        return new Image(y, C, oh, ow);
    }

    /** Mirror left ↔ right. */
    public static Image hflip(Image img) {
        int C = img.c(), H = img.h(), W = img.w();
        float[] x = img.chw(), y = new float[x.length];
        for (int ch = 0; ch < C; ch++)
            for (int r = 0; r < H; r++) {
                int b = (ch * H + r) * W;
                for (int j = 0; j < W; j++) y[b + j] = x[b + W - 1 - j];
            }
        return new Image(y, C, H, W);
    }

    public static Image randomHFlip(Random rng, Image img, double p) {
        return apply(rng, p) ? hflip(img) : img;
    }

    // ------------------------------------------------------------------ photometric

    /** torchvision adjust_brightness: clamp(f·x). */
    public static Image adjustBrightness(Image img, double factor) {
        float[] x = img.chw(), y = new float[x.length];
        float f = (float) factor;
        for (int i = 0; i < x.length; i++) y[i] = clamp01(f * x[i]);
        return new Image(y, img.c(), img.h(), img.w());
    }

    /** torchvision adjust_contrast: clamp(f·x + (1−f)·mean(gray(x))), the mean over the whole image. */
    public static Image adjustContrast(Image img, double factor) {
        float[] g = luma(img);
        double sum = 0;
        for (float v : g) sum += v;
        return blend(img, (float) (sum / g.length), null, factor);
    }

    /** torchvision adjust_saturation: clamp(f·x + (1−f)·gray(x)); identity on 1-channel images. */
    public static Image adjustSaturation(Image img, double factor) {
        if (img.c() == 1) return img;
        return blend(img, 0f, luma(img), factor);
    }

    /**
     * torchvision adjust_hue (float tensor path): RGB → HSV, {@code h = (h + f) mod 1}, HSV → RGB;
     * {@code f ∈ [−0.5, 0.5]}; identity on 1-channel images.
     */
    public static Image adjustHue(Image img, double factor) {
        if (factor < -0.5 || factor > 0.5) throw new IllegalArgumentException("hue factor must be in [-0.5, 0.5], got " + factor);
        if (img.c() == 1) return img;
        requireRgb(img);
        int p = img.planeSize();
        float[] x = img.chw(), y = new float[x.length];
        float hf = (float) factor;
        for (int i = 0; i < p; i++) {
            float r = x[i], g = x[p + i], b = x[2 * p + i];
            float maxc = Math.max(r, Math.max(g, b)), minc = Math.min(r, Math.min(g, b));
            boolean eqc = maxc == minc;
            float cr = maxc - minc;
            float s = cr / (eqc ? 1f : maxc);
            float div = eqc ? 1f : cr;
            float rc = (maxc - r) / div, gc = (maxc - g) / div, bc = (maxc - b) / div;
            float hh;
            if (maxc == r) hh = bc - gc;
            else if (maxc == g) hh = 2f + rc - bc;
            else hh = 4f + gc - rc;
            float h = floorMod1(hh / 6f + 1f);   // torch.fmod(h/6 + 1, 1): argument > 0, so = floor-mod
            h = floorMod1(h + hf);               // (h + factor) % 1.0 (Python floor-mod)
            float v = maxc;
            float h6 = h * 6f;
            float fi = (float) Math.floor(h6);
            float f = h6 - fi;
            int sector = Math.floorMod((int) fi, 6);
            float pp = clamp01(v * (1f - s)), q = clamp01(v * (1f - s * f)), t = clamp01(v * (1f - s * (1f - f)));
            float ro, go, bo;
            switch (sector) {
                case 0 -> { ro = v; go = t; bo = pp; }
                case 1 -> { ro = q; go = v; bo = pp; }
                case 2 -> { ro = pp; go = v; bo = t; }
                case 3 -> { ro = pp; go = q; bo = v; }
                case 4 -> { ro = t; go = pp; bo = v; }
                default -> { ro = v; go = pp; bo = q; }
            }
            y[i] = ro;
            y[p + i] = go;
            y[2 * p + i] = bo;
        }
        return new Image(y, img.c(), img.h(), img.w());
    }

    /**
     * torchvision ColorJitter(brightness, contrast, saturation, hue): draws a random permutation of the
     * four ops, then the factors b ~ U(max(0,1−B), 1+B), c, s likewise, h ~ U(−H, H) (a strength of 0
     * disables that op and draws nothing for it), and applies the enabled ops in the permuted order.
     */
    public static Image colorJitter(Random rng, Image img, double brightness, double contrast, double saturation, double hue) {
        int[] order = {0, 1, 2, 3};
        for (int i = 3; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = order[i]; order[i] = order[j]; order[j] = t;
        }
        double bf = brightness > 0 ? uniform(rng, Math.max(0, 1 - brightness), 1 + brightness) : Double.NaN;
        double cf = contrast > 0 ? uniform(rng, Math.max(0, 1 - contrast), 1 + contrast) : Double.NaN;
        double sf = saturation > 0 ? uniform(rng, Math.max(0, 1 - saturation), 1 + saturation) : Double.NaN;
        double hf = hue > 0 ? uniform(rng, -hue, hue) : Double.NaN;
        Image out = img;
        for (int op : order) {
            switch (op) {
                case 0 -> { if (brightness > 0) out = adjustBrightness(out, bf); }
                case 1 -> { if (contrast > 0) out = adjustContrast(out, cf); }
                case 2 -> { if (saturation > 0) out = adjustSaturation(out, sf); }
                default -> { if (hue > 0) out = adjustHue(out, hf); }
            }
        }
        return out;
    }

    /** RandomApply([ColorJitter(...)], p). */
    public static Image randomColorJitter(Random rng, Image img, double p, double brightness, double contrast,
                                          double saturation, double hue) {
        return apply(rng, p) ? colorJitter(rng, img, brightness, contrast, saturation, hue) : img;
    }

    /** Grayscale with the same channel count: every channel = 0.299·R + 0.587·G + 0.114·B. */
    public static Image grayscale(Image img) {
        if (img.c() == 1) return img;
        float[] g = luma(img);
        int p = g.length;
        float[] y = new float[img.c() * p];
        for (int k = 0; k < img.c(); k++) System.arraycopy(g, 0, y, k * p, p);
        return new Image(y, img.c(), img.h(), img.w());
    }

    public static Image randomGrayscale(Random rng, Image img, double p) {
        return apply(rng, p) ? grayscale(img) : img;
    }

    /**
     * torchvision gaussian_blur: separable kernel {@code exp(−x²/(2σ²))} on {@code x = linspace(−(k−1)/2,
     * (k−1)/2, k)}, normalised, reflect padding (edge pixel not repeated), same σ on both axes.
     */
    public static Image gaussianBlur(Image img, int kernelSize, double sigma) {
        if (kernelSize <= 0 || kernelSize % 2 == 0) throw new IllegalArgumentException("kernel size must be odd and positive, got " + kernelSize);
        if (!(sigma > 0)) throw new IllegalArgumentException("sigma must be > 0, got " + sigma);
        double[] k = gaussianKernel(kernelSize, sigma);
        int half = kernelSize / 2, C = img.c(), H = img.h(), W = img.w();
        float[] x = img.chw(), y = new float[x.length];
        double[] tmp = new double[H * W], acc = new double[W];
        float[] pad = new float[W + 2 * half];
        int[] colIdx = new int[W + 2 * half], rowIdx = new int[H + 2 * half];
        for (int i = 0; i < colIdx.length; i++) colIdx[i] = reflect(i - half, W);
        for (int i = 0; i < rowIdx.length; i++) rowIdx[i] = reflect(i - half, H);
        for (int ch = 0; ch < C; ch++) {
            int b = ch * H * W;
            for (int r = 0; r < H; r++) {
                int xr = b + r * W;
                for (int c = 0; c < W; c++) pad[half + c] = x[xr + c];
                for (int c = 0; c < half; c++) { pad[c] = x[xr + colIdx[c]]; pad[half + W + c] = x[xr + colIdx[half + W + c]]; }
                for (int c = 0; c < W; c++) {
                    double a = 0;
                    for (int j = 0; j < kernelSize; j++) a += k[j] * pad[c + j];
                    tmp[r * W + c] = a;
                }
            }
            for (int r = 0; r < H; r++) {
                java.util.Arrays.fill(acc, 0.0);
                for (int j = 0; j < kernelSize; j++) {
                    double kj = k[j];
                    int tr = rowIdx[r + j] * W;
                    for (int c = 0; c < W; c++) acc[c] += kj * tmp[tr + c];
                }
                for (int c = 0; c < W; c++) y[b + r * W + c] = clamp01((float) acc[c]);
            }
        }
        return new Image(y, C, H, W);
    }

    static double[] gaussianKernel(int kernelSize, double sigma) {
        double half = (kernelSize - 1) * 0.5, sum = 0;
        double[] k = new double[kernelSize];
        for (int i = 0; i < kernelSize; i++) {
            double xi = kernelSize == 1 ? 0 : -half + i * (2 * half) / (kernelSize - 1);
            k[i] = Math.exp(-0.5 * (xi / sigma) * (xi / sigma));
            sum += k[i];
        }
        for (int i = 0; i < kernelSize; i++) k[i] /= sum;
        return k;
    }

    /** Reflect index (no edge repeat), folding repeatedly when the pad exceeds the size. */
    static int reflect(int i, int n) {
        if (n == 1) return 0;
        int period = 2 * (n - 1);
        i = Math.floorMod(i, period);
        return i < n ? i : period - i;
    }

    /** RandomApply(GaussianBlur(kernel, σ ~ U(sigmaMin, sigmaMax)), p). */
    public static Image randomGaussianBlur(Random rng, Image img, double p, int kernelSize, double sigmaMin, double sigmaMax) {
        if (!apply(rng, p)) return img;
        return gaussianBlur(img, kernelSize, uniform(rng, sigmaMin, sigmaMax));
    }

    /** Solarize: x ≥ threshold → 1 − x (threshold 0.5 ≈ 128/255 on 8-bit values). */
    public static Image solarize(Image img, double threshold) {
        float[] x = img.chw(), y = new float[x.length];
        for (int i = 0; i < x.length; i++) y[i] = x[i] >= threshold ? 1f - x[i] : x[i];
        return new Image(y, img.c(), img.h(), img.w());
    }

    public static Image randomSolarize(Random rng, Image img, double p, double threshold) {
        return apply(rng, p) ? solarize(img, threshold) : img;
    }

    /** (x − mean[c]) / std[c] per channel (no clamping). */
    public static Image normalize(Image img, float[] mean, float[] std) {
        if (mean.length != img.c() || std.length != img.c())
            throw new IllegalArgumentException("mean/std have " + mean.length + "/" + std.length + " entries for a " + img.c() + "-channel image");
        int p = img.planeSize();
        float[] x = img.chw(), y = new float[x.length];
        for (int ch = 0; ch < img.c(); ch++) {
            float m = mean[ch], inv = 1f / std[ch];
            for (int i = ch * p; i < (ch + 1) * p; i++) y[i] = (x[i] - m) * inv;
        }
        return new Image(y, img.c(), img.h(), img.w());
    }

    // ------------------------------------------------------------------ helpers

    /** RandomApply decision: draws one uniform, true iff it is below p. */
    public static boolean apply(Random rng, double p) { return rng.nextDouble() < p; }

    static double uniform(Random rng, double lo, double hi) { return lo + (hi - lo) * rng.nextDouble(); }

    static float clamp01(float v) { return v < 0f ? 0f : (v > 1f ? 1f : v); }

    /** v − floor(v) (exact in float for |v| < 2²³). */
    private static float floorMod1(float v) { return v - (float) Math.floor(v); }

    private static void requireRgb(Image img) {
        if (img.c() != 3) throw new IllegalArgumentException("expected a 3-channel RGB image, got " + img.c() + " channels");
    }

    /** Luma plane 0.299 R + 0.587 G + 0.114 B (the plane itself for 1-channel images). */
    static float[] luma(Image img) {
        int p = img.planeSize();
        float[] x = img.chw();
        if (img.c() == 1) return x.clone();
        requireRgb(img);
        float[] g = new float[p];
        for (int i = 0; i < p; i++) g[i] = GRAY_R * x[i] + GRAY_G * x[p + i] + GRAY_B * x[2 * p + i];
        return g;
    }

    /** clamp(f·x + (1−f)·other), other = scalar (when plane is null) or a per-pixel plane shared by all channels. */
    private static Image blend(Image img, float scalar, float[] plane, double factor) {
        float f = (float) factor, g = 1f - f;
        int p = img.planeSize();
        float[] x = img.chw(), y = new float[x.length];
        for (int ch = 0; ch < img.c(); ch++)
            for (int i = 0; i < p; i++) {
                float o = plane == null ? scalar : plane[i];
                y[ch * p + i] = clamp01(f * x[ch * p + i] + g * o);
            }
        return new Image(y, img.c(), img.h(), img.w());
    }
}
