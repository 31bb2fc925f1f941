package dino4j.runtime;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Host↔device transfer counters. With {@code -Ddino4j.cuda.debug=true} each transfer is also logged with
 * its size and reason, which is how one finds an op that silently falls back to the CPU in a GPU loop.
 */
public final class Transfers {
    private Transfers() {}

    public static final boolean DEBUG = Boolean.getBoolean("dino4j.cuda.debug");
    private static final AtomicLong uploads = new AtomicLong(), uploadBytes = new AtomicLong();
    private static final AtomicLong downloads = new AtomicLong(), downloadBytes = new AtomicLong();

    private static volatile java.util.Map<String, long[]> tally;   // caller -> {count, bytes} while tracing

    /** Starts counting transfers by the code that caused them (see {@link #tally()}); cheap enough for one step. */
    public static void startTally() { tally = new java.util.concurrent.ConcurrentHashMap<>(); }

    /** Stops counting and returns "direction caller" -> {count, bytes}, largest byte counts first. */
    public static java.util.List<java.util.Map.Entry<String, long[]>> stopTally() {
        var t = tally;
        tally = null;
        if (t == null) return java.util.List.of();
        var l = new java.util.ArrayList<>(t.entrySet());
        l.sort((a, b) -> Long.compare(b.getValue()[1], a.getValue()[1]));
        return l;
    }

    private static void count(String dir, long bytes) {
        var t = tally;
        if (t == null) return;
        long[] c = t.computeIfAbsent(dir + " " + caller(), k -> new long[2]);
        synchronized (c) { c[0]++; c[1] += bytes; }
    }

    static void upload(long bytes, String why) {
        uploads.incrementAndGet();
        uploadBytes.addAndGet(bytes);
        count("upload", bytes);
        if (DEBUG) System.err.printf("dino4j cuda: upload   %,12d B  %s  at %s%n", bytes, why, caller());
    }

    static void download(long bytes, String why) {
        downloads.incrementAndGet();
        downloadBytes.addAndGet(bytes);
        count("download", bytes);
        if (DEBUG) System.err.printf("dino4j cuda: download %,12d B  %s  at %s%n", bytes, why, caller());
    }

    /** The first frames outside the runtime and the tensor plumbing: who caused the transfer. */
    private static String caller() {
        return StackWalker.getInstance().walk(st -> st
                .map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber())
                .filter(f -> !f.startsWith("dino4j.runtime.") && !f.startsWith("dino4j.tensor.Storage") && !f.startsWith("dino4j.tensor.CudaBackend")
                        && !f.startsWith("dino4j.tensor.Tensor.") && !f.startsWith("dino4j.tensor.Ops"))
                .limit(3).reduce((a, b) -> a + " < " + b).orElse("?"));
    }

    public static long uploads() { return uploads.get(); }
    public static long downloads() { return downloads.get(); }
    public static long uploadBytes() { return uploadBytes.get(); }
    public static long downloadBytes() { return downloadBytes.get(); }

    public static void reset() {
        uploads.set(0); uploadBytes.set(0); downloads.set(0); downloadBytes.set(0);
    }

    public static String summary() {
        return String.format("transfers: %d uploads (%.1f MiB), %d downloads (%.1f MiB)",
                uploads.get(), uploadBytes.get() / 1048576.0, downloads.get(), downloadBytes.get() / 1048576.0);
    }
}
