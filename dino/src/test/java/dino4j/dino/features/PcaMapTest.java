package dino4j.dino.features;

import dino4j.dino.data.Image;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Checkpoints;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.awt.image.BufferedImage;
import java.io.IOException;

import static org.junit.jupiter.api.Assertions.*;

class PcaMapTest {
    static Backbone vit;

    @BeforeAll
    static void load() throws IOException {
        vit = Checkpoints.loadBackbone(TestImages.golden("vit_tiny_weights.safetensors"), null);
    }

    @Test
    void sizesAndColours() {
        Image img = TestImages.image(150, 100, 3);                  // → 64 × floor(150·64/(100·16))·16 = 64 × 96
        PcaMap.Result r = PcaMap.compute(vit, img, new PcaMap.Options(64, Preprocess.MeanStd.LVD, null, false, null));
        assertEquals(64, r.image().h());
        assertEquals(96, r.image().w());
        assertEquals(4, r.gridH());
        assertEquals(6, r.gridW());
        assertEquals(24, r.foreground());
        for (double[] c : r.rgb()) for (double v : c) assertTrue(v > 0 && v < 1, "sigmoid colour in (0,1): " + v);
        BufferedImage pic = PcaMap.render(r);
        assertEquals(2 * 96, pic.getWidth());
        assertEquals(64, pic.getHeight());
        // the map panel shows patch (1, 2) nearest-upsampled: pixel (96 + 2·16 + 5, 1·16 + 9)
        int expect = FeatureImages.rgb(r.rgb()[8][0], r.rgb()[8][1], r.rgb()[8][2]);
        assertEquals(expect, pic.getRGB(96 + 2 * 16 + 5, 16 + 9) & 0xFFFFFF);
        // the left panel is the resized image
        assertEquals(FeatureImages.rgb(r.image().get(0, 3, 4), r.image().get(1, 3, 4), r.image().get(2, 3, 4)), pic.getRGB(4, 3) & 0xFFFFFF);
    }

    @Test
    void foregroundThresholdBlacksOutBackground() {
        Image img = TestImages.image(128, 128, 4);
        PcaMap.Result r = PcaMap.compute(vit, img, new PcaMap.Options(96, Preprocess.MeanStd.LVD, 0.3, false, null));
        assertEquals(36, r.patches());
        int fg = r.foreground();
        assertTrue(fg >= 4 && fg < 36, "some background: " + fg);
        for (int i = 0; i < r.patches(); i++) {
            assertEquals(r.fg()[i], r.pc1()[i] > 0.3);
            for (double v : r.rgb()[i]) assertTrue(r.fg()[i] ? v > 0 && v < 1 : v == 0);
        }
        PcaMap.Result inv = PcaMap.compute(vit, img, new PcaMap.Options(96, Preprocess.MeanStd.LVD, 0.5, true, null));
        for (int i = 0; i < r.patches(); i++) assertEquals(1 - r.pc1()[i], inv.pc1()[i], 1e-9);
    }

    @Test
    void queryMapPeaksAtTheQueryPatch() {
        Image img = TestImages.image(200, 100, 5);                  // → 64 × 128: 4 × 8 patches; x scale 0.64
        int qx = 130, qy = 40;                                      // → resized (83.5, 25.9) → patch (row 1, col 5)
        PcaMap.Result r = PcaMap.compute(vit, img, new PcaMap.Options(64, Preprocess.MeanStd.LVD, null, false, new int[]{qx, qy}));
        assertEquals(8, r.gridW());
        assertEquals(8 + 5, r.queryPatch());
        double max = Double.NEGATIVE_INFINITY;
        int arg = -1;
        for (int i = 0; i < r.patches(); i++) {
            assertTrue(r.cosine()[i] <= 1 + 1e-9 && r.cosine()[i] >= -1 - 1e-9);
            if (r.cosine()[i] > max) { max = r.cosine()[i]; arg = i; }
        }
        assertEquals(r.queryPatch(), arg);
        assertEquals(1.0, max, 1e-12);
        BufferedImage pic = PcaMap.render(r);
        assertEquals(3 * 128, pic.getWidth());
        assertEquals(0xFF2020, pic.getRGB(2 * 128 + 5 * 16, 16) & 0xFFFFFF, "query patch outlined");
        assertEquals(FeatureImages.viridis(1.0), pic.getRGB(2 * 128 + 5 * 16 + 8, 16 + 8) & 0xFFFFFF, "query patch is the top of the ramp");
        assertThrows(IllegalArgumentException.class,
                () -> PcaMap.compute(vit, img, new PcaMap.Options(64, Preprocess.MeanStd.LVD, null, false, new int[]{200, 0})));
    }

    @Test
    void heightRules() {
        assertThrows(IllegalArgumentException.class, () -> Preprocess.resizeToHeight(TestImages.image(50, 50, 1), 50, 16));
        Image r = Preprocess.resizeToHeight(TestImages.image(1000, 300, 1), 48, 16);
        assertEquals(48, r.h());
        assertEquals(160, r.w());                                   // floor(1000·48/(300·16)) = 10 patches
        assertThrows(IllegalArgumentException.class, () -> Preprocess.resizeToHeight(TestImages.image(10, 300, 1), 48, 16));
    }

    @Test
    void viridisRampEnds() {
        assertEquals(FeatureImages.rgb(0.267, 0.005, 0.329), FeatureImages.viridis(0));
        assertEquals(FeatureImages.rgb(0.993, 0.906, 0.144), FeatureImages.viridis(1));
        assertEquals(FeatureImages.viridis(1), FeatureImages.viridis(7));
    }
}
