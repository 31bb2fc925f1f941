package dino4j.bench;

import dino4j.kernels.GemmKernels;
import dino4j.kernels.Parallel;
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
import org.openjdk.jmh.annotations.Warmup;

/**
 * The GEMMs of one small-ViT SSL training step (192 wide, the student's 2 × 128 global crops of 69 tokens =
 * 17,664 rows): forward Linear (B = Wᵀ, "NT"), input gradient (g·W, "NN") and weight gradient (gᵀ·x, "TN",
 * K = 17,664). Reports GFLOP/s. Compare A-panel strategies with
 * {@code ./dino4j bench jmh TrainingGemmBench -jvmArgsAppend -Ddino4j.gemm.packA=true} (pack every A panel)
 * against the default (row-major A read in place).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 4, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx4g"})
public class TrainingGemmBench {
    /** op:M×N×K. */
    @Param({"NT:17664x576x192", "NT:17664x768x192", "NT:17664x192x768", "NN:17664x192x576", "NN:17664x192x768",
            "TN:576x192x17664", "TN:768x192x17664", "TN:192x768x17664"})
    public String shape;
    @Param({"2"}) public int threads;

    boolean tA, tB;
    int m, n, k;
    float[] a, b, c;

    @Setup(Level.Trial) public void setup() {
        Parallel.setThreads(threads);
        String[] p = shape.split(":"), s = p[1].split("x");
        tA = p[0].charAt(0) == 'T';
        tB = p[0].charAt(1) == 'T';
        m = Integer.parseInt(s[0]); n = Integer.parseInt(s[1]); k = Integer.parseInt(s[2]);
        SplittableRandom r = new SplittableRandom(1);
        a = new float[m * k]; b = new float[k * n]; c = new float[m * n];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextDouble(-1, 1);
    }

    /** GFLOP done, per second of benchmark time (JMH sums it over the iteration). */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;
    }

    @Benchmark public float[] gemm(Flops f) {
        GemmKernels.sgemm(tA, tB, m, n, k, 1f, a, 0, tA ? m : k, b, 0, tB ? k : n, 0f, c, 0, n);
        f.gflop += 2.0 * m * n * k / 1e9;
        return c;
    }
}
