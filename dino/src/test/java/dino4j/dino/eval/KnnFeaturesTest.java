package dino4j.dino.eval;

import dino4j.autograd.Var;
import dino4j.dino.model.Features;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class KnnFeaturesTest {
    // two images, D = 2, three patch tokens each
    private static final Features F = new Features(
            Var.constant(Tensor.of(new float[]{3, 4, 0, 2}, 2, 2)), null,
            Var.constant(Tensor.of(new float[]{1, 0, 2, 0, 3, 3, /* image 2 */ 0, -3, 0, 0, 0, 0}, 2, 3, 2)), null, 1, 3);

    @Test
    void eachChoiceWritesItsVector() {
        float[] cls = new float[4], pm = new float[4], both = new float[8];
        KnnFeatures.CLS.write(F, cls, 0);
        KnnFeatures.PATCH_MEAN.write(F, pm, 0);
        KnnFeatures.CLS_PATCH_MEAN.write(F, both, 0);
        assertArrayEquals(new float[]{3, 4, 0, 2}, cls);
        assertArrayEquals(new float[]{2, 1, 0, -1}, pm, 1e-6f);
        float s5 = (float) Math.sqrt(5);
        assertArrayEquals(new float[]{0.6f, 0.8f, 2 / s5, 1 / s5, 0, 1, 0, -1}, both, 1e-6f);
        assertEquals(4, KnnFeatures.CLS_PATCH_MEAN.width(2));
    }

    @Test
    void writesFromTheGivenRowAndParsesTheCommandLineNames() {
        float[] out = new float[6];
        KnnFeatures.CLS.write(F, out, 1);
        assertArrayEquals(new float[]{0, 0, 3, 4, 0, 2}, out);
        for (KnnFeatures f : KnnFeatures.values()) assertEquals(f, KnnFeatures.parse("--features", f.cliName));
        var e = assertThrows(IllegalArgumentException.class, () -> KnnFeatures.parse("--features", "avg"));
        assertTrue(e.getMessage().contains("--features") && e.getMessage().contains("avg"));
    }
}
