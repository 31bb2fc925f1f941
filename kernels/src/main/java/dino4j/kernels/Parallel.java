package dino4j.kernels;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import java.util.concurrent.RecursiveAction;

/**
 * The one thread pool every CPU kernel runs on: owned (never the common pool), sized to the cores,
 * overridable with {@code -Ddino4j.threads=N} or {@code DINO4J_THREADS=N}.
 */
public final class Parallel {
    private Parallel() {}

    /** Body of a parallel loop over the half-open range [from, to). */
    @FunctionalInterface
    public interface RangeBody { void run(int from, int to); }

    private static volatile ForkJoinPool pool = newPool(defaultThreads());

    static int defaultThreads() {
        String p = System.getProperty("dino4j.threads");
        if (p == null || p.isBlank()) p = System.getenv("DINO4J_THREADS");
        if (p != null && !p.isBlank()) {
            try {
                int t = Integer.parseInt(p.trim());
                if (t >= 1) return t;
            } catch (NumberFormatException ignored) { }
            throw new IllegalArgumentException("dino4j.threads / DINO4J_THREADS must be a positive integer, got '" + p + "'");
        }
        return Math.max(1, Runtime.getRuntime().availableProcessors());
    }

    private static ForkJoinPool newPool(int threads) {
        return new ForkJoinPool(threads, p -> {
            var t = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(p);
            t.setName("dino4j-worker-" + t.getPoolIndex());
            t.setDaemon(true);
            return t;
        }, null, false);
    }

    public static int threads() { return pool.getParallelism(); }

    /** Replaces the pool (benchmarks sweep thread counts); running work finishes on the old one. */
    public static synchronized void setThreads(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be >= 1, got " + threads);
        if (threads == pool.getParallelism()) return;
        ForkJoinPool old = pool;
        pool = newPool(threads);
        old.shutdown();
    }

    /**
     * Runs body over [0, n) split into contiguous chunks of at least {@code grain} items, at most a few
     * chunks per thread. Runs inline when the work is small or when already on a pool thread (no nested
     * fan-out, so a kernel called from inside another parallel kernel stays serial).
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        ForkJoinPool p = pool;
        int threads = p.getParallelism();
        int g = Math.max(1, grain);
        if (threads == 1 || n <= g || ForkJoinTask.inForkJoinPool()) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min((n + g - 1) / g, threads * 4);
        if (chunks <= 1) { body.run(0, n); return; }
        p.invoke(new Split(body, n, chunks, 0, chunks));
    }

    /** Runs exactly {@code tasks} tasks (index 0..tasks-1) in parallel, e.g. one per thread. */
    public static void forEachTask(int tasks, RangeBody body) {
        if (tasks <= 0) return;
        if (tasks == 1 || pool.getParallelism() == 1 || ForkJoinTask.inForkJoinPool()) {
            for (int t = 0; t < tasks; t++) body.run(t, t + 1);
            return;
        }
        pool.invoke(new Split(body, tasks, tasks, 0, tasks));
    }

    private static final class Split extends RecursiveAction {
        private final RangeBody body;
        private final int n, chunks, lo, hi;

        Split(RangeBody body, int n, int chunks, int lo, int hi) {
            this.body = body; this.n = n; this.chunks = chunks; this.lo = lo; this.hi = hi;
        }

        @Override protected void compute() {
            if (hi - lo == 1) {
                int from = (int) ((long) n * lo / chunks), to = (int) ((long) n * (lo + 1) / chunks);
                if (to > from) body.run(from, to);
                return;
            }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Split(body, n, chunks, lo, mid), new Split(body, n, chunks, mid, hi));
        }
    }
}
