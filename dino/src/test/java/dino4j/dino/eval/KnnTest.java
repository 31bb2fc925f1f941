package dino4j.dino.eval;

import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class KnnTest {
    /** A brute-force reference: sort all similarities, vote with exp(sim/T) among the k best. */
    static double bruteForce(double[][] tr, int[] yTr, double[][] te, int[] yTe, int k, double t) {
        int[] p = bruteForcePredictions(tr, yTr, te, k, t);
        int correct = 0;
        for (int i = 0; i < te.length; i++) if (p[i] == yTe[i]) correct++;
        return (double) correct / te.length;
    }

    static int[] bruteForcePredictions(double[][] tr, int[] yTr, double[][] te, int k, double t) {
        int[] pred = new int[te.length];
        for (int i = 0; i < te.length; i++) {
            Integer[] order = new Integer[tr.length];
            double[] sim = new double[tr.length];
            for (int j = 0; j < tr.length; j++) { order[j] = j; sim[j] = cos(te[i], tr[j]); }
            java.util.Arrays.sort(order, (a, b) -> Double.compare(sim[b], sim[a]));
            double[] votes = new double[10];
            for (int j = 0; j < k; j++) votes[yTr[order[j]]] += Math.exp(sim[order[j]] / t);
            int best = 0;
            for (int c = 1; c < 10; c++) if (votes[c] > votes[best]) best = c;
            pred[i] = best;
        }
        return pred;
    }

    static double cos(double[] a, double[] b) {
        double d = 0, na = 0, nb = 0;
        for (int i = 0; i < a.length; i++) { d += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        return d / Math.sqrt(na * nb);
    }

    @Test
    void matchesBruteForceOnClusteredData() {
        Random r = new Random(3);
        int nTr = 300, nTe = 120, d = 16, classes = 5;
        double[][] centers = gaussianCenters(r, classes, d);
        Clustered data = clustered(centers, nTr, nTe, 1.2, r, i -> r.nextInt(classes));
        double[][] tr = data.tr(), te = data.te();
        int[] yTr = data.yTr(), yTe = data.yTe();
        double want = bruteForce(tr, yTr, te, yTe, 20, 0.07);
        double got = Knn.accuracy(toTensor(tr), yTr, toTensor(te), yTe, 20, 0.07);
        assertEquals(want, got, 1e-12);
        assertTrue(got > 0.5, "clustered data should be separable, got " + got);
    }

    @Test
    void confusionMatrixCountsEachQueryOnceWhereBruteForcePutsIt() {
        Random r = new Random(5);
        int nTr = 240, nTe = 150, d = 8, classes = 4;
        double[][] centers = gaussianCenters(r, classes, d);
        for (int j = 0; j < d; j++) centers[3][j] = centers[2][j] + 0.3 * r.nextGaussian();   // classes 2 and 3 overlap
        Clustered data = clustered(centers, nTr, nTe, 0.8, r, i -> i % classes);
        double[][] tr = data.tr(), te = data.te();
        int[] yTr = data.yTr(), yTe = data.yTe();
        Knn.Result res = Knn.classify(toTensor(tr), yTr, toTensor(te), yTe, 20, 0.07);
        int[] pred = bruteForcePredictions(tr, yTr, te, 20, 0.07);
        int[][] want = new int[classes][classes];
        for (int i = 0; i < nTe; i++) want[yTe[i]][pred[i]]++;
        assertArrayEquals(want, res.confusion());
        assertEquals(bruteForce(tr, yTr, te, yTe, 20, 0.07), res.top1(), 1e-12);
        for (int c = 0; c < classes; c++) {
            int n = 0;
            for (int i = 0; i < nTe; i++) if (yTe[i] == c) n++;
            assertEquals(n, res.queries(c));
            assertEquals((double) want[c][c] / n, res.classAccuracy(c), 1e-12);
        }
        // the overlapping pair is confused with each other, the separate classes barely at all
        assertEquals(3, res.mostConfusedWith(2));
        assertEquals(2, res.mostConfusedWith(3));
        assertTrue(res.classAccuracy(0) > res.classAccuracy(2) && res.classAccuracy(1) > res.classAccuracy(3), java.util.Arrays.deepToString(res.confusion()));
    }

    @Test
    void centredProtocolIsBruteForceOnFeaturesMinusTheReferenceMean() {
        Random r = new Random(7);
        int nTr = 200, nTe = 80, d = 12, classes = 4;
        double[][] centers = gaussianCenters(r, classes, d);
        for (double[] c : centers) for (int j = 0; j < d; j++) c[j] += 3.0;   // a common offset, as in all-positive features
        Clustered data = clustered(centers, nTr, nTe, 1.0, r, i -> r.nextInt(classes));
        double[] mean = new double[d];
        for (double[] x : data.tr()) for (int j = 0; j < d; j++) mean[j] += x[j] / nTr;
        double[][] trC = minus(data.tr(), mean), teC = minus(data.te(), mean);
        Knn.Result got = Knn.classify(toTensor(data.tr()), data.yTr(), toTensor(data.te()), data.yTe(), new Knn.Protocol(20, 0.07, true));
        int[] pred = bruteForcePredictions(trC, data.yTr(), teC, 20, 0.07);
        int[][] want = new int[classes][classes];
        for (int i = 0; i < nTe; i++) want[data.yTe()[i]][pred[i]]++;
        assertArrayEquals(want, got.confusion());
    }

    @Test
    void centringSeparatesClassesThatDifferOnlyInScale() {
        // class 0 at o, class 1 at 2o: the same direction, so cosine cannot tell them apart until the mean (1.5 o) is removed
        Random r = new Random(11);
        int d = 6, nTr = 100, nTe = 60;
        double[] o = new double[d];
        for (int j = 0; j < d; j++) o[j] = 1 + r.nextDouble();
        double[][] tr = new double[nTr][d], te = new double[nTe][d];
        int[] yTr = new int[nTr], yTe = new int[nTe];
        for (int i = 0; i < nTr + nTe; i++) {
            int c = i % 2;
            double[] x = i < nTr ? tr[i] : te[i - nTr];
            for (int j = 0; j < d; j++) x[j] = (1 + c) * o[j] + 0.05 * r.nextGaussian();
            if (i < nTr) yTr[i] = c; else yTe[i - nTr] = c;
        }
        double plain = Knn.classify(toTensor(tr), yTr, toTensor(te), yTe, Knn.Protocol.DINO).top1();
        double centred = Knn.classify(toTensor(tr), yTr, toTensor(te), yTe, new Knn.Protocol(20, 0.07, true)).top1();
        assertEquals(1.0, centred, 1e-12);
        assertTrue(plain < 0.8, "uncentred cosine should not separate scaled copies, got " + plain);
    }

    @Test
    void protocolRejectsBadKAndTemperature() {
        assertThrows(IllegalArgumentException.class, () -> new Knn.Protocol(0, 0.07, false));
        assertThrows(IllegalArgumentException.class, () -> new Knn.Protocol(20, 0, false));
        assertEquals("k = 20, T = 0.07, cosine", Knn.Protocol.DINO.describe());
    }

    static double[][] minus(double[][] x, double[] m) {
        double[][] y = new double[x.length][m.length];
        for (int i = 0; i < x.length; i++) for (int j = 0; j < m.length; j++) y[i][j] = x[i][j] - m[j];
        return y;
    }

    @Test
    void resultWithoutMistakesOrQueries() {
        Knn.Result r = new Knn.Result(new int[][]{{3, 0}, {0, 0}});
        assertEquals(1.0, r.top1());
        assertEquals(-1, r.mostConfusedWith(0));
        assertTrue(Double.isNaN(r.classAccuracy(1)));
        assertTrue(Double.isNaN(new Knn.Result(new int[][]{{0}}).top1()));
    }

    static double[][] gaussianCenters(Random r, int classes, int d) {
        double[][] centers = new double[classes][d];
        for (double[] c : centers) for (int j = 0; j < d; j++) c[j] = r.nextGaussian();
        return centers;
    }

    record Clustered(double[][] tr, int[] yTr, double[][] te, int[] yTe) {}

    /** nTr reference then nTe query points: point i of class classOf(i) at its centre plus Gaussian noise of this std. */
    static Clustered clustered(double[][] centers, int nTr, int nTe, double noise, Random r, java.util.function.IntUnaryOperator classOf) {
        int d = centers[0].length;
        double[][] tr = new double[nTr][d], te = new double[nTe][d];
        int[] yTr = new int[nTr], yTe = new int[nTe];
        for (int i = 0; i < nTr + nTe; i++) {
            int c = classOf.applyAsInt(i);
            double[] x = i < nTr ? tr[i] : te[i - nTr];
            for (int j = 0; j < d; j++) x[j] = centers[c][j] + noise * r.nextGaussian();
            if (i < nTr) yTr[i] = c; else yTe[i - nTr] = c;
        }
        return new Clustered(tr, yTr, te, yTe);
    }

    static Tensor toTensor(double[][] x) {
        float[] f = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) for (int j = 0; j < x[0].length; j++) f[i * x[0].length + j] = (float) x[i][j];
        return Tensor.of(f, x.length, x[0].length);
    }
}
