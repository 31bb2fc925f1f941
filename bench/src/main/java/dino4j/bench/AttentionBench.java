package dino4j.bench;

import dino4j.kernels.AttentionKernels;
import dino4j.kernels.Parallel;
import dino4j.kernels.RopeKernels;
import dino4j.kernels.RopeTable;
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
 * Fused attention with RoPE (DINOv3 layout: one qkv buffer [B, N, 3D], 1 CLS + 4 storage tokens unrotated),
 * forward and backward, at ViT-S/B shapes: 201 tokens (224²) and 1029 tokens (512²). The {@code gflops}
 * counter counts the matmul work (4·B·H·N²·Dh forward, 2.5× that backward):
 * {@code ./dino4j bench jmh AttentionBench -p tokens=201}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "-Xmx4g"})
public class AttentionBench {
    @Param({"201", "1029"}) public int tokens;
    @Param({"6"}) public int heads;
    @Param({"8"}) public int batch;
    @Param({"2"}) public int threads;

    static final int DH = 64, PREFIX = 5;
    float[] qkv, out, lse, gOut, gqkv;
    RopeTable rope;
    int d;

    @Setup(Level.Trial) public void setup() {
        Parallel.setThreads(threads);
        d = heads * DH;
        SplittableRandom r = new SplittableRandom(tokens);
        qkv = new float[batch * tokens * 3 * d];
        for (int i = 0; i < qkv.length; i++) qkv[i] = (float) r.nextDouble(-1, 1);
        out = new float[batch * tokens * d];
        gOut = new float[out.length];
        for (int i = 0; i < gOut.length; i++) gOut[i] = (float) r.nextDouble(-1, 1);
        lse = new float[batch * heads * tokens];
        gqkv = new float[qkv.length];
        int side = (int) Math.round(Math.sqrt(tokens - PREFIX));
        rope = RopeKernels.table(side, side, RopeKernels.periods(DH, 100));
        forward();
    }

    @AuxCounters(AuxCounters.Type.OPERATIONS)
    @State(Scope.Thread)
    public static class Flops {
        public double gflops;   // reported per second by JMH
    }

    private void forward() {
        AttentionKernels.forward(batch, heads, tokens, DH, (float) (1 / Math.sqrt(DH)), qkv, 0, qkv, d, qkv, 2 * d,
                tokens * 3 * d, 3 * d, DH, rope, PREFIX, out, 0, lse);
    }

    @Benchmark public float[] forward(Flops f) {
        forward();
        f.gflops += 4.0 * batch * heads * tokens * (double) tokens * DH / 1e9;
        return out;
    }

    @Benchmark public float[] backward(Flops f) {
        AttentionKernels.backward(batch, heads, tokens, DH, (float) (1 / Math.sqrt(DH)), qkv, 0, qkv, d, qkv, 2 * d,
                tokens * 3 * d, 3 * d, DH, rope, PREFIX, out, 0, gOut, 0, lse, gqkv, 0, gqkv, d, gqkv, 2 * d);
        f.gflops += 10.0 * batch * heads * tokens * (double) tokens * DH / 1e9;
        return gqkv;
    }
}
