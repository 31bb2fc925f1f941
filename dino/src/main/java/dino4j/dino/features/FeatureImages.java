package dino4j.dino.features;

import dino4j.dino.data.Image;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

/** Small helpers to turn images, per-patch colours and scalar maps into RGB pictures and PNG files. */
public final class FeatureImages {
    private FeatureImages() {}

    /** A float [0, 1] 3-channel image as an sRGB picture. */
    public static BufferedImage toBufferedImage(Image img) {
        Image im = img.toChannels(3);
        int h = im.h(), w = im.w(), p = h * w;
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                bi.setRGB(x, y, rgb(im.chw()[i], im.chw()[p + i], im.chw()[2 * p + i]));
            }
        return bi;
    }

    /** Packs r, g, b in [0, 1] (clamped) into 0xRRGGBB. */
    public static int rgb(double r, double g, double b) {
        return (byte8(r) << 16) | (byte8(g) << 8) | byte8(b);
    }

    private static int byte8(double v) {
        if (!(v > 0)) return 0;   // also NaN
        return (int) Math.round(Math.min(1, v) * 255);
    }

    /**
     * Per-patch colours [gridH·gridW] (0xRRGGBB, row-major) nearest-upsampled to height × width: pixel (y, x) takes
     * patch (⌊y·gridH/height⌋, ⌊x·gridW/width⌋).
     */
    public static BufferedImage upsampleNearest(int[] patchRgb, int gridH, int gridW, int height, int width) {
        if (patchRgb.length != gridH * gridW) throw new IllegalArgumentException("need " + gridH * gridW + " patch colours, got " + patchRgb.length);
        BufferedImage bi = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < height; y++) {
            int py = Math.min(gridH - 1, (int) ((long) y * gridH / height));
            for (int x = 0; x < width; x++) {
                int px = Math.min(gridW - 1, (int) ((long) x * gridW / width));
                bi.setRGB(x, y, patchRgb[py * gridW + px]);
            }
        }
        return bi;
    }

    // viridis at 0, .25, .5, .75, 1 (matplotlib), linearly interpolated
    private static final double[][] VIRIDIS = {
            {0.267, 0.005, 0.329}, {0.229, 0.322, 0.546}, {0.128, 0.567, 0.551}, {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144}};

    /** A viridis-like colour for t in [0, 1] (clamped). */
    public static int viridis(double t) {
        if (!(t >= 0)) t = 0;
        if (t > 1) t = 1;
        double s = t * (VIRIDIS.length - 1);
        int i = Math.min(VIRIDIS.length - 2, (int) s);
        double f = s - i;
        double[] a = VIRIDIS[i], b = VIRIDIS[i + 1];
        return rgb(a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1]), a[2] + f * (b[2] - a[2]));
    }

    /** Draws a rectangle outline (2 px wide when it fits) inside [x0, x1) × [y0, y1). */
    public static void outline(BufferedImage bi, int x0, int y0, int x1, int y1, int rgb) {
        int t = Math.min(2, Math.max(1, Math.min(x1 - x0, y1 - y0) / 4));
        for (int y = Math.max(0, y0); y < Math.min(bi.getHeight(), y1); y++)
            for (int x = Math.max(0, x0); x < Math.min(bi.getWidth(), x1); x++)
                if (x < x0 + t || x >= x1 - t || y < y0 + t || y >= y1 - t) bi.setRGB(x, y, rgb);
    }

    /** The pictures side by side (top-aligned, black where a panel is shorter). */
    public static BufferedImage hconcat(BufferedImage... panels) {
        int w = 0, h = 0;
        for (BufferedImage p : panels) { w += p.getWidth(); h = Math.max(h, p.getHeight()); }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        var g = out.createGraphics();
        int x = 0;
        for (BufferedImage p : panels) { g.drawImage(p, x, 0, null); x += p.getWidth(); }
        g.dispose();
        return out;
    }

    /** Writes a PNG atomically (temp file + move); creates the parent folder. */
    public static void writePng(BufferedImage bi, Path out) throws IOException {
        dino4j.tensor.io.AtomicFile.write(out, os -> {
            if (!ImageIO.write(bi, "png", os)) throw new IOException("no PNG writer available");
        });
    }
}
