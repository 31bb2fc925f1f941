package dino4j.dino.eval;

import dino4j.dino.features.SymmetricEigen;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

/**
 * RankMe (Garrido et al., 2023): the effective rank exp(H(p)) of an embedding matrix Z [N, D], with
 * p_k = σ_k / Σσ + 1e-7 over its singular values. It needs no labels: a collapsed representation scores
 * near 1, one that spreads over all D directions evenly scores D, and across the checkpoints of one run a
 * higher rank has tracked better downstream accuracy. It is how a run on unlabelled images tells whether
 * its features still grow.
 */
public final class RankMe {
    private RankMe() {}

    static final double EPS = 1e-7;
    /** Widest features measured: ViT-L's [CLS, mean patch] (the Gram's N·D²/2 and the O(D³) eigenvalues take seconds there). */
    public static final int MAX_WIDTH = 2048;
    /** Rows used at the most: enough for the rank of D ≤ 2048 features to settle. */
    public static final int MAX_ROWS = 4096;

    /** RankMe of the first {@link #MAX_ROWS} rows of {@code z}, or NaN when it is wider than {@link #MAX_WIDTH}. */
    public static double orNaN(Tensor z) {
        if (z.size(1) > MAX_WIDTH) return Double.NaN;
        return of(z.size(0) > MAX_ROWS ? z.slice(0, 0, MAX_ROWS) : z);
    }

    /** exp(entropy) of the normalised singular values of {@code z} [N, D], between 1 and min(N, D). */
    public static double of(Tensor z) {
        if (z.dim() != 2) throw new IllegalArgumentException("RankMe needs [N, D] embeddings, got " + java.util.Arrays.toString(z.shape()));
        Tensor f = z.to(DType.F32).contiguous();
        int n = f.size(0), d = f.size(1), off = f.offset();
        float[] x = f.f32();
        // σ² are the eigenvalues of the smaller Gram matrix, ZᵀZ [D, D] or Z Zᵀ [N, N], summed in double:
        // squaring the singular values squares the condition number, and float32 sums would turn the zeros
        // of a low-rank Z into σ ≈ 3e-4·σ_max each, enough to lift a rank-1 matrix's RankMe to 1.02
        boolean cols = n >= d;
        int m = cols ? d : n;
        double[][] a = new double[m][m];
        if (cols) {
            double[] row = new double[d];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < d; j++) row[j] = x[off + i * d + j];
                for (int p = 0; p < d; p++) {
                    double rp = row[p];
                    double[] ap = a[p];
                    for (int q = p; q < d; q++) ap[q] += rp * row[q];
                }
            }
        } else {
            for (int p = 0; p < n; p++)
                for (int q = p; q < n; q++) {
                    double s = 0;
                    for (int j = 0; j < d; j++) s += (double) x[off + p * d + j] * x[off + q * d + j];
                    a[p][q] = s;
                }
        }
        for (int p = 0; p < m; p++) for (int q = 0; q < p; q++) a[p][q] = a[q][p];
        return ofSingularValues(sqrt(SymmetricEigen.eigenvalues(a)));
    }

    /** The effective rank of given singular values. */
    static double ofSingularValues(double[] sigma) {
        double sum = 0;
        for (double s : sigma) sum += s;
        if (!(sum > 0)) return 1;   // all-zero embeddings: nothing spread out
        double h = 0;
        for (double s : sigma) {
            double p = s / sum + EPS;
            h -= p * Math.log(p);
        }
        return Math.exp(h);
    }

    private static double[] sqrt(double[] eig) {
        double[] out = new double[eig.length];
        for (int i = 0; i < eig.length; i++) out[i] = Math.sqrt(Math.max(eig[i], 0));   // round-off can leave -1e-12
        return out;
    }
}
