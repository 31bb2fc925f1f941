package dino4j.dino.data;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class MultiCropConfigTest {
    @Test
    void eachWitherChangesOnlyItsOwnSettings() {
        MultiCrop.Config a = MultiCrop.Config.dinov3(32, 16, 4);
        MultiCrop.Config b = a.withRatios(0.5, 2.0);
        assertEquals(0.5, b.ratioMin());
        assertEquals(2.0, b.ratioMax());
        assertEquals(a, b.withRatios(a.ratioMin(), a.ratioMax()), "back to the original: nothing else moved");
        assertEquals(a, a.withScales(0.6, 1, 0.1, 0.3).withScales(a.globalScaleMin(), a.globalScaleMax(), a.localScaleMin(), a.localScaleMax()));
        assertEquals(a, a.withSolarize(0, 0.3).withSolarize(a.solarizeP(), a.solarizeThreshold()));
        assertEquals(a, a.withFlipP(0).withFlipP(a.flipP()));
        assertEquals(a, a.withSizes(64, 32, 2).withSizes(32, 16, 4));
        assertEquals(a, a.withColor(0, 0, 0, 0, 0, 0).withColor(a.jitterP(), a.brightness(), a.contrast(), a.saturation(), a.hue(), a.grayscaleP()));
        assertEquals(a, a.withBlur(3, 1, 1, 1, 1, 1).withBlur(a.blurKernel(), a.blurSigmaMin(), a.blurSigmaMax(), a.blurGlobal1P(), a.blurGlobal2P(), a.blurLocalP()));
        assertThrows(IllegalArgumentException.class, () -> a.withRatios(1.5, 1.0));
        assertThrows(IllegalArgumentException.class, () -> a.withRatios(0, 1.0));
    }
}
