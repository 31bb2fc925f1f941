package dino4j.dino.eval;

import dino4j.autograd.Var;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class PixelBaselineTest {
    @Test
    void theFeaturesAreTheImagesValuesAndClsEqualsThePatch() {
        int b = 2, s = 3;
        Random r = new Random(1);
        float[] img = new float[b * 3 * s * s];
        for (int i = 0; i < img.length; i++) img[i] = r.nextFloat();
        PixelBaseline p = new PixelBaseline(s);
        var f = p.forwardFeatures(Var.constant(Tensor.of(img, b, 3, s, s)));
        assertArrayEquals(new int[]{b, 27}, f.clsToken().data().shape());
        assertArrayEquals(img, f.clsToken().data().contiguous().f32());
        assertArrayEquals(new int[]{b, 1, 27}, f.patchTokens().data().shape());
        assertEquals(27, p.embedDim());
        for (KnnFeatures kf : KnnFeatures.values()) {   // every probe feature reads the pixels (cls+patch-mean: twice, each unit length)
            float[] out = new float[b * kf.width(p.embedDim())];
            kf.write(f, out, 0);
            if (kf != KnnFeatures.CLS_PATCH_MEAN) for (int i = 0; i < img.length; i++) assertEquals(img[i], out[i], 1e-6);
        }
        assertThrows(IllegalArgumentException.class, () -> p.forwardFeatures(Var.constant(Tensor.of(new float[3 * 16], 1, 3, 4, 4))));
    }
}
