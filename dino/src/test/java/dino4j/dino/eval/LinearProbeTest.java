package dino4j.dino.eval;

import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class LinearProbeTest {
    /** Rows x ~ N(0, 1)^d scaled per dimension, labelled by argmax(W x): a linear rule, so a linear probe can learn it. */
    record Data(Tensor train, int[] yTrain, Tensor test, int[] yTest) {}

    static Data linearRule(long seed, int nTrain, int nTest, int d, int classes, double[] dimScale) {
        Random r = new Random(seed);
        double[][] w = new double[classes][d];
        for (double[] row : w) for (int j = 0; j < d; j++) row[j] = r.nextGaussian();
        float[] tr = new float[nTrain * d], te = new float[nTest * d];
        int[] yTr = new int[nTrain], yTe = new int[nTest];
        fill(r, w, tr, yTr, d, dimScale);
        fill(r, w, te, yTe, d, dimScale);
        return new Data(Tensor.of(tr, nTrain, d), yTr, Tensor.of(te, nTest, d), yTe);
    }

    private static void fill(Random r, double[][] w, float[] x, int[] y, int d, double[] dimScale) {
        for (int i = 0; i < y.length; i++) {
            double[] v = new double[d];
            for (int j = 0; j < d; j++) v[j] = r.nextGaussian();
            int best = 0;
            double bestScore = Double.NEGATIVE_INFINITY;
            for (int c = 0; c < w.length; c++) {
                double s = 0;
                for (int j = 0; j < d; j++) s += w[c][j] * v[j];
                if (s > bestScore) { bestScore = s; best = c; }
            }
            y[i] = best;
            for (int j = 0; j < d; j++) x[i * d + j] = (float) (v[j] * dimScale[j]);   // the scale hides nothing after standardising
        }
    }

    static final LinearProbe.Options FAST = new LinearProbe.Options(15, 64, new double[]{1e-3, 1e-2}, new double[]{0}, 0.2, 7);

    @Test
    void learnsALinearRuleWhateverTheScaleOfEachDimension() {
        int d = 12;
        double[] scale = new double[d];
        for (int j = 0; j < d; j++) scale[j] = Math.pow(10, (j % 5) - 2);   // 0.01 … 100
        Data data = linearRule(1, 4000, 500, d, 4, scale);
        LinearProbe.Result res = LinearProbe.fit(data.train(), data.yTrain(), data.test(), data.yTest(), FAST, null);
        assertTrue(res.testAccuracy() > 0.95, "linear rule learned to only " + res.testAccuracy() + ", k-NN " + Knn.accuracy(data.train(), data.yTrain(), data.test(), data.yTest(), 20, 0.07));
        // k-NN on the raw rows is misled by the two large dimensions: the probe must do better than that
        double knn = Knn.accuracy(data.train(), data.yTrain(), data.test(), data.yTest(), 20, 0.07);
        assertTrue(res.testAccuracy() > knn + 0.05, "probe " + res.testAccuracy() + " vs k-NN " + knn);
    }

    @Test
    void picksTheGridPointWithTheBestValidationAccuracy() {
        Data data = linearRule(2, 1500, 300, 8, 3, ones(8));
        LinearProbe.Options o = new LinearProbe.Options(3, 64, new double[]{1e-5, 1e-2}, new double[]{0, 1e-2}, 0.2, 3);
        LinearProbe.Result res = LinearProbe.fit(data.train(), data.yTrain(), data.test(), data.yTest(), o, null);
        assertEquals(4, res.trials().size());
        LinearProbe.Trial best = res.trials().stream().max(java.util.Comparator.comparingDouble(LinearProbe.Trial::valAccuracy)).orElseThrow();
        assertEquals(best.lr(), res.lr());
        assertEquals(best.weightDecay(), res.weightDecay());
        assertEquals(1e-2, res.lr(), "three epochs at lr 1e-5 barely move the head");
    }

    @Test
    void randomLabelsGiveChanceAccuracyAndTheSameSeedTheSameResult() {
        Data data = linearRule(3, 1500, 1000, 8, 4, ones(8));
        Random r = new Random(9);
        int[] noise = new int[data.yTest().length];
        for (int i = 0; i < noise.length; i++) noise[i] = r.nextInt(4);
        LinearProbe.Result res = LinearProbe.fit(data.train(), data.yTrain(), data.test(), noise, FAST, null);
        assertTrue(res.testAccuracy() < 0.33, "query labels unrelated to the features scored " + res.testAccuracy());
        long[] steps = {0};
        LinearProbe.Result again = LinearProbe.fit(data.train(), data.yTrain(), data.test(), noise, FAST, s -> steps[0] += s);
        assertEquals(res.testAccuracy(), again.testAccuracy());
        assertEquals(LinearProbe.totalSteps(1500, FAST), steps[0], "progress hears every optimizer step");
    }

    @Test
    void constantDimensionsStandardiseToZero() {
        float[] x = {1, 5, 2, 5, 3, 5};   // [3, 2], second dimension constant
        LinearProbe.Standardizer s = LinearProbe.Standardizer.of(x, 2);
        s.apply(x);
        assertArrayEquals(new float[]{-1.2247449f, 0, 0, 0, 1.2247449f, 0}, x, 1e-6f);
    }

    @Test
    void badOptionsAreNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> new LinearProbe.Options(0, 64, new double[]{1e-3}, new double[]{0}, 0.1, 0));
        assertTrue(e.getMessage().contains("epochs"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new LinearProbe.Options(1, 64, new double[]{1e-3}, new double[]{0}, 1.5, 0));
        assertTrue(e.getMessage().contains("validation"), e.getMessage());
    }

    private static double[] ones(int d) {
        double[] o = new double[d];
        java.util.Arrays.fill(o, 1);
        return o;
    }
}
