package dino4j.bench;

import dino4j.kernels.ElementwiseKernels;
import dino4j.kernels.Parallel;
import dino4j.kernels.UnaryOp;
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
 * Element-wise activations forward and backward over one MLP hidden activation of the small SSL ViT
 * (17,664 × 768 floats), ns per element = score / n. {@code ./dino4j bench jmh UnaryBench}
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED", "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED", "-Xmx4g"})
public class UnaryBench {
    @Param({"GELU", "SILU", "EXP", "NEG"}) public String op;
    @Param({"13565952"}) public int n;
    @Param({"2"}) public int threads;

    UnaryOp u;
    float[] x, gy, y;

    @Setup(Level.Trial) public void setup() {
        Parallel.setThreads(threads);
        u = UnaryOp.valueOf(op);
        SplittableRandom r = new SplittableRandom(1);
        x = new float[n]; gy = new float[n]; y = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (float) r.nextDouble(-4, 4); gy[i] = (float) r.nextDouble(-1, 1); }
    }

    @Benchmark public float[] forward() {
        ElementwiseKernels.unary(u, n, x, 0, y, 0);
        return y;
    }

    @Benchmark public float[] backward() {
        ElementwiseKernels.unaryBackward(u, n, x, 0, gy, 0, y, 0);
        return y;
    }
}
