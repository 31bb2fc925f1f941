package dino4j.bench;

import dino4j.kernels.GemmKernels;
import dino4j.kernels.Parallel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Square f32 GEMM, ours vs OpenBLAS (when installed). Score is in GEMM calls per second; the
 * {@code gflops} secondary result (an {@link AuxCounters} counter) gives GFLOP/s directly:
 * {@code ./dino4j bench jmh GemmBench -p threads=2}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx4g"})
public class GemmBench {
    @Param({"256", "512", "1024", "2048"}) public int size;
    @Param({"2"}) public int threads;

    float[] a, b, c;
    Arena arena;
    MemorySegment as, bs, cs;
    OpenBlas blas;

    @Setup(Level.Trial) public void setup() {
        Parallel.setThreads(threads);
        SplittableRandom r = new SplittableRandom(size);
        a = new float[size * size]; b = new float[size * size]; c = new float[size * size];
        for (int i = 0; i < a.length; i++) { a[i] = (float) r.nextDouble(-1, 1); b[i] = (float) r.nextDouble(-1, 1); }
        blas = OpenBlas.load().orElse(null);
        if (blas != null) {
            blas.setThreads(threads);
            arena = Arena.ofShared();
            as = OpenBlas.copy(arena, a); bs = OpenBlas.copy(arena, b); cs = OpenBlas.copy(arena, c);
        } else {
            System.out.println("openblas: not found (searched " + OpenBlas.searched() + "); the openblas benchmark is skipped");
        }
    }

    @TearDown(Level.Trial) public void tearDown() { if (arena != null) arena.close(); }

    /** GFLOP/s counter: JMH reports the per-second rate of {@code flop}, scaled to GFLOP below. */
    @State(Scope.Thread) @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Gflop {
        public double gflop;
    }

    @Benchmark public float[] ours(Gflop g) {
        GemmKernels.sgemm(false, false, size, size, size, 1f, a, 0, size, b, 0, size, 0f, c, 0, size);
        g.gflop += 2e-9 * size * size * (double) size;
        return c;
    }

    @Benchmark public MemorySegment openblas(Gflop g) {
        if (blas == null) return null;
        blas.sgemm(false, false, size, size, size, 1f, as, size, bs, size, 0f, cs, size);
        g.gflop += 2e-9 * size * size * (double) size;
        return cs;
    }
}
