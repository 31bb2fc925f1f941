package dino4j.dino.eval;

import dino4j.autograd.Var;
import dino4j.dino.features.Preprocess;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class PixelBaselineTest {
    @Test
    void undoesTheNormalisationAndGivesTheSamePixelsAsClsAndPatch() {
        var ms = Preprocess.MeanStd.LVD;
        int b = 2, s = 3, hw = s * s;
        Random r = new Random(1);
        float[] raw = new float[b * 3 * hw], norm = new float[raw.length];
        for (int i = 0; i < raw.length; i++) {
            int c = (i / hw) % 3;
            raw[i] = r.nextFloat();
            norm[i] = (raw[i] - ms.mean()[c]) / ms.std()[c];
        }
        PixelBaseline p = new PixelBaseline(s, ms.mean(), ms.std());
        var f = p.forwardFeatures(Var.constant(Tensor.of(norm, b, 3, s, s)));
        float[] cls = f.clsToken().data().contiguous().f32();
        for (int i = 0; i < raw.length; i++) assertEquals(raw[i], cls[i], 1e-6, "value " + i);
        assertArrayEquals(new int[]{b, 1, 27}, f.patchTokens().data().shape());
        assertEquals(27, p.embedDim());
        for (KnnFeatures kf : KnnFeatures.values()) {   // every probe feature reads the pixels (cls+patch-mean: twice, each unit length)
            float[] out = new float[b * kf.width(p.embedDim())];
            kf.write(f, out, 0);
            if (kf != KnnFeatures.CLS_PATCH_MEAN) for (int i = 0; i < raw.length; i++) assertEquals(raw[i], out[i], 1e-6);
        }
        assertThrows(IllegalArgumentException.class, () -> p.forwardFeatures(Var.constant(Tensor.of(new float[3 * 16], 1, 3, 4, 4))));
    }
}
