package dino4j.tensor;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class TensorViewTest {
    private static Tensor iota(int... shape) {
        int n = Shape.numel(shape);
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = i;
        return Tensor.of(a, shape);
    }

    @Test void reshapeIsAViewOfContiguousData() {
        Tensor t = iota(2, 3, 4);
        Tensor r = t.reshape(6, -1);
        assertArrayEquals(new int[]{6, 4}, r.shape());
        assertSame(t.storage(), r.storage());
        assertEquals(13, r.get(3, 1));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(5, -1));
        assertThrows(IllegalArgumentException.class, () -> t.reshape(-1, -1));
        // reshape of a non-contiguous view copies
        Tensor p = t.permute(2, 0, 1).reshape(4, 6);
        assertEquals(t.get(0, 1, 2), p.get(2, 1));
    }

    @Test void permuteTransposeAndContiguous() {
        Tensor t = iota(2, 3, 4);
        Tensor p = t.permute(2, 0, 1);
        assertArrayEquals(new int[]{4, 2, 3}, p.shape());
        assertFalse(p.isContiguous());
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++)
            assertEquals(t.get(i, j, k), p.get(k, i, j));
        Tensor c = p.contiguous();
        assertTrue(c.isContiguous());
        assertEquals(t.get(1, 2, 3), c.get(3, 1, 2));
        assertSame(c, c.contiguous());
        Tensor tr = t.transpose(0, 2);
        assertEquals(t.get(1, 0, 3), tr.get(3, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> t.permute(0, 0, 1));
    }

    /** Views large enough for the parallel copy (several chunks), F32 and F64, with an offset and a stepped slice. */
    @Test void largeStridedViewsCopyExactly() {
        for (DType dt : new DType[]{DType.F32, DType.F64}) {
            Tensor t = iota(7, 33, 45, 13).to(dt);
            Tensor p = t.permute(2, 0, 3, 1);
            Tensor c = p.contiguous();
            for (int i = 0; i < 45; i += 4) for (int j = 0; j < 7; j++) for (int k = 0; k < 13; k += 3) for (int l = 0; l < 33; l += 5)
                assertEquals(t.get(j, l, i, k), c.get(i, j, k, l), dt + " permute");
            Tensor s = t.slice(1, 3, 33, 2).slice(2, 1, 44).transpose(0, 3);   // offset, stride 2, ragged rows
            Tensor sc = s.contiguous();
            assertArrayEquals(new int[]{13, 15, 43, 7}, sc.shape());
            for (int i = 0; i < 13; i += 2) for (int j = 0; j < 15; j++) for (int k = 0; k < 43; k += 7) for (int l = 0; l < 7; l++)
                assertEquals(t.get(l, 3 + 2 * j, 1 + k, i), sc.get(i, j, k, l), dt + " slice+transpose");
        }
    }

    @Test void sliceSelectUnsqueezeSqueeze() {
        Tensor t = iota(3, 5);
        Tensor s = t.slice(1, 1, 4);
        assertArrayEquals(new int[]{3, 3}, s.shape());
        assertEquals(t.get(2, 3), s.get(2, 2));
        Tensor st = t.slice(1, 0, 5, 2);
        assertArrayEquals(new int[]{3, 3}, st.shape());
        assertEquals(t.get(1, 4), st.get(1, 2));
        assertArrayEquals(new float[]{1, 3, 6, 8, 11, 13}, t.slice(1, 1, 5, 2).toFloatArray());
        Tensor row = t.select(0, 2);
        assertArrayEquals(new float[]{10, 11, 12, 13, 14}, row.toFloatArray());
        Tensor col = t.select(1, -1);
        assertArrayEquals(new float[]{4, 9, 14}, col.toFloatArray());
        Tensor u = t.unsqueeze(1);
        assertArrayEquals(new int[]{3, 1, 5}, u.shape());
        assertEquals(t.get(2, 4), u.get(2, 0, 4));
        assertArrayEquals(new int[]{3, 5, 1}, t.unsqueeze(-1).shape());
        assertArrayEquals(new int[]{3, 5}, u.squeeze(1).shape());
        assertThrows(IllegalArgumentException.class, () -> t.squeeze(0));
        assertThrows(IndexOutOfBoundsException.class, () -> t.select(0, 3));
        // a write through a view is visible in the base
        s.set(-1, 0, 0);
        assertEquals(-1, t.get(0, 1));
    }

    @Test void expandBroadcasts() {
        Tensor t = iota(3, 1);
        Tensor e = t.expand(2, 3, 4);
        assertArrayEquals(new int[]{2, 3, 4}, e.shape());
        assertEquals(2, e.get(1, 2, 3));
        assertEquals(0, e.stride(0));
        assertEquals(0, e.stride(2));
        assertArrayEquals(new float[]{0, 0, 1, 1, 2, 2}, t.expand(3, 2).toFloatArray());
        assertThrows(IllegalArgumentException.class, () -> t.expand(3, 4).expand(2, 4));
    }

    @Test void halfPrecisionRoundTrips() {
        float[] vals = {0f, 1f, -2.5f, 3.140625f, 65504f, -1e-3f, 1e30f};
        Tensor t = Tensor.of(vals, vals.length);
        Tensor bf = t.to(DType.BF16), h = t.to(DType.F16);
        float[] rb = bf.to(DType.F32).toFloatArray(), rh = h.to(DType.F32).toFloatArray();
        for (int i = 0; i < vals.length; i++) {
            assertEquals(vals[i], rb[i], Math.abs(vals[i]) * 1.0 / 256, "bf16 " + vals[i]);
            if (Math.abs(vals[i]) <= 65504) assertEquals(vals[i], rh[i], Math.abs(vals[i]) * 1.0 / 2048 + 1e-7, "f16 " + vals[i]);
        }
        assertEquals(3.140625f, rb[3]); // exactly representable in bf16
        assertEquals(Float.POSITIVE_INFINITY, rh[6]); // f16 overflow
        // bf16 -> f32 -> bf16 is exact
        assertArrayEquals(bf.storage().halves(), rb.length == 0 ? null : Tensor.of(rb, rb.length).to(DType.BF16).storage().halves());
        // round to nearest even: 1 + 2^-8 is a tie between 1 and 1 + 2^-7 → 1
        assertEquals(1f, Tensor.of(new float[]{1f + 1f / 256}, 1).to(DType.BF16).to(DType.F32).toFloatArray()[0]);
    }

    @Test void dtypeConversion() {
        Random rng = new Random(1);
        Tensor t = Tensor.randn(rng, DType.F64, 2, 3);
        Tensor f = t.to(DType.F32);
        assertEquals(DType.F32, f.dtype());
        assertSame(t, t.to(DType.F64));
        for (int i = 0; i < 6; i++) assertEquals((float) t.getFlat(i), f.getFlat(i));
        Tensor l = Tensor.of(new double[]{1.9, -2.2, 3}, 3).to(DType.I64);
        assertArrayEquals(new long[]{1, -2, 3}, l.storage().longs());
        Tensor b = Tensor.of(new float[]{0, 2, -1}, 3).to(DType.BOOL);
        assertArrayEquals(new byte[]{0, 1, 1}, b.storage().bytes());
        // conversion of a strided view
        Tensor p = Tensor.of(new float[]{1, 2, 3, 4, 5, 6}, 2, 3).transpose(0, 1).to(DType.F64);
        assertArrayEquals(new double[]{1, 4, 2, 5, 3, 6}, p.toDoubleArray(), 0);
    }

    @Test void versionCounting() {
        Tensor t = Tensor.zeros(3);
        int v = t.version();
        t.set(1, 0);
        assertEquals(v + 1, t.version());
        Ops.fill_(t, 2);
        assertEquals(v + 2, t.version());
        Ops.addInPlace(t, Tensor.scalar(1));
        assertArrayEquals(new float[]{3, 3, 3}, t.toFloatArray());
        assertEquals(v + 3, t.version());
    }
}
