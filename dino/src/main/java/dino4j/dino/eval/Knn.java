package dino4j.dino.eval;

import dino4j.tensor.DType;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

/**
 * Weighted k-NN classification as in DINO's protocol (spec §6.1): L2-normalised features, cosine
 * similarity, the top-k neighbours vote with weight exp(sim / T), top-1 accuracy.
 */
public final class Knn {
    private Knn() {}

    /**
     * How the neighbours vote: k, the temperature T, and whether the reference set's mean feature is subtracted
     * from every vector before the cosine ({@code centered}; not in DINO's protocol, but the raw-pixel
     * anchor is quoted both ways: a common offset dominates cosine similarity when features are all positive).
     */
    public record Protocol(int k, double temperature, boolean centered) {
        /** DINO's protocol: k = 20, T = 0.07, uncentred. */
        public static final Protocol DINO = new Protocol(20, 0.07, false);

        public Protocol {
            if (k < 1) throw new IllegalArgumentException("k-NN: k must be >= 1, got " + k);
            if (!(temperature > 0)) throw new IllegalArgumentException("k-NN: the temperature must be positive, got " + temperature);
        }

        /** "k = 20, T = 0.07, cosine" (", centred" when centred). */
        public String describe() {
            return String.format(java.util.Locale.ROOT, "k = %d, T = %.2f, cosine%s", k, temperature, centered ? " of mean-centred features" : "");
        }
    }

    /** Rows minus {@code mean} (a fresh F32 tensor). */
    static Tensor subtractRow(Tensor features, double[] mean) {
        Tensor f = features.to(DType.F32).contiguous();
        int n = f.size(0), d = mean.length;
        float[] src = f.f32(), out = new float[n * d];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < d; j++) out[i * d + j] = (float) (src[f.offset() + i * d + j] - mean[j]);
        return Tensor.of(out, n, d);
    }

    /** The mean row of [N, D] features, accumulated in double. */
    static double[] meanRow(Tensor features) {
        Tensor f = features.to(DType.F32).contiguous();
        int n = f.size(0), d = f.numel() / Math.max(1, n);
        float[] src = f.f32();
        double[] m = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) m[j] += src[f.offset() + i * d + j];
        for (int j = 0; j < d; j++) m[j] /= Math.max(1, n);
        return m;
    }

    /** Rows scaled to unit L2 norm (a fresh F32 tensor). */
    public static Tensor normalizeRows(Tensor features) {
        Tensor f = features.to(DType.F32).contiguous();
        int n = f.size(0), d = f.numel() / Math.max(1, n);
        float[] src = f.f32(), out = new float[n * d];
        for (int i = 0; i < n; i++) {
            double ss = 0;
            for (int j = 0; j < d; j++) { double v = src[f.offset() + i * d + j]; ss += v * v; }
            double inv = 1.0 / Math.max(Math.sqrt(ss), 1e-12);
            for (int j = 0; j < d; j++) out[i * d + j] = (float) (src[f.offset() + i * d + j] * inv);
        }
        return Tensor.of(out, n, d);
    }

    /**
     * The votes of a k-NN classifier on its queries: {@code confusion[true][predicted]} counts, top-1 accuracy,
     * and per class the accuracy and the class its queries are most often taken for.
     */
    public record Result(int[][] confusion) {
        public int classes() { return confusion.length; }

        /** Queries whose true class is c. */
        public int queries(int c) {
            int n = 0;
            for (int v : confusion[c]) n += v;
            return n;
        }

        public double top1() {
            long right = 0, all = 0;
            for (int c = 0; c < classes(); c++) { right += confusion[c][c]; all += queries(c); }
            return all == 0 ? Double.NaN : (double) right / all;
        }

        /** Accuracy on the queries of class c (NaN when there are none). */
        public double classAccuracy(int c) {
            int n = queries(c);
            return n == 0 ? Double.NaN : (double) confusion[c][c] / n;
        }

        /** The wrong class most often predicted for queries of class c (ties: the lower label), or −1 when none is. */
        public int mostConfusedWith(int c) {
            int best = -1;
            for (int p = 0; p < classes(); p++)
                if (p != c && confusion[c][p] > 0 && (best < 0 || confusion[c][p] > confusion[c][best])) best = p;
            return best;
        }
    }

    /** Top-1 accuracy of {@link #classify}. */
    public static double accuracy(Tensor train, int[] trainLabels, Tensor test, int[] testLabels, int k, double temperature) {
        return classify(train, trainLabels, test, testLabels, k, temperature).top1();
    }

    /** {@link #classify(Tensor, int[], Tensor, int[], Protocol)} with uncentred features. */
    public static Result classify(Tensor train, int[] trainLabels, Tensor test, int[] testLabels, int k, double temperature) {
        return classify(train, trainLabels, test, testLabels, new Protocol(k, temperature, false));
    }

    /**
     * A k-NN classifier fitted on (train, trainLabels), evaluated on (test, testLabels). Features are [N, D]
     * (centred, when the protocol says so, and normalised here); similarities are computed in test blocks so memory stays at block × N.
     */
    public static Result classify(Tensor train, int[] trainLabels, Tensor test, int[] testLabels, Protocol p) {
        if (train.size(0) != trainLabels.length || test.size(0) != testLabels.length)
            throw new IllegalArgumentException("k-NN: features and labels differ in count");
        if (p.centered()) {
            double[] mean = meanRow(train);   // the reference set's: the queries are not looked at before they vote
            train = subtractRow(train, mean);
            test = subtractRow(test, mean);
        }
        Tensor tr = normalizeRows(train), te = normalizeRows(test);
        int nTrain = tr.size(0), nTest = te.size(0), kk = Math.min(p.k(), nTrain);
        double temperature = p.temperature();
        int classes = 0;
        for (int l : trainLabels) classes = Math.max(classes, l + 1);
        for (int l : testLabels) classes = Math.max(classes, l + 1);
        Tensor trT = tr.transpose(0, 1);
        int block = 256;
        int[][] confusion = new int[classes][classes];
        int[] idx = new int[kk];
        float[] val = new float[kk];
        double[] votes = new double[classes];
        for (int from = 0; from < nTest; from += block) {
            int to = Math.min(nTest, from + block);
            Tensor sim = Ops.matmul(te.slice(0, from, to), trT).contiguous();   // [b, nTrain]
            float[] s = sim.f32();
            for (int i = 0; i < to - from; i++) {
                topK(s, sim.offset() + i * nTrain, nTrain, idx, val);
                java.util.Arrays.fill(votes, 0);
                for (int j = 0; j < kk; j++) votes[trainLabels[idx[j]]] += Math.exp(val[j] / temperature);
                int best = 0;
                for (int c = 1; c < classes; c++) if (votes[c] > votes[best]) best = c;
                confusion[testLabels[from + i]][best]++;
            }
        }
        return new Result(confusion);
    }

    /** The k largest entries of s[off, off+n) (indices and values, in no particular order). */
    static void topK(float[] s, int off, int n, int[] idx, float[] val) {
        int k = idx.length, filled = 0, minPos = 0;
        for (int j = 0; j < n; j++) {
            float v = s[off + j];
            if (filled < k) {
                idx[filled] = j; val[filled] = v; filled++;
                if (filled == k) minPos = argMin(val);
            } else if (v > val[minPos]) {
                idx[minPos] = j; val[minPos] = v;
                minPos = argMin(val);
            }
        }
    }

    private static int argMin(float[] v) {
        int m = 0;
        for (int i = 1; i < v.length; i++) if (v[i] < v[m]) m = i;
        return m;
    }
}
