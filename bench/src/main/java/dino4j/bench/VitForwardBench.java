package dino4j.bench;

import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.dino.model.Features;
import dino4j.dino.model.VitConfig;
import dino4j.kernels.Parallel;
import dino4j.tensor.Tensor;
import java.util.Random;
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
 * Eval-mode forward of a DINOv3 ViT (default ViT-S/16, 224², batch 8); the {@code images} counter gives
 * images/s: {@code ./dino4j bench jmh VitForwardBench}. (`./dino4j bench vit` runs the PyTorch peer beside it.)
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 5)
@Measurement(iterations = 5, time = 5)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "-Xmx8g"})
public class VitForwardBench {
    @Param({"vits16"}) public String model;
    @Param({"8"}) public int batch;
    @Param({"224"}) public int size;
    @Param({"2"}) public int threads;

    DinoVisionTransformer vit;
    Tensor x;

    @Setup(Level.Trial) public void setup() {
        Parallel.setThreads(threads);
        vit = new DinoVisionTransformer(VitConfig.preset(model), new Random(0));
        vit.eval();
        x = Tensor.randn(new Random(1), batch, 3, size, size);
    }

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Images {
        public double images;   // reported per second by JMH
    }

    @Benchmark public Features forward(Images c) {
        try (var g = Grad.noGrad()) {
            Features f = vit.forwardFeatures(Var.constant(x));
            c.images += batch;
            return f;
        }
    }
}
