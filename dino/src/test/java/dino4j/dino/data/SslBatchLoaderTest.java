package dino4j.dino.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class SslBatchLoaderTest {
    static IdxDataset synthetic(int n, long seed) {
        Random r = new Random(seed);
        float[][] px = new float[n][28 * 28];
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < px[i].length; j++) px[i][j] = r.nextFloat();
            labels[i] = i % 10;
        }
        return new IdxDataset(new Idx.Images(n, 28, 28, px), labels);
    }

    static void assertSameBatch(SslBatchLoader.Batch a, SslBatchLoader.Batch b) {
        assertEquals(a.step(), b.step());
        assertArrayEquals(a.indices(), b.indices());
        assertArrayEquals(a.labels(), b.labels());
        assertArrayEquals(a.globals().f32(), b.globals().f32(), 0f);
        assertArrayEquals(a.locals().f32(), b.locals().f32(), 0f);
        assertArrayEquals(a.maskIndices(), b.maskIndices());
        assertArrayEquals(a.maskWeights(), b.maskWeights(), 0f);
    }

    @Test void shapesMasksAndSampler() {
        IdxDataset ds = synthetic(10, 1);
        MultiCrop mc = new MultiCrop(MultiCrop.Config.small(3)); // global 32, local 16
        try (SslBatchLoader l = new SslBatchLoader(ds, mc, SslBatchLoader.Config.of(5, 4, 42).withWorkers(0, 1))) {
            SslBatchLoader.Batch b = l.next();
            assertArrayEquals(new int[]{10, 3, 32, 32}, b.globals().shape());
            assertArrayEquals(new int[]{15, 3, 16, 16}, b.locals().shape());
            assertArrayEquals(new int[]{10, 64}, b.masks().shape());
            assertEquals(dino4j.tensor.DType.BOOL, b.masks().dtype());
            // exactly B of the 2B crops masked, with the stratified counts; indices/weights consistent
            int[] counts = new int[10];
            for (int r = 0; r < 10; r++) for (int i = 0; i < 64; i++) if (b.masks().getFlat(r * 64 + i) != 0) counts[r]++;
            assertArrayEquals(Arrays.stream(MaskGenerator.maskedCounts(10, 64, 0.5, 0.1, 0.5)).sorted().toArray(),
                    Arrays.stream(counts).filter(c -> c > 0).sorted().toArray());
            assertEquals(Arrays.stream(counts).sum(), b.nMaskedPatches());
            for (int k = 0; k < b.nMaskedPatches(); k++) {
                long fi = b.maskIndices()[k];
                assertNotEquals(0.0, b.masks().getFlat((int) fi));
                assertEquals(1f / counts[(int) (fi / 64)], b.maskWeights()[k], 1e-7f);
            }
            // infinite sampler: steps 0-1 are one permutation of the dataset, steps 2-3 another
            int[] e0 = concat(b.indices(), l.next().indices()), e1 = concat(l.next().indices(), l.next().indices());
            assertArrayEquals(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Arrays.stream(e0).sorted().toArray());
            assertArrayEquals(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Arrays.stream(e1).sorted().toArray());
            assertFalse(Arrays.equals(e0, e1));
            assertEquals(4, l.position());
            assertEquals(4, l.batchesServed());
            assertTrue(l.dataWaitNanos() > 0);
            for (int i = 0; i < 5; i++) assertEquals(ds.label(b.indices()[i]), b.labels()[i]);
            // batches straddle epoch boundaries (B = 3 does not divide N = 10)
        }
        try (SslBatchLoader l = new SslBatchLoader(ds, mc, SslBatchLoader.Config.of(3, 4, 42).withWorkers(0, 1))) {
            int[] all = new int[0];
            for (int s = 0; s < 10; s++) all = concat(all, l.next().indices());
            for (int e = 0; e < 3; e++) assertArrayEquals(new int[]{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, Arrays.stream(all, e * 10, e * 10 + 10).sorted().toArray());
        }
    }

    @Test void cropMajorLayout() {
        // no photometric ops, no flips, scale 1: both global crops of an image are the whole image resized
        MultiCrop.Config cfg = MultiCrop.Config.small(2).withScales(1.0, 1.0, 0.05, 0.32).withFlipP(0).withoutPhotometric();
        IdxDataset ds = synthetic(7, 2);
        try (SslBatchLoader l = new SslBatchLoader(ds, new MultiCrop(cfg), SslBatchLoader.Config.of(4, 4, 7).withWorkers(0, 1))) {
            SslBatchLoader.Batch b = l.next();
            float[] g = b.globals().f32();
            int sz = 3 * 32 * 32;
            for (int i = 0; i < 4; i++) {
                float[] c0 = Arrays.copyOfRange(g, i * sz, (i + 1) * sz), c1 = Arrays.copyOfRange(g, (4 + i) * sz, (5 + i) * sz);
                assertArrayEquals(c0, c1, 0f, "image " + i);
                Image expect = Augment.normalize(Augment.resize(ds.get(b.indices()[i]), 32, 32), cfg.mean(), cfg.std());
                assertArrayEquals(expect.chw(), c0, 1e-6f);
            }
        }
    }

    @Test void deterministicAcrossThreadCountsAndResumable() {
        IdxDataset ds = synthetic(13, 3);
        MultiCrop mc = new MultiCrop(MultiCrop.Config.small(2));
        SslBatchLoader.Batch[] ref = new SslBatchLoader.Batch[6];
        try (SslBatchLoader l = new SslBatchLoader(ds, mc, SslBatchLoader.Config.of(4, 8, 99).withWorkers(0, 1))) {
            for (int s = 0; s < 6; s++) ref[s] = l.next();
        }
        for (int[] wp : new int[][]{{1, 1}, {3, 2}, {4, 8}}) {
            try (SslBatchLoader l = new SslBatchLoader(ds, mc, SslBatchLoader.Config.of(4, 8, 99).withWorkers(wp[0], wp[1]))) {
                for (int s = 0; s < 6; s++) assertSameBatch(ref[s], l.next());
                assertEquals(6, l.position());
                l.seek(2);                                   // rewind with prefetch in flight
                assertSameBatch(ref[2], l.next());
                assertSameBatch(ref[3], l.next());
            }
        }
        // resume in a fresh loader
        try (SslBatchLoader l = new SslBatchLoader(ds, mc, SslBatchLoader.Config.of(4, 8, 99).withWorkers(2, 3))) {
            l.seek(4);
            assertSameBatch(ref[4], l.next());
            assertEquals(5, l.position());
        }
        // a different seed gives different batches
        try (SslBatchLoader l = new SslBatchLoader(ds, mc, SslBatchLoader.Config.of(4, 8, 100).withWorkers(0, 1))) {
            assertFalse(Arrays.equals(ref[0].globals().f32(), l.next().globals().f32()));
        }
    }

    @Test void errorsNameTheStep() {
        IdxDataset good = synthetic(4, 4);
        ImageDataset bad = new ImageDataset() {
            @Override public int size() { return 4; }
            @Override public Image get(int i) { if (i == 2) throw new IllegalStateException("boom at 2"); return good.get(i); }
            @Override public int label(int i) { return -1; }
        };
        MultiCrop mc = new MultiCrop(MultiCrop.Config.small(1));
        for (int w : new int[]{0, 2}) {
            try (SslBatchLoader l = new SslBatchLoader(bad, mc, SslBatchLoader.Config.of(4, 4, 1).withWorkers(w, 2))) {
                RuntimeException e = assertThrows(RuntimeException.class, l::next);
                assertTrue(e.getMessage().contains("step 0") && e.getMessage().contains("boom at 2"), e.getMessage());
                assertEquals(0, l.position());
            }
        }
        assertThrows(IllegalArgumentException.class,
                () -> new SslBatchLoader(good, new MultiCrop(MultiCrop.Config.small(1)), SslBatchLoader.Config.of(2, 5, 1)));
    }

    @Test void multiCropPipeline() {
        MultiCrop.Config d = MultiCrop.Config.dinov3();
        assertEquals(0.0, d.blurGlobal1P());   // effective probabilities (spec §4.2)
        assertEquals(0.9, d.blurGlobal2P());
        assertEquals(0.5, d.blurLocalP());
        assertEquals(0.2, d.solarizeP());
        assertEquals(224, d.globalSize());
        assertEquals(96, d.localSize());
        assertEquals(8, d.nLocal());
        MultiCrop mc = new MultiCrop(MultiCrop.Config.small(4).withNormalization(null, null));
        Image img = synthetic(1, 5).get(0);
        MultiCrop.Crops c = mc.apply(new Random(3), img);
        assertEquals(2, c.globals().length);
        assertEquals(4, c.locals().length);
        for (Image g : c.globals()) { assertEquals(32, g.h()); assertEquals(3, g.c()); for (float v : g.chw()) assertTrue(v >= 0 && v <= 1); }
        for (Image l : c.locals()) { assertEquals(16, l.w()); assertEquals(3, l.c()); }
        // 1-channel input is accepted (replicated)
        Image one = new Image(Arrays.copyOf(img.chw(), 28 * 28), 1, 28, 28);
        assertEquals(3, mc.apply(new Random(3), one).globals()[0].c());
    }

    @Test void effectiveBlurProbabilities() {
        // only blur left on (flip 0, scale 1, no jitter/grayscale/solarize): a crop equals the plain resize iff not blurred
        MultiCrop.Config cfg = MultiCrop.Config.small(2).withScales(1.0, 1.0, 1.0, 1.0).withFlipP(0).withoutPhotometric()
                .withBlur(9, 0.1, 2.0, 0.0, 0.9, 0.5).withNormalization(null, null);
        MultiCrop mc = new MultiCrop(cfg);
        Image img = synthetic(1, 6).get(0);
        float[] g = Augment.resize(img, 32, 32).chw(), l = Augment.resize(img, 16, 16).chw();
        int n = 400, b1 = 0, b2 = 0, bl = 0;
        for (int s = 0; s < n; s++) {
            MultiCrop.Crops c = mc.apply(new Random(s), img);
            if (!Arrays.equals(g, c.globals()[0].chw())) b1++;
            if (!Arrays.equals(g, c.globals()[1].chw())) b2++;
            for (Image x : c.locals()) if (!Arrays.equals(l, x.chw())) bl++;
        }
        assertEquals(0, b1);
        assertEquals(0.9, b2 / (double) n, 0.05);
        assertEquals(0.5, bl / (2.0 * n), 0.06);
    }

    static int[] concat(int[] a, int[] b) {
        int[] o = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }
}
