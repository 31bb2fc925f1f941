package dino4j.dino.features;

/**
 * Eigenvalues of a dense symmetric matrix in O(n³): Householder reduction to tridiagonal form, then the implicit
 * QL iteration with Wilkinson shifts. For the full spectrum of a D×D Gram or covariance matrix (RankMe), where
 * cyclic Jacobi (Pca's, the reference in the tests) needs several O(n³) sweeps.
 */
public final class SymmetricEigen {
    private SymmetricEigen() {}

    /** The eigenvalues of symmetric {@code a} (only its lower triangle is read; {@code a} is left unchanged), ascending. */
    public static double[] eigenvalues(double[][] a) {
        int n = a.length;
        double[] d = new double[n], e = new double[n];
        tridiagonalize(a, d, e);
        ql(d, e);
        java.util.Arrays.sort(d);
        return d;
    }

    /**
     * Householder reflections H = I − 2vvᵀ zero column k below its subdiagonal, k = 0 … n−3, each applied to both
     * sides of the trailing block as A ← A − 2(v qᵀ + q vᵀ) with p = A v, q = p − (vᵀp) v. Leaves the diagonal in
     * d and the subdiagonal in e (e[i] couples rows i and i+1; e[n−1] = 0).
     */
    static void tridiagonalize(double[][] a0, double[] d, double[] e) {
        int n = a0.length;
        double[][] a = new double[n][n];
        for (int i = 0; i < n; i++) for (int j = 0; j <= i; j++) a[i][j] = a[j][i] = a0[i][j];
        double[] v = new double[n], p = new double[n];
        for (int k = 0; k < n - 2; k++) {
            int m = n - k - 1;                              // length of the column below the diagonal
            double norm = 0;
            for (int i = 0; i < m; i++) { v[i] = a[k + 1 + i][k]; norm += v[i] * v[i]; }
            norm = Math.sqrt(norm);
            d[k] = a[k][k];
            if (norm == 0) { e[k] = 0; continue; }
            double alpha = v[0] > 0 ? -norm : norm;          // the sign that avoids cancellation in v0 − alpha
            v[0] -= alpha;
            double vn = 0;
            for (int i = 0; i < m; i++) vn += v[i] * v[i];
            vn = Math.sqrt(vn);
            e[k] = alpha;
            if (vn == 0) continue;
            for (int i = 0; i < m; i++) v[i] /= vn;
            double kk = 0;
            for (int i = 0; i < m; i++) {
                double[] row = a[k + 1 + i];
                double s = 0;
                for (int j = 0; j < m; j++) s += row[k + 1 + j] * v[j];
                p[i] = s;
                kk += v[i] * s;
            }
            for (int i = 0; i < m; i++) p[i] -= kk * v[i];    // q
            for (int i = 0; i < m; i++) {
                double[] row = a[k + 1 + i];
                double vi = 2 * v[i], qi = 2 * p[i];
                for (int j = 0; j < m; j++) row[k + 1 + j] -= vi * p[j] + qi * v[j];
            }
        }
        if (n >= 2) { d[n - 2] = a[n - 2][n - 2]; e[n - 2] = a[n - 1][n - 2]; }
        if (n >= 1) { d[n - 1] = a[n - 1][n - 1]; e[n - 1] = 0; }
    }

    /** Implicit QL with Wilkinson shifts on the tridiagonal (d, e); d becomes the eigenvalues (unordered). */
    static void ql(double[] d, double[] e) {
        int n = d.length;
        for (int l = 0; l < n; l++) {
            int iter = 0, m;
            do {
                for (m = l; m < n - 1; m++) {
                    double dd = Math.abs(d[m]) + Math.abs(d[m + 1]);
                    if (Math.abs(e[m]) <= 0x1p-52 * dd) break;
                }
                if (m == l) break;
                if (++iter > 100) throw new ArithmeticException("symmetric eigenvalues: QL did not converge at row " + l);
                double g = (d[l + 1] - d[l]) / (2 * e[l]);
                double r = Math.hypot(g, 1);
                g = d[m] - d[l] + e[l] / (g + Math.copySign(r, g));   // shift: the eigenvalue of the leading 2×2 nearer d[l]
                double s = 1, c = 1, p = 0;
                int i;
                boolean deflated = false;
                for (i = m - 1; i >= l; i--) {
                    double f = s * e[i], b = c * e[i];
                    r = Math.hypot(f, g);
                    e[i + 1] = r;
                    if (r == 0) {                                // underflow: split the matrix here and restart
                        d[i + 1] -= p;
                        e[m] = 0;
                        deflated = true;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2 * c * b;
                    p = s * r;
                    d[i + 1] = g + p;
                    g = c * r - b;
                }
                if (deflated) continue;
                d[l] -= p;
                e[l] = g;
                e[m] = 0;
            } while (true);
        }
    }
}
