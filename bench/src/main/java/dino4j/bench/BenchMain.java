package dino4j.bench;

import dino4j.kernels.GemmKernels;
import dino4j.kernels.Parallel;
import dino4j.kernels.Simd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code ./dino4j bench ...}: the benchmark entry point (gemm vs OpenBLAS, JMH). */
@Command(name = "dino4j bench", mixinStandardHelpOptions = true,
        description = {"Benchmarks: 'gemm' (ours vs OpenBLAS, one line per size), 'vit' (ViT forward) and 'ssl' (one SSL",
                "training step), both ours vs PyTorch, and 'jmh [JMH args]' (JMH's Main)."},
        subcommands = {BenchMain.Gemm.class, BenchMain.Jmh.class, VitBench.class, SslStepBench.class})
public final class BenchMain implements Callable<Integer> {

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("jmh")) { // JMH parses its own arguments
            org.openjdk.jmh.Main.main(Arrays.copyOfRange(args, 1, args.length));
            return;
        }
        System.exit(new CommandLine(new BenchMain()).execute(args));
    }

    @Override public Integer call() {
        new CommandLine(this).usage(System.out);
        return 0;
    }

    @Command(name = "jmh", description = "Runs JMH's Main with the given arguments (e.g. 'GemmBench -p size=1024').")
    static final class Jmh implements Callable<Integer> {
        @CommandLine.Unmatched List<String> rest;
        @Override public Integer call() throws Exception {
            org.openjdk.jmh.Main.main(rest == null ? new String[0] : rest.toArray(String[]::new));
            return 0;
        }
    }

    @Command(name = "gemm", mixinStandardHelpOptions = true,
            description = "f32 GEMM C = op(A)·op(B): our kernel vs OpenBLAS cblas_sgemm, same thread count.")
    static final class Gemm implements Callable<Integer> {
        @Option(names = "--size", split = ",", paramLabel = "N|MxNxK", description = "shapes: N (square) or MxNxK, e.g. 17664x288x96 (a training step's shapes: --profile of pretrain or bench ssl lists them); default 256,512,1024,2048")
        String[] sizes = {"256", "512", "1024", "2048"};
        @Option(names = "--threads", split = ",", description = "thread counts (ours and OpenBLAS's); default: the pool's")
        int[] threads;
        @Option(names = "--reps", description = "timed repetitions (best reported, median shown); default ${DEFAULT-VALUE}")
        int reps = 7;
        @Option(names = "--transA") boolean transA;
        @Option(names = "--transB") boolean transB;
        @Option(names = "--matmul", paramLabel = "P", description = "ours in fp32 (Vector API) or bf16 (AMX tiles or AVX512-BF16, fp32 sums; OpenBLAS stays fp32 sgemm) (default: ${DEFAULT-VALUE})")
        String matmul = "fp32";

        private GemmKernels.Precision precision;
        private String ourType;

        @Override public Integer call() {
            precision = GemmKernels.setMatmulPrecision(GemmKernels.parsePrecision("--matmul", matmul));
            ourType = precision == GemmKernels.Precision.BF16 ? "ours-bf16-" + dino4j.kernels.GemmBf16.kernel().name().toLowerCase(java.util.Locale.ROOT) + "/openblas-f32" : "f32";
            if (!matmul.equalsIgnoreCase(precision.name())) System.out.println("matmul: " + dino4j.kernels.GemmBf16.status() + "; ours runs fp32");
            Optional<OpenBlas> blas = OpenBlas.load();
            System.out.printf("cpu: %s, %d cores; jdk %s; species %s (%d lanes); micro-tile %dx%d%n",
                    cpuModel(), Runtime.getRuntime().availableProcessors(), Runtime.version(), Simd.F, Simd.LANES,
                    GemmKernels.MR, GemmKernels.NR);
            if (blas.isEmpty()) {
                System.out.println("openblas: not found (searched " + OpenBlas.searched()
                        + "; install libopenblas0-pthread or pass -Ddino4j.openblas=PATH) — timing ours only");
            } else {
                System.out.println("openblas: " + blas.get().path + " (" + blas.get().describe() + ")");
            }
            int[] ths = threads != null ? threads : new int[] {Parallel.threads()};
            for (int t : ths) {
                Parallel.setThreads(t);
                blas.ifPresent(b -> b.setThreads(t));
                System.out.println("threads: " + t + (blas.isPresent() ? " (openblas reports " + blas.get().threads() + ")" : ""));
                for (String sz : sizes) runShape(shape(sz), blas.orElse(null));
            }
            return 0;
        }

        /** "N" or "MxNxK" as {M, N, K}; errors name the option. */
        static int[] shape(String s) {
            String[] p = s.trim().toLowerCase(java.util.Locale.ROOT).split("[x×]");
            try {
                int[] v = p.length == 1 ? new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[0]), Integer.parseInt(p[0])}
                        : p.length == 3 ? new int[] {Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2])} : null;
                if (v != null && v[0] > 0 && v[1] > 0 && v[2] > 0) return v;
            } catch (NumberFormatException ignored) { }
            throw new IllegalArgumentException("--size must be N or MxNxK with positive integers, got '" + s + "'");
        }

        private void runShape(int[] mnk, OpenBlas blas) {
            int m = mnk[0], n = mnk[1], k = mnk[2];
            int lda = transA ? m : k, ldb = transB ? k : n;
            SplittableRandom rnd = new SplittableRandom(m * 31L + n * 7L + k);
            float[] a = new float[m * k], b = new float[k * n], c = new float[m * n];
            for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
            for (int i = 0; i < b.length; i++) b[i] = (float) rnd.nextDouble(-1, 1);
            double flop = 2.0 * m * n * k;
            // Repeat each timed sample so that it lasts at least ~30 ms.
            int inner = (int) Math.max(1, Math.min(1000, 3e9 / flop));
            Runnable ours = () -> GemmKernels.sgemm(transA, transB, m, n, k, 1f, a, 0, lda, b, 0, ldb, 0f, c, 0, n);
            if (blas == null) {
                double[] mine = time(ours, null, inner, flop)[0];
                System.out.printf("gemm %s %d×%d×%d: ours %.1f GFLOP/s (median %.1f), openblas n/a%n", ourType, m, n, k, mine[0], mine[1]);
                return;
            }
            try (Arena arena = Arena.ofConfined()) {
                // Off-heap copies for OpenBLAS, made outside the timed region.
                MemorySegment as = OpenBlas.copy(arena, a), bs = OpenBlas.copy(arena, b);
                MemorySegment cs = arena.allocate((long) m * n * Float.BYTES, 64);
                Runnable theirs = () -> blas.sgemm(transA, transB, m, n, k, 1f, as, lda, bs, ldb, 0f, cs, n);
                double[][] g = time(ours, theirs, inner, flop);
                double[] mine = g[0], ref = g[1];
                float[] r = cs.toArray(ValueLayout.JAVA_FLOAT);
                double maxAbs = 0, maxDiff = 0;
                for (int i = 0; i < r.length; i++) {
                    maxAbs = Math.max(maxAbs, Math.abs(r[i]));
                    maxDiff = Math.max(maxDiff, Math.abs(r[i] - c[i]));
                }
                if (!(maxDiff <= maxAbs * (precision == GemmKernels.Precision.BF16 ? 2e-2 : 1e-4))) { // NaN-safe; bf16 inputs: 8-bit mantissas
                    System.out.println("MISMATCH vs openblas: max abs diff " + maxDiff + " (max |C| " + maxAbs + ")");
                }
                System.out.printf("gemm %s %d×%d×%d%s: ours %.1f GFLOP/s, openblas %.1f GFLOP/s, ratio %.2f%n",
                        ourType, m, n, k, (transA ? " tA" : "") + (transB ? " tB" : ""), mine[0], ref[0], mine[0] / ref[0]);
                System.out.printf("    medians: ours %.1f, openblas %.1f GFLOP/s (ratio %.2f); max rel err vs openblas %.2e (max|dC|/max|C|)%n",
                        mine[1], ref[1], mine[1] / ref[1], maxDiff / maxAbs);
            }
        }

        /**
         * Warms both up, then times {@code reps} samples of {@code inner} calls each, alternating ours and
         * theirs sample by sample (so that load from other processes hits both alike); returns
         * {{best, median} ours, {best, median} theirs} in GFLOP/s.
         */
        private double[][] time(Runnable ours, Runnable theirs, int inner, double flop) {
            long warmEnd = System.nanoTime() + 2_000_000_000L;
            int w = 0;
            while (w < 3 || System.nanoTime() < warmEnd) {
                ours.run();
                if (theirs != null) theirs.run();
                w++;
            }
            double[] g0 = new double[reps], g1 = new double[reps];
            for (int s = 0; s < reps; s++) {
                g0[s] = sample(ours, inner, flop);
                if (theirs != null) g1[s] = sample(theirs, inner, flop);
            }
            Arrays.sort(g0);
            Arrays.sort(g1);
            return new double[][] {{g0[reps - 1], g0[reps / 2]}, {g1[reps - 1], g1[reps / 2]}};
        }

        private static double sample(Runnable r, int inner, double flop) {
            long t0 = System.nanoTime();
            for (int i = 0; i < inner; i++) r.run();
            return flop * inner / (System.nanoTime() - t0);
        }
    }

    static String cpuModel() {
        try {
            for (String l : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/cpuinfo"))) {
                if (l.startsWith("model name")) return l.substring(l.indexOf(':') + 1).trim();
            }
        } catch (Exception ignored) { }
        return System.getProperty("os.arch");
    }
}
