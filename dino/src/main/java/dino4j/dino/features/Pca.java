package dino4j.dino.features;

import dino4j.tensor.DType;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

/**
 * Principal components of feature rows [N, D] by subspace iteration on the D×D covariance (D ≤ a few
 * thousand), with a Rayleigh–Ritz step so the components come out ordered by variance.
 */
public final class Pca {
    public final float[] mean;        // [D]
    public final double[][] components; // [k][D], unit norm, descending variance
    public final double[] variances;  // [k]

    private Pca(float[] mean, double[][] components, double[] variances) {
        this.mean = mean; this.components = components; this.variances = variances;
    }

    /** Fits k components on the rows where {@code use} is true (all rows when null). */
    public static Pca fit(Tensor features, int k, boolean[] use) {
        Tensor f = features.to(DType.F32).contiguous();
        int n = f.size(0), d = f.size(1);
        if (k < 1 || k > d) throw new IllegalArgumentException("PCA: need 1 <= k <= D (" + d + "), got " + k);
        float[] x = f.f32();
        int off = f.offset(), m = 0;
        double[] mu = new double[d];
        for (int i = 0; i < n; i++) {
            if (use != null && !use[i]) continue;
            m++;
            for (int j = 0; j < d; j++) mu[j] += x[off + i * d + j];
        }
        if (m < 2) throw new IllegalArgumentException("PCA needs at least 2 rows, got " + m);
        float[] mean = new float[d];
        for (int j = 0; j < d; j++) mean[j] = (float) (mu[j] / m);
        float[] c = new float[m * d];
        for (int i = 0, r = 0; i < n; i++) {
            if (use != null && !use[i]) continue;
            for (int j = 0; j < d; j++) c[r * d + j] = x[off + i * d + j] - mean[j];
            r++;
        }
        Tensor xc = Tensor.of(c, m, d);
        Tensor cov = Ops.mulScalar(Ops.matmul(xc.transpose(0, 1), xc), 1.0 / (m - 1));  // [D, D]
        double[] cv = cov.toDoubleArray();
        int p = Math.min(d, k + 8);                               // oversampled subspace
        double[][] v = new double[p][d];
        java.util.Random rng = new java.util.Random(0);
        for (double[] row : v) for (int j = 0; j < d; j++) row[j] = rng.nextGaussian();
        orthonormalize(v);
        for (int it = 0; it < 300; it++) {
            double[][] w = new double[p][];
            for (int a = 0; a < p; a++) w[a] = mulSym(cv, v[a], d);
            orthonormalize(w);
            v = w;
        }
        // Rayleigh–Ritz: eigen-decompose the small p×p projection and rotate the basis
        double[][] h = new double[p][p];
        double[][] cvv = new double[p][];
        for (int a = 0; a < p; a++) cvv[a] = mulSym(cv, v[a], d);
        for (int a = 0; a < p; a++) for (int b = 0; b < p; b++) h[a][b] = dot(v[a], cvv[b]);
        double[] eig = new double[p];
        double[][] vecs = jacobi(h, eig);
        Integer[] order = new Integer[p];
        for (int i = 0; i < p; i++) order[i] = i;
        java.util.Arrays.sort(order, (a, b) -> Double.compare(eig[b], eig[a]));
        double[][] comps = new double[k][d];
        double[] vars = new double[k];
        for (int t = 0; t < k; t++) {
            int e = order[t];
            vars[t] = Math.max(eig[e], 0);
            for (int a = 0; a < p; a++) for (int j = 0; j < d; j++) comps[t][j] += vecs[a][e] * v[a][j];
            double nn = Math.sqrt(dot(comps[t], comps[t]));
            // sign convention: largest-magnitude coordinate positive, so maps are stable across runs
            int big = 0;
            for (int j = 1; j < d; j++) if (Math.abs(comps[t][j]) > Math.abs(comps[t][big])) big = j;
            double s = comps[t][big] < 0 ? -1 / nn : 1 / nn;
            for (int j = 0; j < d; j++) comps[t][j] *= s;
        }
        return new Pca(mean, comps, vars);
    }

    /** Projections [N, k] of all rows; with {@code whiten}, divided by the component's standard deviation. */
    public double[][] project(Tensor features, boolean whiten) {
        Tensor f = features.to(DType.F32).contiguous();
        int n = f.size(0), d = f.size(1), k = components.length;
        float[] x = f.f32();
        double[][] out = new double[n][k];
        for (int i = 0; i < n; i++)
            for (int t = 0; t < k; t++) {
                double s = 0;
                for (int j = 0; j < d; j++) s += (x[f.offset() + i * d + j] - mean[j]) * components[t][j];
                out[i][t] = whiten ? s / Math.sqrt(variances[t] + 1e-12) : s;
            }
        return out;
    }

    private static double[] mulSym(double[] a, double[] v, int d) {
        double[] r = new double[d];
        for (int i = 0; i < d; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) s += a[i * d + j] * v[j];
            r[i] = s;
        }
        return r;
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    /** Modified Gram–Schmidt (twice, for stability); degenerate rows are re-randomised. */
    private static void orthonormalize(double[][] v) {
        java.util.Random rng = new java.util.Random(1);
        for (int pass = 0; pass < 2; pass++)
            for (int a = 0; a < v.length; a++) {
                for (int b = 0; b < a; b++) {
                    double p = dot(v[a], v[b]);
                    for (int j = 0; j < v[a].length; j++) v[a][j] -= p * v[b][j];
                }
                double n = Math.sqrt(dot(v[a], v[a]));
                if (n < 1e-30) {
                    for (int j = 0; j < v[a].length; j++) v[a][j] = rng.nextGaussian();
                    a--;
                    continue;
                }
                for (int j = 0; j < v[a].length; j++) v[a][j] /= n;
            }
    }

    /** Cyclic Jacobi eigen-decomposition of a small symmetric matrix; columns of the result are eigenvectors. */
    static double[][] jacobi(double[][] a0, double[] eig) {
        int n = a0.length;
        double[][] a = new double[n][];
        for (int i = 0; i < n; i++) a[i] = a0[i].clone();
        double[][] v = new double[n][n];
        for (int i = 0; i < n; i++) v[i][i] = 1;
        for (int sweep = 0; sweep < 100; sweep++) {
            double off = 0;
            for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) off += a[i][j] * a[i][j];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++) {
                    if (Math.abs(a[p][q]) < 1e-300) continue;
                    double theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                    double t = Math.signum(theta) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++) {
                        double akp = a[k][p], akq = a[k][q];
                        a[k][p] = c * akp - s * akq;
                        a[k][q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++) {
                        double apk = a[p][k], aqk = a[q][k];
                        a[p][k] = c * apk - s * aqk;
                        a[q][k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++) {
                        double vkp = v[k][p], vkq = v[k][q];
                        v[k][p] = c * vkp - s * vkq;
                        v[k][q] = s * vkp + c * vkq;
                    }
                }
        }
        for (int i = 0; i < n; i++) eig[i] = a[i][i];
        return v;
    }
}
