package dino4j.kernels;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * The {@link GemmKernels#sgemm} contract with bfloat16 inputs and float32 accumulation ({@code src/main/c/gemm_bf16.c}):
 * on Intel AMX tiles where the CPU has them, else on AVX512-BF16 dot products (AMD Zen 4/5, Intel Cooper Lake),
 * called through the FFM API with critical downcalls that read the Java arrays in place. The Vector API has no
 * tile or bf16 dot-product operations, so this family alone is C; it is what {@code -Ddino4j.cpu.matmul=bf16}
 * (or {@code --matmul bf16}) selects, like PyTorch's {@code set_float32_matmul_precision("medium")}.
 * {@link #available()} is the "can I run this" check: the library was built (gcc that targets AMX and
 * AVX512-BF16) and the CPU (and, for AMX, the kernel's grant of the tile state) supports one of the two;
 * {@link #status()} says which, in one line. {@code -Ddino4j.bf16.kernel=auto|amx|avx512bf16|off} picks or
 * forbids one (default auto: AMX first). Calls split the rows (or columns) over {@link Parallel}'s pool.
 */
public final class GemmBf16 {
    private GemmBf16() {}

    /** The instruction sets this family can run on. */
    public enum Kernel { AMX, AVX512BF16 }

    static final String RESOURCE = "/dino4j/cpu/linux-x86_64/libdino4j_cpu.so";
    /** Smaller products stay on the float32 Vector-API kernels (padding to 32×32 tiles and packing would dominate). */
    static final long MIN_FMAS = 1L << 18;

    private static final class Lib {
        /** The downcall of each kernel this CPU can run (index = Kernel.ordinal()), null where it cannot. */
        static final MethodHandle[] GEMMS = new MethodHandle[Kernel.values().length];
        static final Kernel KERNEL;
        static final String STATUS;
        static {
            Kernel kernel = null;
            String status;
            try {
                String want = System.getProperty("dino4j.bf16.kernel", "auto").trim().toLowerCase(java.util.Locale.ROOT);
                if (!java.util.Set.of("auto", "amx", "avx512bf16", "off").contains(want))
                    throw new IllegalArgumentException("-Ddino4j.bf16.kernel must be auto, amx, avx512bf16 or off, got '" + want + "'");
                Path so = want.equals("off") ? null : extract();
                if (want.equals("off")) {
                    status = "BF16 GEMM disabled by -Ddino4j.bf16.kernel=off";
                } else if (so == null) {
                    status = "BF16 GEMM not built (no gcc that targets AMX and AVX512-BF16 at build time, or not Linux x86-64)";
                } else {
                    Linker linker = Linker.nativeLinker();
                    SymbolLookup lib = SymbolLookup.libraryLookup(so, Arena.global());
                    FunctionDescriptor gemm = FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT,
                            JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_INT, ADDRESS);
                    if (!want.equals("avx512bf16") && init(linker, lib, "dino4j_amx_init"))
                        GEMMS[Kernel.AMX.ordinal()] = linker.downcallHandle(lib.find("dino4j_gemm_amx").orElseThrow(), gemm, Linker.Option.critical(true));
                    if (!want.equals("amx") && init(linker, lib, "dino4j_avx512bf16_init"))
                        GEMMS[Kernel.AVX512BF16.ordinal()] = linker.downcallHandle(lib.find("dino4j_gemm_avx512bf16").orElseThrow(), gemm, Linker.Option.critical(true));
                    kernel = GEMMS[0] != null ? Kernel.AMX : GEMMS[1] != null ? Kernel.AVX512BF16 : null;
                    status = kernel != null ? "BF16 GEMM ready on " + (kernel == Kernel.AMX ? "AMX tiles" : "AVX512-BF16")
                            : "BF16 GEMM unavailable: this CPU has " + (want.equals("amx") ? "no AMX-BF16 (or the OS refused the tile state)"
                            : want.equals("avx512bf16") ? "no AVX512-BF16" : "neither AMX-BF16 nor AVX512-BF16");
                }
            } catch (Throwable t) {
                java.util.Arrays.fill(GEMMS, null);
                kernel = null;
                status = "BF16 GEMM unavailable: " + t;
            }
            KERNEL = kernel;
            STATUS = status;
        }

        private static boolean init(Linker linker, SymbolLookup lib, String fn) throws Throwable {
            MethodHandle h = linker.downcallHandle(lib.find(fn).orElseThrow(), FunctionDescriptor.of(JAVA_INT));
            return (int) h.invokeExact() == 1;
        }

        /** The library as a file: in place when the class path is a folder, else copied to a temporary file. */
        private static Path extract() throws IOException {
            var url = GemmBf16.class.getResource(RESOURCE);
            if (url == null) return null;
            if ("file".equals(url.getProtocol())) {
                try { return Path.of(url.toURI()); } catch (java.net.URISyntaxException e) { throw new IOException(e); }
            }
            Path tmp = Files.createTempFile("libdino4j_cpu", ".so");
            tmp.toFile().deleteOnExit();
            try (InputStream in = url.openStream()) { Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING); }
            return tmp;
        }
    }

    public static boolean available() { return Lib.KERNEL != null; }

    /** The instruction set in use; null when {@link #available()} is false. */
    public static Kernel kernel() { return Lib.KERNEL; }

    /** Whether {@code k} runs here (tests call each kernel this CPU has through {@link #sgemm(Kernel, boolean, boolean, int, int, int, float, float[], int, int, float[], int, int, float, float[], int, int, float[], int)}). */
    public static boolean runs(Kernel k) { return Lib.GEMMS[k.ordinal()] != null; }

    /** One line: ready, or why not. */
    public static String status() { return Lib.STATUS; }

    /**
     * {@code C = alpha·op(A)·op(B) + beta·C (+ bias[j] on every row)}, bf16 products with float32 accumulation,
     * on {@link #kernel()}. The caller checks {@link #available()}; a null bias adds nothing; beta = 0 never reads C.
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        if (!available()) throw new IllegalStateException(status());
        sgemm(kernel(), transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, bias, biasOff);
    }

    /** The same on a given kernel, which must {@link #runs(Kernel) run} here. */
    public static void sgemm(Kernel kernel, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        MethodHandle h = Lib.GEMMS[kernel.ordinal()];
        if (h == null) throw new IllegalStateException(kernel + " BF16 GEMM does not run here: " + status());
        if (m <= 0 || n <= 0) return;
        // the C side trusts these extents: check them here, as the Java arrays would
        extent("A", a, aOff, lda, transA ? k : m, transA ? m : k);
        extent("B", b, bOff, ldb, transB ? n : k, transB ? k : n);
        extent("C", c, cOff, ldc, m, n);
        if (bias != null) extent("bias", bias, biasOff, n, 1, n);
        int threads = Math.min(Parallel.threads(), Math.max(1, (int) (((long) m * n * k) / MIN_FMAS)));
        // Split the larger side in 32-aligned parts (one 2×2 tile block); each part packs the shared operand itself.
        boolean splitM = m >= n || n < 64;
        int blocks = ((splitM ? m : n) + 31) / 32;
        int tasks = Math.min(threads, blocks);
        if (tasks <= 1) {
            call(h, transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc, bias, biasOff);
            return;
        }
        Parallel.forEachTask(tasks, (t0, t1) -> {
            for (int t = t0; t < t1; t++) {
                int lo = Math.min(splitM ? m : n, (int) ((long) blocks * t / tasks) * 32);
                int hi = Math.min(splitM ? m : n, (int) ((long) blocks * (t + 1) / tasks) * 32);
                if (hi <= lo) continue;
                if (splitM) {
                    call(h, transA, transB, hi - lo, n, k, alpha, a, transA ? aOff + lo : aOff + lo * lda, lda,
                            b, bOff, ldb, beta, c, cOff + lo * ldc, ldc, bias, biasOff);
                } else {
                    call(h, transA, transB, m, hi - lo, k, alpha, a, aOff, lda, b, transB ? bOff + lo * ldb : bOff + lo, ldb,
                            beta, c, cOff + lo, ldc, bias, biasOff + lo);
                }
            }
        });
    }

    private static void call(MethodHandle h, boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                             float beta, float[] c, int cOff, int ldc, float[] bias, int biasOff) {
        int rc;
        MemorySegment bs = bias == null ? MemorySegment.NULL : slice(bias, biasOff);
        try {
            rc = (int) h.invokeExact(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha,
                    slice(a, aOff), lda, slice(b, bOff), ldb, beta, slice(c, cOff), ldc,
                    bs);
        } catch (Throwable t) {
            throw new IllegalStateException("BF16 GEMM call failed", t);
        }
        if (rc != 0) throw new OutOfMemoryError("BF16 GEMM: native packing buffers for " + m + "x" + n + "x" + k + " could not be allocated");
    }

    /** rows × cols at off with leading dimension ld must lie inside x. */
    private static void extent(String what, float[] x, int off, int ld, int rows, int cols) {
        if (rows <= 0 || cols <= 0) return;
        if (x == null) throw new IllegalArgumentException(what + " is null");
        if (ld < cols) throw new IllegalArgumentException(what + ": leading dimension " + ld + " < " + cols + " columns");
        long end = off + (long) (rows - 1) * ld + cols;
        if (off < 0 || end > x.length) {
            throw new IndexOutOfBoundsException(what + ": " + rows + "x" + cols + " (ld " + ld + ") at offset " + off
                    + " needs " + end + " floats, the array has " + x.length);
        }
    }

    private static MemorySegment slice(float[] x, int off) { return MemorySegment.ofArray(x).asSlice(4L * off); }
}
