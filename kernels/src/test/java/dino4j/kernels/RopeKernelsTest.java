package dino4j.kernels;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

class RopeKernelsTest {

    static double relL2(float[] a, double[] ref) {
        double num = 0, den = 0;
        for (int i = 0; i < ref.length; i++) { double d = a[i] - ref[i]; num += d * d; den += ref[i] * ref[i]; }
        return Math.sqrt(num / Math.max(den, 1e-300));
    }

    @Test
    void periodsMatchSpec() {
        double[] p = RopeKernels.periods(64, 100);
        double[] spec = {1, 1.3335, 1.7783, 2.3714, 3.1623, 4.2170, 5.6234, 7.4989, 10, 13.335,
                17.783, 23.714, 31.623, 42.170, 56.234, 74.989};
        assertEquals(16, p.length);
        for (int j = 0; j < 16; j++) assertEquals(spec[j], p[j], 1e-4 * spec[j], "period " + j);
        double[] p128 = RopeKernels.periods(128, 100);
        assertEquals(32, p128.length);
        assertEquals(1.0, p128[0], 0);
        assertEquals(86.596, p128[31], 1e-3);
    }

    @Test
    void tableLayoutAndAugmentation() {
        double[] per = RopeKernels.periods(16, 100);
        int h = 3, w = 5, dh = 16, q = 4;
        double sy = 0.1, sx = -0.2, jy = 1.3, jx = 0.8, r = 1.7;
        RopeTable eval = RopeKernels.table(h, w, per);
        RopeTable aug = RopeKernels.table(h, w, per, sy, sx, jy, jx, r);
        for (int i = 0; i < h; i++) for (int j = 0; j < w; j++) {
            int t = i * w + j;
            double cy = 2 * ((i + 0.5) / h) - 1, cx = 2 * ((j + 0.5) / w) - 1;
            double ay = (cy + sy) * jy * r, ax = (cx + sx) * jx * r;
            for (int f = 0; f < q; f++) {
                for (int rep = 0; rep < 2; rep++) {
                    int o = t * dh + rep * 2 * q;
                    assertEquals(Math.sin(2 * Math.PI * cy / per[f]), eval.sin()[o + f], 1e-7);
                    assertEquals(Math.cos(2 * Math.PI * cx / per[f]), eval.cos()[o + q + f], 1e-7);
                    assertEquals(Math.sin(2 * Math.PI * ay / per[f]), aug.sin()[o + f], 1e-7);
                    assertEquals(Math.cos(2 * Math.PI * ay / per[f]), aug.cos()[o + f], 1e-7);
                    assertEquals(Math.sin(2 * Math.PI * ax / per[f]), aug.sin()[o + q + f], 1e-7);
                    assertEquals(Math.cos(2 * Math.PI * ax / per[f]), aug.cos()[o + q + f], 1e-7);
                }
            }
        }
        RopeKernels.RefTable ref = RopeKernels.referenceTable(h, w, per, sy, sx, jy, jx, r);
        assertTrue(relL2(aug.sin(), ref.sin()) < 1e-7);
        assertTrue(relL2(aug.cos(), ref.cos()) < 1e-7);
    }

    @Test
    void rotateMatchesReferenceAndInverts() {
        Random rnd = new Random(1);
        for (int dh : new int[] {4, 8, 12, 16, 64, 128}) {
            double[] per = RopeKernels.periods(dh, 100);
            int h = 3, w = 7, rows = 13, stride = dh + 5, off = 3, tro = 4;
            RopeTable tab = RopeKernels.table(h, w, per, 0.05, -0.1, 1.1, 0.9, 1.5);
            RopeKernels.RefTable rt = RopeKernels.referenceTable(h, w, per, 0.05, -0.1, 1.1, 0.9, 1.5);
            float[] x = new float[off + rows * stride + 2];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            float[] x0 = x.clone();
            double[] xd = new double[x.length];
            for (int i = 0; i < x.length; i++) xd[i] = x[i];
            for (boolean inv : new boolean[] {false, true}) {
                float[] y = x.clone();
                double[] yd = xd.clone();
                RopeKernels.rotate(rows, dh, y, off, stride, tab.sin(), tab.cos(), tro, inv);
                RopeKernels.referenceRotate(rows, dh, yd, off, stride, rt.sin(), rt.cos(), tro, inv);
                assertTrue(relL2(y, yd) < 1e-6, "dh=" + dh + " inv=" + inv + " err " + relL2(y, yd));
                // padding between rows untouched
                for (int r = 0; r < rows; r++) for (int c = dh; c < stride; c++) {
                    int idx = off + r * stride + c;
                    if (idx < y.length) assertEquals(x0[idx], y[idx]);
                }
            }
            float[] y = x.clone();
            RopeKernels.rotate(rows, dh, y, off, stride, tab.sin(), tab.cos(), tro, false);
            RopeKernels.rotate(rows, dh, y, off, stride, tab.sin(), tab.cos(), tro, true);
            for (int i = 0; i < x.length; i++) assertEquals(x0[i], y[i], 2e-6, "roundtrip dh=" + dh);
            double[] yd = xd.clone();
            RopeKernels.referenceRotate(rows, dh, yd, off, stride, rt.sin(), rt.cos(), tro, false);
            RopeKernels.referenceRotate(rows, dh, yd, off, stride, rt.sin(), rt.cos(), tro, true);
            for (int i = 0; i < x.length; i++) assertEquals(xd[i], yd[i], 1e-13);
        }
    }

    /** Inverse is the exact transpose (the backward) for an arbitrary table, checked by finite differences. */
    @Test
    void inverseIsBackwardFiniteDifference() {
        Random rnd = new Random(2);
        int dh = 12, rows = 3, n = rows * dh;
        double[] sin = new double[rows * dh], cos = new double[rows * dh];
        for (int i = 0; i < sin.length; i++) { sin[i] = rnd.nextGaussian(); cos[i] = rnd.nextGaussian(); }
        double[] x = new double[n], r = new double[n];
        for (int i = 0; i < n; i++) { x[i] = rnd.nextGaussian(); r[i] = rnd.nextGaussian(); }
        double[] g = r.clone();
        RopeKernels.referenceRotate(rows, dh, g, 0, dh, sin, cos, 0, true);
        double eps = 1e-6;
        for (int i = 0; i < n; i++) {
            double[] xp = x.clone(), xm = x.clone();
            xp[i] += eps; xm[i] -= eps;
            RopeKernels.referenceRotate(rows, dh, xp, 0, dh, sin, cos, 0, false);
            RopeKernels.referenceRotate(rows, dh, xm, 0, dh, sin, cos, 0, false);
            double lp = 0, lm = 0;
            for (int j = 0; j < n; j++) { lp += r[j] * xp[j]; lm += r[j] * xm[j]; }
            assertEquals((lp - lm) / (2 * eps), g[i], 1e-7 * (1 + Math.abs(g[i])));
        }
    }

    // ------------------------------------------------------------ golden file

    static Path sharedDir() {
        String p = System.getProperty("dino4j.shared");
        if (p != null && Files.isDirectory(Path.of(p))) return Path.of(p);
        return Path.of("/work/shared");
    }

    /** Tiny safetensors reader (F32/F64 only): returns the tensor as double[]. */
    static double[] readTensor(Path file, String key) throws IOException {
        byte[] all = Files.readAllBytes(file);
        ByteBuffer bb = ByteBuffer.wrap(all).order(ByteOrder.LITTLE_ENDIAN);
        long hlen = bb.getLong(0);
        String header = new String(all, 8, (int) hlen, StandardCharsets.UTF_8);
        Matcher m = Pattern.compile("\"" + Pattern.quote(key) + "\"\\s*:\\s*\\{([^}]*)\\}").matcher(header);
        if (!m.find()) throw new IllegalArgumentException("no tensor " + key);
        String obj = m.group(1);
        Matcher dt = Pattern.compile("\"dtype\"\\s*:\\s*\"(\\w+)\"").matcher(obj);
        Matcher offs = Pattern.compile("\"data_offsets\"\\s*:\\s*\\[\\s*(\\d+)\\s*,\\s*(\\d+)\\s*]").matcher(obj);
        if (!dt.find() || !offs.find()) throw new IllegalArgumentException("bad header entry " + obj);
        long start = 8 + hlen + Long.parseLong(offs.group(1)), end = 8 + hlen + Long.parseLong(offs.group(2));
        String dtype = dt.group(1);
        int es = switch (dtype) { case "F32" -> 4; case "F64" -> 8; default -> throw new IllegalArgumentException(dtype); };
        double[] out = new double[(int) ((end - start) / es)];
        for (int i = 0; i < out.length; i++) {
            int pos = (int) (start + (long) i * es);
            out[i] = es == 4 ? bb.getFloat(pos) : bb.getDouble(pos);
        }
        return out;
    }

    @Test
    void matchesGoldenTables() throws IOException {
        Path f = sharedDir().resolve("golden/rope.safetensors");
        Assumptions.assumeTrue(Files.exists(f), "golden file missing: " + f);
        double[] gp = readTensor(f, "periods");
        double[] per = RopeKernels.periods(64, 100);
        assertEquals(gp.length, per.length);
        for (int j = 0; j < per.length; j++) assertEquals(gp[j], per[j], 1e-6 * per[j], "periods[" + j + "]");
        for (int[] hw : new int[][] {{4, 6}, {14, 14}, {3, 5}}) {
            RopeTable t = RopeKernels.table(hw[0], hw[1], per);
            String sfx = hw[0] + "x" + hw[1];
            double[] gs = readTensor(f, "sin_" + sfx), gc = readTensor(f, "cos_" + sfx);
            assertEquals(gs.length, t.sin().length);
            double maxErr = 0;
            for (int i = 0; i < gs.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(gs[i] - t.sin()[i]));
                maxErr = Math.max(maxErr, Math.abs(gc[i] - t.cos()[i]));
            }
            assertTrue(maxErr < 2e-6, sfx + " max abs err " + maxErr);
        }
    }
}
