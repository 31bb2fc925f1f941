package dino4j.bench;

import dino4j.kernels.LayerNormKernels;
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
 * LayerNorm forward/backward over rows of width D (ViT-S 384, ViT-B 768) for 8 images × 201 tokens; the
 * {@code gbytes} counter gives GB/s of compulsory traffic (forward: read x, write y; backward: read x, gy,
 * write gx): {@code ./dino4j bench jmh LayerNormBench}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
public class LayerNormBench {
    @Param({"384", "768"}) public int dim;
    @Param({"1608"}) public int rows;
    @Param({"2"}) public int threads;

    float[] x, y, gy, gx, gamma, beta, mean, rstd, gGamma, gBeta;

    @Setup(Level.Trial) public void setup() {
        Parallel.setThreads(threads);
        SplittableRandom r = new SplittableRandom(dim);
        x = new float[rows * dim]; y = new float[x.length]; gy = new float[x.length]; gx = new float[x.length];
        for (int i = 0; i < x.length; i++) { x[i] = (float) r.nextDouble(-2, 2); gy[i] = (float) r.nextDouble(-1, 1); }
        gamma = new float[dim]; beta = new float[dim]; gGamma = new float[dim]; gBeta = new float[dim];
        java.util.Arrays.fill(gamma, 1f);
        mean = new float[rows]; rstd = new float[rows];
        LayerNormKernels.forward(rows, dim, x, 0, gamma, beta, 1e-5f, y, 0, mean, rstd);
    }

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Bytes {
        public double gbytes;   // reported per second by JMH
    }

    @Benchmark public float[] forward(Bytes b) {
        LayerNormKernels.forward(rows, dim, x, 0, gamma, beta, 1e-5f, y, 0, mean, rstd);
        b.gbytes += 8.0 * rows * dim / 1e9;
        return y;
    }

    @Benchmark public float[] backward(Bytes b) {
        LayerNormKernels.backward(rows, dim, x, 0, gy, 0, gamma, mean, rstd, gx, 0, gGamma, gBeta);
        b.gbytes += 12.0 * rows * dim / 1e9;
        return gx;
    }
}
