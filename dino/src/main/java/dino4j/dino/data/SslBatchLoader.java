package dino4j.dino.data;

import dino4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * SSL batch loader: multi-crop augmentation + iBOT masks, collated crop-major like the reference (§4.1),
 * built by worker threads into a bounded prefetch window, in step order.
 * <p>
 * Determinism: batch {@code step} holds the samples at positions {@code [step·B, step·B + B)} of an
 * infinite stream of shuffled epochs (epoch e = a permutation of the dataset seeded from (seed, e);
 * batches may span an epoch boundary, like the reference InfiniteSampler). Sample b of step s is
 * augmented with a {@link Random} seeded from (seed, s, b); the masks of step s with one seeded from
 * (seed, s). A batch is therefore a pure function of (dataset, config, seed, step), independent of the
 * number of workers and of thread scheduling.
 * <p>
 * Resume: {@link #position()} is the step of the next batch {@link #next()} returns; {@link #seek(long)}
 * restarts there (in-flight prefetch is discarded). {@link #dataWaitNanos()} is the total time
 * {@code next()} spent waiting for data (with 0 workers: the time building batches inline).
 * <p>
 * If building a batch fails, {@code next()} throws (naming the step) and the position does not advance;
 * {@code seek(position()+1)} skips the batch.
 */
public final class SslBatchLoader implements AutoCloseable {

    /**
     * @param batchSize             images per batch (B)
     * @param patchSize             mask grid = globalSize / patchSize per side
     * @param maskSampleProbability fraction of the 2B global crops that get a mask (reference 0.5)
     * @param maskRatioMin          lower end of the mask-ratio linspace (0.1)
     * @param maskRatioMax          upper end (0.5)
     * @param workers               worker threads; 0 = build synchronously inside {@link #next()}
     * @param prefetch              max batches being built or ready ahead of the consumer (≥ 1)
     * @param seed                  base seed
     */
    public record Config(int batchSize, int patchSize, double maskSampleProbability, double maskRatioMin,
                         double maskRatioMax, int workers, int prefetch, long seed) {
        public Config {
            if (batchSize <= 0) throw new IllegalArgumentException("batchSize must be > 0");
            if (patchSize <= 0) throw new IllegalArgumentException("patchSize must be > 0");
            if (workers < 0) throw new IllegalArgumentException("workers must be >= 0");
            if (prefetch < 1) throw new IllegalArgumentException("prefetch must be >= 1");
            if (!(0 <= maskSampleProbability && maskSampleProbability <= 1)) throw new IllegalArgumentException("bad maskSampleProbability");
            if (!(0 <= maskRatioMin && maskRatioMin <= maskRatioMax && maskRatioMax <= 1)) throw new IllegalArgumentException("bad mask ratios");
        }

        /** Reference masking (0.5, (0.1, 0.5)), 2 workers, prefetch 4. */
        public static Config of(int batchSize, int patchSize, long seed) {
            return new Config(batchSize, patchSize, 0.5, 0.1, 0.5, 2, 4, seed);
        }

        public Config withWorkers(int workers, int prefetch) {
            return new Config(batchSize, patchSize, maskSampleProbability, maskRatioMin, maskRatioMax, workers, prefetch, seed);
        }

        public Config withMasking(double sampleProbability, double ratioMin, double ratioMax) {
            return new Config(batchSize, patchSize, sampleProbability, ratioMin, ratioMax, workers, prefetch, seed);
        }
    }

    /**
     * One collated batch.
     * <ul>
     *   <li>{@code globals} F32 [2B, 3, G, G]: rows 0..B-1 = every image's crop 0, rows B..2B-1 = crop 1.</li>
     *   <li>{@code locals} F32 [N·B, 3, L, L] (row k·B + b = local k of image b), or null when N = 0.</li>
     *   <li>{@code masks} BOOL [2B, h·w], row r belongs to {@code globals} row r.</li>
     *   <li>{@code indices}/{@code labels}: dataset index / label (−1 if none) of image b.</li>
     *   <li>{@code maskIndices}: flat indices (into masks viewed as [2B·h·w]) of all masked patches, ascending;
     *       {@code maskWeights}: 1 / (masked count of that patch's crop) per masked patch.</li>
     * </ul>
     */
    public record Batch(long step, int batchSize, int nLocal, Tensor globals, Tensor locals, Tensor masks,
                        int[] indices, int[] labels, long[] maskIndices, float[] maskWeights) {
        public int nMaskedPatches() { return maskIndices.length; }

        public Tensor maskIndicesTensor() { return Tensor.ofLongs(maskIndices, maskIndices.length); }

        public Tensor maskWeightsTensor() { return Tensor.of(maskWeights, maskWeights.length); }
    }

    private static final long SALT_EPOCH = 0x5EED_E90C_0000_0001L, SALT_SAMPLE = 0x5EED_5A3F_0000_0002L,
            SALT_MASK = 0x5EED_3A5C_0000_0003L;

    private final ImageDataset dataset;
    private final MultiCrop multiCrop;
    private final Config cfg;
    private final MaskGenerator maskGen;
    private final int gridH, gridW;

    /** Permutations of the few most recently used epochs (LRU, guarded by itself). */
    private final java.util.LinkedHashMap<Long, int[]> perms = new java.util.LinkedHashMap<>(8, 0.75f, true) {
        @Override protected boolean removeEldestEntry(java.util.Map.Entry<Long, int[]> e) { return size() > 4; }
    };

    private long position;
    private Pipeline pipeline;
    private long dataWaitNanos, lastWaitNanos, served;
    private boolean closed;

    public SslBatchLoader(ImageDataset dataset, MultiCrop multiCrop, Config cfg) {
        if (dataset.size() == 0) throw new IllegalArgumentException("empty dataset");
        int g = multiCrop.globalSize();
        if (g % cfg.patchSize() != 0)
            throw new IllegalArgumentException("global crop size " + g + " is not a multiple of the patch size " + cfg.patchSize());
        this.dataset = dataset;
        this.multiCrop = multiCrop;
        this.cfg = cfg;
        this.gridH = g / cfg.patchSize();
        this.gridW = g / cfg.patchSize();
        this.maskGen = new MaskGenerator(gridH, gridW);
    }

    public Config config() { return cfg; }

    public ImageDataset dataset() { return dataset; }

    public MultiCrop multiCrop() { return multiCrop; }

    /** Patches per global crop (mask row length). */
    public int numPatches() { return gridH * gridW; }

    /** Step of the batch the next {@link #next()} returns (save this to resume). */
    public synchronized long position() { return position; }

    /** Epoch (pass over the shuffled dataset) the first sample of batch {@code step} belongs to. */
    public long epochOf(long step) { return step * cfg.batchSize() / dataset.size(); }

    /** Continues from batch {@code step}: discards prefetched work and restarts the workers there. */
    public synchronized void seek(long step) {
        if (step < 0) throw new IllegalArgumentException("step must be >= 0");
        checkOpen();
        stopPipeline();
        position = step;
    }

    /** Total nanoseconds {@link #next()} has waited for data. */
    public synchronized long dataWaitNanos() { return dataWaitNanos; }

    /** Wait of the latest {@link #next()} call. */
    public synchronized long lastDataWaitNanos() { return lastWaitNanos; }

    /** Batches returned so far. */
    public synchronized long batchesServed() { return served; }

    /** The next batch, in step order; blocks until it is built. */
    public synchronized Batch next() {
        checkOpen();
        long s = position;
        long t0 = System.nanoTime();
        Batch b;
        if (cfg.workers() == 0) {
            try {
                b = batchAt(s);
            } catch (RuntimeException e) {
                throw new RuntimeException("building SSL batch at step " + s + " failed: " + e.getMessage(), e);
            }
        } else {
            if (pipeline == null) pipeline = new Pipeline(s);
            b = pipeline.take(s);
        }
        long dt = System.nanoTime() - t0;
        lastWaitNanos = dt;
        dataWaitNanos += dt;
        served++;
        position = s + 1;
        return b;
    }

    @Override public synchronized void close() {
        closed = true;
        stopPipeline();
    }

    private void checkOpen() {
        if (closed) throw new IllegalStateException("loader is closed");
    }

    private void stopPipeline() {
        if (pipeline != null) {
            pipeline.stop();
            pipeline = null;
        }
    }

    // ------------------------------------------------------------------ deterministic batch construction

    /** Dataset indices of the B samples of batch {@code step}. */
    public int[] sampleIndices(long step) {
        int B = cfg.batchSize(), n = dataset.size();
        int[] out = new int[B];
        for (int b = 0; b < B; b++) {
            long pos = step * B + b;
            out[b] = permutation(pos / n)[(int) (pos % n)];
        }
        return out;
    }

    private int[] permutation(long epoch) {
        synchronized (perms) {
            int[] c = perms.get(epoch);
            if (c != null) return c;
        }
        int n = dataset.size();
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        Random r = new Random(mix(cfg.seed(), SALT_EPOCH, epoch));
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = p[i]; p[i] = p[j]; p[j] = t;
        }
        synchronized (perms) {
            perms.put(epoch, p);
        }
        return p;
    }

    /** Builds batch {@code step} synchronously (pure function of seed and step; does not move the position). */
    public Batch batchAt(long step) {
        int B = cfg.batchSize(), N = multiCrop.nLocal(), G = multiCrop.globalSize(), L = multiCrop.localSize(), C = 3;
        int[] idx = sampleIndices(step);
        int[] labels = new int[B];
        int gSz = C * G * G, lSz = C * L * L;
        float[] globals = new float[2 * B * gSz];
        float[] locals = N == 0 ? null : new float[N * B * lSz];
        for (int b = 0; b < B; b++) {
            Image img;
            try {
                img = dataset.get(idx[b]);
            } catch (RuntimeException e) {
                throw new RuntimeException("dataset item " + idx[b] + ": " + e.getMessage(), e);
            }
            labels[b] = dataset.label(idx[b]);
            MultiCrop.Crops crops = multiCrop.apply(new Random(mix(cfg.seed(), SALT_SAMPLE, step, b)), img);
            for (int k = 0; k < 2; k++) copyInto(crops.globals()[k], globals, (k * B + b) * gSz, C, G);
            for (int k = 0; k < N; k++) copyInto(crops.locals()[k], locals, (k * B + b) * lSz, C, L);
        }
        int P = numPatches(), M = 2 * B;
        boolean[][] masks = maskGen.sampleBatch(new Random(mix(cfg.seed(), SALT_MASK, step)), M,
                cfg.maskSampleProbability(), cfg.maskRatioMin(), cfg.maskRatioMax());
        boolean[] flat = new boolean[M * P];
        int total = 0;
        for (int r = 0; r < M; r++) {
            System.arraycopy(masks[r], 0, flat, r * P, P);
            total += MaskGenerator.count(masks[r]);
        }
        long[] mIdx = new long[total];
        float[] mW = new float[total];
        int k = 0;
        for (int r = 0; r < M; r++) {
            int cnt = MaskGenerator.count(masks[r]);
            float w = 1f / Math.max(cnt, 1);
            for (int i = 0; i < P; i++) if (masks[r][i]) { mIdx[k] = (long) r * P + i; mW[k++] = w; }
        }
        return new Batch(step, B, N, Tensor.of(globals, 2 * B, C, G, G),
                locals == null ? null : Tensor.of(locals, N * B, C, L, L),
                Tensor.ofBools(flat, M, P), idx, labels, mIdx, mW);
    }

    private static void copyInto(Image im, float[] dst, int off, int C, int S) {
        if (im.c() != C || im.h() != S || im.w() != S)
            throw new IllegalStateException("crop has shape " + im.c() + "×" + im.h() + "×" + im.w() + ", expected " + C + "×" + S + "×" + S);
        System.arraycopy(im.chw(), 0, dst, off, im.chw().length);
    }

    /** SplitMix64-based mixing of a seed with a sequence of values. */
    static long mix(long seed, long... parts) {
        long h = splitmix(seed ^ 0x9E3779B97F4A7C15L);
        for (long p : parts) h = splitmix(h ^ splitmix(p + 0x632BE59BD9B4E019L));
        return h;
    }

    private static long splitmix(long z) {
        z += 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // ------------------------------------------------------------------ worker pipeline

    /** Workers claiming steps in order from {@code start}, at most {@code prefetch} ahead of the consumer. */
    private final class Pipeline {
        private final ConcurrentHashMap<Long, CompletableFuture<Batch>> pending = new ConcurrentHashMap<>();
        private final Semaphore permits = new Semaphore(cfg.prefetch());
        private final AtomicLong nextToBuild;
        private final List<Thread> threads = new ArrayList<>();
        private volatile boolean stopped;

        Pipeline(long start) {
            nextToBuild = new AtomicLong(start);
            for (int i = 0; i < cfg.workers(); i++) {
                Thread t = Thread.ofPlatform().daemon().name("dino4j-data-" + i).unstarted(this::run);
                threads.add(t);
                t.start();
            }
        }

        private CompletableFuture<Batch> future(long step) {
            return pending.computeIfAbsent(step, k -> new CompletableFuture<>());
        }

        private void run() {
            while (!stopped) {
                try {
                    permits.acquire();
                } catch (InterruptedException e) {
                    return;
                }
                if (stopped) return;
                long s = nextToBuild.getAndIncrement();
                CompletableFuture<Batch> f = future(s);
                try {
                    f.complete(batchAt(s));
                } catch (Throwable t) {
                    f.completeExceptionally(t);
                }
            }
        }

        Batch take(long step) {
            CompletableFuture<Batch> f = future(step);
            Batch b;
            try {
                b = f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for SSL batch " + step, e);
            } catch (ExecutionException e) {
                Throwable c = e.getCause();
                throw new RuntimeException("building SSL batch at step " + step + " failed: " + c.getMessage(), c);
            }
            pending.remove(step);
            permits.release();
            return b;
        }

        void stop() {
            stopped = true;
            for (Thread t : threads) t.interrupt();
            for (Thread t : threads) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
            pending.clear();
        }
    }
}
