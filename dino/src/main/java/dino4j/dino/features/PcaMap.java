package dino4j.dino.features;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.Image;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Features;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * PCA visualisation of dense features (§7): the image is resized to a fixed height (width proportional, both
 * multiples of the patch size), the last-layer normed patch tokens are reduced to 3 whitened principal components,
 * and RGB = sigmoid(2·projection) per patch with background patches black. Foreground (optional): patches whose
 * first principal component, fitted on all patches and min-max scaled to [0, 1], exceeds a threshold (the DINOv2
 * demos' rule; the official DINOv3 notebook uses a trained linear classifier instead). An optional query patch adds
 * its cosine-similarity map against all patches.
 */
public final class PcaMap {
    private PcaMap() {}

    /** Options: {@code fgThreshold} null = every patch is foreground; {@code fgInvert} flips the PC1 sign; {@code query} null or {x, y} in original pixels. */
    public record Options(int height, Preprocess.MeanStd meanStd, Double fgThreshold, boolean fgInvert, int[] query) {}

    /**
     * @param image     the resized input (not normalised), H×W
     * @param rgb       per-patch RGB in [0, 1], [gridH·gridW][3], zero on background
     * @param fg        per-patch foreground flags
     * @param pc1       PC1 of all patches, min-max scaled to [0, 1] (null without a threshold)
     * @param cosine    cosine similarity of every patch to the query patch (null without a query)
     * @param queryPatch index (row-major) of the query patch, -1 without a query
     */
    public record Result(Image image, int gridH, int gridW, double[][] rgb, boolean[] fg, double[] pc1, double[] cosine, int queryPatch,
                         double[] variances) {
        public int patches() { return gridH * gridW; }
        public int foreground() { int n = 0; for (boolean b : fg) if (b) n++; return n; }
    }

    /** Runs the model on {@code original} and computes the maps. */
    public static Result compute(Backbone model, Image original, Options o) {
        Image img = Preprocess.resizeToHeight(original.toChannels(3), o.height(), model.patchSize());
        Features f;
        try (var g = Grad.noGrad()) {
            f = model.forwardFeatures(Var.constant(Preprocess.toBatch(List.of(img), o.meanStd())));
        }
        int gh = f.gridH(), gw = f.gridW(), n = gh * gw, d = model.embedDim();
        Tensor tokens = f.patchTokens().data().to(DType.F32).contiguous().reshape(n, d);
        if (n < 4) throw new IllegalArgumentException("only " + n + " patches at height " + o.height() + ": too few for a 3-component PCA");

        boolean[] fg = new boolean[n];
        java.util.Arrays.fill(fg, true);
        double[] pc1 = null;
        if (o.fgThreshold() != null) {
            Pca first = Pca.fit(tokens, 1, null);
            double[][] p = first.project(tokens, false);
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (double[] r : p) { lo = Math.min(lo, r[0]); hi = Math.max(hi, r[0]); }
            pc1 = new double[n];
            int count = 0;
            for (int i = 0; i < n; i++) {
                double v = hi > lo ? (p[i][0] - lo) / (hi - lo) : 0.5;
                pc1[i] = o.fgInvert() ? 1 - v : v;
                fg[i] = pc1[i] > o.fgThreshold();
                if (fg[i]) count++;
            }
            if (count < 4) throw new IllegalArgumentException("--fg-threshold " + o.fgThreshold() + " leaves " + count
                    + " foreground patches of " + n + " (need ≥ 4): lower it" + (o.fgInvert() ? "" : " or try --fg-invert"));
        }
        Pca pca = Pca.fit(tokens, 3, o.fgThreshold() != null ? fg : null);
        double[][] proj = pca.project(tokens, true);
        double[][] rgb = new double[n][3];
        for (int i = 0; i < n; i++)
            if (fg[i]) for (int c = 0; c < 3; c++) rgb[i][c] = 1 / (1 + Math.exp(-2 * proj[i][c]));

        double[] cosine = null;
        int q = -1;
        if (o.query() != null) {
            int qx = o.query()[0], qy = o.query()[1];
            if (qx < 0 || qy < 0 || qx >= original.w() || qy >= original.h())
                throw new IllegalArgumentException("--query " + qx + "," + qy + " is outside the " + original.w() + "x" + original.h() + " image");
            // original pixel → resized pixel (the resize stretches the whole image) → token cell
            double rx = (qx + 0.5) * img.w() / original.w(), ry = (qy + 0.5) * img.h() / original.h();
            int px = Math.min(gw - 1, (int) (rx * gw / img.w())), py = Math.min(gh - 1, (int) (ry * gh / img.h()));
            q = py * gw + px;
            cosine = cosine(tokens.f32(), tokens.offset(), n, d, q);
        }
        return new Result(img, gh, gw, rgb, fg, pc1, cosine, q, pca.variances.clone());
    }

    static double[] cosine(float[] x, int off, int n, int d, int q) {
        double[] norms = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) { double v = x[off + i * d + j]; s += v * v; }
            norms[i] = Math.sqrt(s);
        }
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += (double) x[off + i * d + j] * x[off + q * d + j];
            out[i] = s / Math.max(norms[i] * norms[q], 1e-12);
        }
        out[q] = 1.0;   // exactly, whatever the rounding
        return out;
    }

    /** The picture: resized image | PCA map | (cosine map with the query patch outlined, when queried). */
    public static BufferedImage render(Result r) {
        int h = r.image().h(), w = r.image().w(), n = r.patches();
        int[] cols = new int[n];
        for (int i = 0; i < n; i++) cols[i] = FeatureImages.rgb(r.rgb()[i][0], r.rgb()[i][1], r.rgb()[i][2]);
        BufferedImage left = FeatureImages.toBufferedImage(r.image());
        BufferedImage map = FeatureImages.upsampleNearest(cols, r.gridH(), r.gridW(), h, w);
        if (r.cosine() == null) return FeatureImages.hconcat(left, map);
        double lo = Double.POSITIVE_INFINITY;
        for (double c : r.cosine()) lo = Math.min(lo, c);
        int[] heat = new int[n];
        for (int i = 0; i < n; i++) heat[i] = FeatureImages.viridis(lo < 1 ? (r.cosine()[i] - lo) / (1 - lo) : 1);
        BufferedImage sim = FeatureImages.upsampleNearest(heat, r.gridH(), r.gridW(), h, w);
        int qy = r.queryPatch() / r.gridW(), qx = r.queryPatch() % r.gridW();
        int x0 = (int) ((long) qx * w / r.gridW()), x1 = (int) ((long) (qx + 1) * w / r.gridW());
        int y0 = (int) ((long) qy * h / r.gridH()), y1 = (int) ((long) (qy + 1) * h / r.gridH());
        FeatureImages.outline(sim, x0, y0, x1, y1, 0xFF2020);
        FeatureImages.outline(left, x0, y0, x1, y1, 0xFF2020);
        return FeatureImages.hconcat(left, map, sim);
    }
}
