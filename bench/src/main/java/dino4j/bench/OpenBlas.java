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

    private final MethodHandle sgemm, setThreads, getThreads, corename, config;
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
        corename = lib.find("openblas_get_corename")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(P))).orElse(null);
        config = lib.find("openblas_get_config")
                .map(s -> linker.downcallHandle(s, FunctionDescriptor.of(P))).orElse(null);
    }

    /** "core KERNEL, CONFIG" as OpenBLAS reports it (which kernel its dynamic-arch dispatch picked). */
    public String describe() {
        return "core " + cstr(corename) + ", " + cstr(config);
    }

    private static String cstr(MethodHandle h) {
        if (h == null) return "?";
        try {
            MemorySegment p = (MemorySegment) h.invokeExact();
            return p.equals(MemorySegment.NULL) ? "?" : p.reinterpret(256).getString(0);
        } catch (Throwable t) {
            return "?";
        }
    }

    /**
     * OpenBLAS 0.3.21's DYNAMIC_ARCH dispatch reads the CPU model from cpuid; in VMs that report a generic
     * "Intel Xeon Processor" it falls back to the SSE3 "Prescott" kernels (~30 GFLOP/s here, 5x below what the
     * CPU does). For a fair baseline, unless the user set {@code OPENBLAS_CORETYPE} (or
     * {@code -Ddino4j.openblas.core=NAME}, "none" to disable), we set it from the CPU flags before the library
     * loads: SkylakeX with AVX-512, Haswell with AVX2. The chosen kernel is printed by {@link #describe()}.
     */
    static void chooseCoreType() {
        if (System.getenv("OPENBLAS_CORETYPE") != null) return;
        String core = preferredCoreType();
        if (core == null) return;
        try (Arena arena = Arena.ofConfined()) {
            Linker linker = Linker.nativeLinker();
            MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            int rc = (int) setenv.invokeExact(arena.allocateFrom("OPENBLAS_CORETYPE"), arena.allocateFrom(core), 0);
        } catch (Throwable t) {
            // leave OpenBLAS's own detection
        }
    }

    /**
     * The OpenBLAS kernel this CPU should get (SkylakeX with AVX-512, Haswell with AVX2), or null: the
     * -Ddino4j.openblas.core override ("none" = leave OpenBLAS's own detection) or the /proc/cpuinfo flags.
     * Also given to the PyTorch peers, whose BLAS is the same OpenBLAS.
     */
    static String preferredCoreType() {
        String core = System.getProperty("dino4j.openblas.core");
        if (core == null) {
            String flags = "";
            try {
                for (String l : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (l.startsWith("flags")) { flags = " " + l.substring(l.indexOf(':') + 1) + " "; break; }
                }
            } catch (Exception ignored) { }
            if (flags.contains(" avx512f ") && flags.contains(" avx512vl ") && flags.contains(" avx512bw ")
                    && flags.contains(" avx512dq ")) core = "SkylakeX";
            else if (flags.contains(" avx2 ") && flags.contains(" fma ")) core = "Haswell";
        }
        return core == null || core.equals("none") ? null : core;
    }

    /** The library, or empty (with the places searched) when OpenBLAS is not installed. */
    public static synchronized Optional<OpenBlas> load() {
        chooseCoreType();
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
