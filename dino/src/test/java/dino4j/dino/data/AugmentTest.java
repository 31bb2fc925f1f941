package dino4j.dino.data;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class AugmentTest {
    static Image randomImage(Random r, int c, int h, int w) {
        float[] x = new float[c * h * w];
        for (int i = 0; i < x.length; i++) x[i] = r.nextFloat();
        return new Image(x, c, h, w);
    }

    @Test void randomResizedCropRespectsScaleAndRatio() {
        Random r = new Random(1);
        int H = 800, W = 1000;
        double[][] scales = {{0.05, 0.32}, {0.32, 1.0}};
        for (double[] s : scales)
            for (int t = 0; t < 2000; t++) {
                Augment.Crop c = Augment.randomResizedCropParams(r, H, W, s[0], s[1], 0.75, 4.0 / 3);
                assertTrue(c.top() >= 0 && c.left() >= 0 && c.top() + c.height() <= H && c.left() + c.width() <= W, c.toString());
                double frac = (double) c.height() * c.width() / (H * W);
                assertTrue(frac >= s[0] * 0.98 && frac <= s[1] * 1.02, "area fraction " + frac + " for " + c);
                double ar = (double) c.width() / c.height();
                assertTrue(ar >= 0.75 * 0.99 && ar <= 4.0 / 3 * 1.01, "ratio " + ar);
            }
        // fallback: no attempt fits a very wide image at scale ≈ 1 → centre crop with ratio clamped to 4/3
        Augment.Crop c = Augment.randomResizedCropParams(new Random(2), 50, 400, 0.99, 1.0, 0.75, 4.0 / 3);
        assertEquals(new Augment.Crop(0, (400 - 67) / 2, 50, 67), c);
        // ratio in range, scale 1 → whole image
        assertEquals(new Augment.Crop(0, 0, 28, 28), Augment.randomResizedCropParams(new Random(3), 28, 28, 1.0, 1.0, 0.75, 4.0 / 3));
    }

    @Test void randomResizedCropOutputSizeAndResizeSemantics() {
        Random r = new Random(4);
        Image img = randomImage(r, 3, 28, 28);
        for (int size : new int[]{16, 32, 224}) {
            Image out = Augment.randomResizedCrop(r, img, size, 0.05, 1.0);
            assertEquals(3, out.c());
            assertEquals(size, out.h());
            assertEquals(size, out.w());
            for (float v : out.chw()) assertTrue(v >= 0 && v <= 1);
        }
        // same-size crop is an exact copy; constant image stays constant through the bicubic resize
        Image id = Augment.resizedCrop(img, new Augment.Crop(0, 0, 28, 28), 28, 28);
        assertArrayEquals(img.chw(), id.chw());
        float[] k = new float[3 * 20 * 30];
        java.util.Arrays.fill(k, 0.3f);
        Image cst = Augment.resizedCrop(new Image(k, 3, 20, 30), new Augment.Crop(2, 3, 11, 17), 32, 32);
        for (float v : cst.chw()) assertEquals(0.3f, v, 1e-6f);
        // sub-window: cropping then resizing a window equals resizing the copied window
        Augment.Crop c = new Augment.Crop(5, 7, 12, 9);
        float[] win = new float[3 * 12 * 9];
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 12; y++)
                for (int x = 0; x < 9; x++) win[(ch * 12 + y) * 9 + x] = img.get(ch, 5 + y, 7 + x);
        assertArrayEquals(Augment.resize(new Image(win, 3, 12, 9), 16, 16).chw(), Augment.resizedCrop(img, c, 16, 16).chw(), 0f);
    }

    @Test void flipTwiceIsIdentity() {
        Image img = randomImage(new Random(5), 3, 7, 9);
        Image f = Augment.hflip(img);
        assertEquals(img.get(1, 2, 0), f.get(1, 2, 8));
        assertArrayEquals(img.chw(), Augment.hflip(f).chw());
        assertSame(img, Augment.randomHFlip(new Random(0), img, 0.0));
        assertArrayEquals(f.chw(), Augment.randomHFlip(new Random(0), img, 1.0).chw());
    }

    @Test void zeroStrengthJitterIsIdentity() {
        Image img = randomImage(new Random(6), 3, 8, 8);
        for (int s = 0; s < 10; s++)
            assertArrayEquals(img.chw(), Augment.colorJitter(new Random(s), img, 0, 0, 0, 0).chw());
        assertArrayEquals(img.chw(), Augment.adjustBrightness(img, 1).chw());
        assertArrayEquals(img.chw(), Augment.adjustContrast(img, 1).chw(), 1e-6f);
        assertArrayEquals(img.chw(), Augment.adjustSaturation(img, 1).chw(), 1e-6f);
        assertArrayEquals(img.chw(), Augment.adjustHue(img, 0).chw(), 2e-6f);
    }

    @Test void jitterFormulas() {
        Image px = new Image(new float[]{1f, 0f, 0f}, 3, 1, 1); // pure red
        Image g = Augment.adjustHue(px, 1.0 / 3);          // → pure green
        assertArrayEquals(new float[]{0f, 1f, 0f}, g.chw(), 1e-6f);
        assertArrayEquals(new float[]{0f, 0f, 1f}, Augment.adjustHue(px, -1.0 / 3).chw(), 1e-6f);
        Image half = Augment.adjustBrightness(new Image(new float[]{0.2f, 0.6f, 0.8f}, 3, 1, 1), 1.5);
        assertArrayEquals(new float[]{0.3f, 0.9f, 1f}, half.chw(), 1e-6f);
        // saturation 0 = grayscale; contrast 0 = the mean grey level everywhere
        Image img = randomImage(new Random(7), 3, 4, 4);
        assertArrayEquals(Augment.grayscale(img).chw(), Augment.adjustSaturation(img, 0).chw(), 1e-6f);
        float[] l = Augment.luma(img);
        double m = 0;
        for (float v : l) m += v;
        m /= l.length;
        for (float v : Augment.adjustContrast(img, 0).chw()) assertEquals(m, v, 1e-6);
        // random jitter stays in [0,1] and changes the image
        Image j = Augment.colorJitter(new Random(8), img, 0.4, 0.4, 0.2, 0.1);
        for (float v : j.chw()) assertTrue(v >= 0 && v <= 1);
        assertFalse(java.util.Arrays.equals(img.chw(), j.chw()));
    }

    @Test void grayscaleWeights() {
        Image img = new Image(new float[]{1f, 0f, 0f, 0.5f, 0f, 1f, 0f, 0.25f, 0f, 0f, 1f, 1f}, 3, 2, 2);
        Image g = Augment.grayscale(img);
        float[] expect = {0.299f, 0.587f, 0.114f, 0.299f * 0.5f + 0.587f * 0.25f + 0.114f};
        for (int ch = 0; ch < 3; ch++)
            for (int i = 0; i < 4; i++) assertEquals(expect[i], g.chw()[ch * 4 + i], 1e-6f);
        assertSame(img, Augment.randomGrayscale(new Random(1), img, 0));
    }

    @Test void solarizeAndNormalize() {
        Image img = new Image(new float[]{0.2f, 0.5f, 0.7f}, 1, 1, 3);
        assertArrayEquals(new float[]{0.2f, 0.5f, 0.3f}, Augment.solarize(img, 0.5).chw(), 1e-7f);
        Image rgb = new Image(new float[]{0.485f, 1f, 0.456f, 0f, 0.406f, 0.5f}, 3, 1, 2);
        Image n = Augment.normalize(rgb, new float[]{0.485f, 0.456f, 0.406f}, new float[]{0.229f, 0.224f, 0.225f});
        assertArrayEquals(new float[]{0f, (1 - 0.485f) / 0.229f, 0f, -0.456f / 0.224f, 0f, (0.5f - 0.406f) / 0.225f}, n.chw(), 1e-5f);
    }

    @Test void gaussianBlur() {
        float[] k = new float[3 * 10 * 10];
        java.util.Arrays.fill(k, 0.4f);
        for (float v : Augment.gaussianBlur(new Image(k, 3, 10, 10), 9, 1.5).chw()) assertEquals(0.4f, v, 1e-6f);
        float[] imp = new float[11 * 11];
        imp[5 * 11 + 5] = 1f;
        Image b = Augment.gaussianBlur(new Image(imp, 1, 11, 11), 9, 1.0);
        double sum = 0;
        for (float v : b.chw()) sum += v;
        assertEquals(1.0, sum, 1e-5);
        assertEquals(b.get(0, 5, 3), b.get(0, 5, 7), 1e-7);
        assertEquals(b.get(0, 3, 5), b.get(0, 5, 3), 1e-7);
        double[] ker = Augment.gaussianKernel(9, 1.0);
        assertEquals(ker[4] * ker[4], b.get(0, 5, 5), 1e-6);
        assertEquals(2, Augment.reflect(-2, 5));
        assertEquals(2, Augment.reflect(6, 5));
        // works on crops smaller than the kernel (reflection folds repeatedly)
        assertEquals(9, Augment.gaussianBlur(randomImage(new Random(1), 1, 3, 3), 9, 2.0).chw().length);
    }
}
