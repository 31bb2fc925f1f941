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

    static void upload(long bytes, String why) {
        uploads.incrementAndGet();
        uploadBytes.addAndGet(bytes);
        if (DEBUG) System.err.printf("dino4j cuda: upload   %,12d B  %s  at %s%n", bytes, why, caller());
    }

    static void download(long bytes, String why) {
        downloads.incrementAndGet();
        downloadBytes.addAndGet(bytes);
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
