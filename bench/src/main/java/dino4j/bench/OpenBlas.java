package dino4j.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * FFM binding of OpenBLAS's {@code cblas_sgemm} (the comparison baseline of the GEMM benchmark).
 * Looks for {@code libopenblas.so.0} in the usual Debian/Ubuntu/RHEL places (or {@code -Ddino4j.openblas=PATH}).
 */
public final class OpenBlas {
    public static final int ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112;

    static final List<String> CANDIDATES = List.of(
            "/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblas.so.0",
            "/usr/lib/x86_64-linux-gnu/libopenblas.so",
            "/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
            "/usr/lib/aarch64-linux-gnu/openblas-pthread/libopenblas.so.0",
            "/usr/lib64/libopenblas.so.0", "/usr/lib64/libopenblasp.so.0",
            "/usr/lib/libopenblas.so.0", "/usr/local/lib/libopenblas.so.0", "/opt/OpenBLAS/lib/libopenblas.so.0");

    private final MethodHandle sgemm, setThreads, getThreads;
    public final Path path;

    private OpenBlas(Path path, SymbolLookup lib) {
        this.path = path;
        Linker linker = Linker.nativeLinker();
        var I = ValueLayout.JAVA_INT;
        var Fl = ValueLayout.JAVA_FLOAT;
        var P = ValueLayout.ADDRESS;
        sgemm = linker.downcallHandle(lib.find("cblas_sgemm").orElseThrow(),
                FunctionDescriptor.ofVoid(I, I, I, I, I, I, Fl, P, I, P, I, Fl, P, I));
        setThreads = lib.find("openblas_set_num_threads")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.ofVoid(I))).orElse(null);
        getThreads = lib.find("openblas_get_num_threads")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(I))).orElse(null);
    }

    /** The library, or empty (with the places searched) when OpenBLAS is not installed. */
    public static Optional<OpenBlas> load() {
        String explicit = System.getProperty("dino4j.openblas");
        List<String> paths = explicit != null ? List.of(explicit) : CANDIDATES;
        for (String p : paths) {
            Path path = Path.of(p);
            if (!Files.isReadable(path)) continue;
            try {
                SymbolLookup lib = SymbolLookup.libraryLookup(path, Arena.global());
                if (lib.find("cblas_sgemm").isEmpty()) continue;
                return Optional.of(new OpenBlas(path, lib));
            } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
                // not loadable, try the next one
            }
        }
        return Optional.empty();
    }

    public static String searched() { return String.join(", ", CANDIDATES); }

    public void setThreads(int n) {
        if (setThreads == null) return;
        try { setThreads.invokeExact(n); } catch (Throwable t) { throw new RuntimeException(t); }
    }

    public int threads() {
        if (getThreads == null) return -1;
        try { return (int) getThreads.invokeExact(); } catch (Throwable t) { throw new RuntimeException(t); }
    }

    /** Row-major cblas_sgemm on off-heap float segments. */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha, MemorySegment a, int lda,
                      MemorySegment b, int ldb, float beta, MemorySegment c, int ldc) {
        try {
            sgemm.invokeExact(ROW_MAJOR, transA ? TRANS : NO_TRANS, transB ? TRANS : NO_TRANS, m, n, k, alpha,
                    a, lda, b, ldb, beta, c, ldc);
        } catch (Throwable t) {
            throw new RuntimeException(t);
        }
    }

    /** Off-heap copy of {@code x} (made outside any timed region). */
    public static MemorySegment copy(Arena arena, float[] x) {
        MemorySegment s = arena.allocate((long) x.length * Float.BYTES, 64);
        MemorySegment.copy(x, 0, s, ValueLayout.JAVA_FLOAT, 0, x.length);
        return s;
    }
}
