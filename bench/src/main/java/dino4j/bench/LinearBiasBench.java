package dino4j.bench;

import dino4j.kernels.GemmKernels;
import dino4j.kernels.Parallel;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * A Linear layer's forward (x [M, K] · wᵀ + bias, fresh output) at the small SSL ViT's shapes: the old way
 * (fill C with the bias rows, then GEMM with beta = 1) against the bias seeding the micro-kernel's
 * accumulators. {@code ./dino4j bench jmh LinearBiasBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx4g"})
public class LinearBiasBench {
    /** M×N×K: qkv, fc1 of the student's global crops, fc1 of the local crops. */
    @Param({"8832x576x192", "8832x768x192", "10752x768x192"}) public String shape;
    @Param({"2"}) public int threads;

    int m, n, k;
    float[] x, w, bias;

    @Setup(Level.Trial) public void setup() {
        Parallel.setThreads(threads);
        String[] s = shape.split("x");
        m = Integer.parseInt(s[0]); n = Integer.parseInt(s[1]); k = Integer.parseInt(s[2]);
        SplittableRandom r = new SplittableRandom(1);
        x = new float[m * k]; w = new float[n * k]; bias = new float[n];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-1, 1);
        for (int i = 0; i < n; i++) bias[i] = (float) r.nextDouble(-1, 1);
    }

    @Benchmark public float[] fillThenAccumulate() {
        float[] c = new float[m * n];
        for (int i = 0; i < m; i++) System.arraycopy(bias, 0, c, i * n, n);
        GemmKernels.sgemm(false, true, m, n, k, 1f, x, 0, k, w, 0, k, 1f, c, 0, n);
        return c;
    }

    @Benchmark public float[] biasSeeded() {
        float[] c = new float[m * n];
        GemmKernels.sgemmBias(false, true, m, n, k, x, 0, k, w, 0, k, bias, 0, c, 0, n);
        return c;
    }
}
