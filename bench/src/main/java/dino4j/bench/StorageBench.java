package dino4j.bench;

import dino4j.kernels.Simd;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
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
 * Heap {@code float[]} vs off-heap {@link MemorySegment} as tensor storage, for Vector-API loops
 * ({@code FloatVector.fromArray} vs {@code fromMemorySegment}): a dot product (load-bound reduction),
 * an axpy (load+store) and the GEMM micro-kernel's inner loop (6×2-vector outer product over packed panels).
 * Single-threaded. {@code ./dino4j bench jmh StorageBench}. Results: bench/results/heap-vs-segment.md.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsPrepend = {"--add-modules=jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED"})
public class StorageBench {
    static final VectorSpecies<Float> F = Simd.F;
    static final int L = F.length();
    static final ValueLayout.OfFloat FL = ValueLayout.JAVA_FLOAT;
    static final ByteOrder NO = ByteOrder.nativeOrder();

    /** Elements: 4096 (16 KiB, L1) and 1M (4 MiB, beyond L2). */
    @Param({"4096", "1048576"}) public int n;
    /**
     * Byte offset of the off-heap vectors from a 64-byte boundary: 0 (aligned, the default) or e.g. 16,
     * which reproduces a heap float[]'s layout (data 16 bytes after an 8-byte-aligned object start).
     */
    @Param({"0"}) public int segOffset;

    float[] x, y;
    MemorySegment xs, ys;
    Arena arena;
    // GEMM inner loop: packed A (kc×6) and B (kc×2L) panels.
    static final int KC = 256;
    float[] ap, bp, cOut;
    MemorySegment aps, bps;

    @Setup(Level.Trial) public void setup() {
        arena = Arena.ofShared();
        x = new float[n]; y = new float[n];
        for (int i = 0; i < n; i++) { x[i] = (i % 17) * 0.25f - 2f; y[i] = (i % 13) * 0.5f - 3f; }
        xs = arena.allocate((long) n * 4 + 64, 64).asSlice(segOffset, (long) n * 4);
        ys = arena.allocate((long) n * 4 + 64, 64).asSlice(segOffset, (long) n * 4);
        MemorySegment.copy(x, 0, xs, FL, 0, n);
        MemorySegment.copy(y, 0, ys, FL, 0, n);
        ap = new float[KC * 6]; bp = new float[KC * 2 * L]; cOut = new float[12 * L];
        for (int i = 0; i < ap.length; i++) ap[i] = (i % 7) * 0.1f;
        for (int i = 0; i < bp.length; i++) bp[i] = (i % 5) * 0.1f;
        aps = arena.allocate((long) ap.length * 4, 64); bps = arena.allocate((long) bp.length * 4, 64);
        MemorySegment.copy(ap, 0, aps, FL, 0, ap.length);
        MemorySegment.copy(bp, 0, bps, FL, 0, bp.length);
    }

    @TearDown(Level.Trial) public void tearDown() { arena.close(); }

    @Benchmark public float dotHeap() {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        int i = 0, up = n - n % (2 * L);
        for (; i < up; i += 2 * L) {
            acc0 = FloatVector.fromArray(F, x, i).fma(FloatVector.fromArray(F, y, i), acc0);
            acc1 = FloatVector.fromArray(F, x, i + L).fma(FloatVector.fromArray(F, y, i + L), acc1);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += x[i] * y[i];
        return s;
    }

    @Benchmark public float dotSegment() {
        FloatVector acc0 = FloatVector.zero(F), acc1 = FloatVector.zero(F);
        long i = 0, up = n - n % (2 * L);
        for (; i < up; i += 2 * L) {
            acc0 = FloatVector.fromMemorySegment(F, xs, i * 4, NO).fma(FloatVector.fromMemorySegment(F, ys, i * 4, NO), acc0);
            acc1 = FloatVector.fromMemorySegment(F, xs, (i + L) * 4, NO).fma(FloatVector.fromMemorySegment(F, ys, (i + L) * 4, NO), acc1);
        }
        float s = acc0.add(acc1).reduceLanes(VectorOperators.ADD);
        for (; i < n; i++) s += xs.getAtIndex(FL, i) * ys.getAtIndex(FL, i);
        return s;
    }

    @Benchmark public float[] axpyHeap() {
        FloatVector a = FloatVector.broadcast(F, 1.0001f);
        int i = 0, up = F.loopBound(n);
        for (; i < up; i += L) FloatVector.fromArray(F, x, i).fma(a, FloatVector.fromArray(F, y, i)).intoArray(y, i);
        for (; i < n; i++) y[i] += 1.0001f * x[i];
        return y;
    }

    @Benchmark public MemorySegment axpySegment() {
        FloatVector a = FloatVector.broadcast(F, 1.0001f);
        long i = 0, up = F.loopBound(n);
        for (; i < up; i += L) {
            FloatVector.fromMemorySegment(F, xs, i * 4, NO).fma(a, FloatVector.fromMemorySegment(F, ys, i * 4, NO))
                    .intoMemorySegment(ys, i * 4, NO);
        }
        for (; i < n; i++) ys.setAtIndex(FL, i, ys.getAtIndex(FL, i) + 1.0001f * xs.getAtIndex(FL, i));
        return ys;
    }

    @Benchmark public float[] gemmKernelHeap() {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        int ai = 0, bi = 0;
        for (int p = 0; p < KC; p++, ai += 6, bi += 2 * L) {
            FloatVector b0 = FloatVector.fromArray(F, bp, bi), b1 = FloatVector.fromArray(F, bp, bi + L), av;
            av = FloatVector.broadcast(F, ap[ai]);     c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(F, ap[ai + 1]); c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(F, ap[ai + 2]); c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(F, ap[ai + 3]); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(F, ap[ai + 4]); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(F, ap[ai + 5]); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
        }
        c00.add(c01).add(c10.add(c11)).add(c20.add(c21)).add(c30.add(c31)).add(c40.add(c41)).add(c50.add(c51))
                .intoArray(cOut, 0);
        return cOut;
    }

    @Benchmark public float[] gemmKernelSegment() {
        FloatVector c00 = FloatVector.zero(F), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00,
                c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
        long ai = 0, bi = 0;
        for (int p = 0; p < KC; p++, ai += 6 * 4, bi += 2 * L * 4) {
            FloatVector b0 = FloatVector.fromMemorySegment(F, bps, bi, NO), b1 = FloatVector.fromMemorySegment(F, bps, bi + L * 4, NO), av;
            av = FloatVector.broadcast(F, aps.get(FL, ai));      c00 = av.fma(b0, c00); c01 = av.fma(b1, c01);
            av = FloatVector.broadcast(F, aps.get(FL, ai + 4));  c10 = av.fma(b0, c10); c11 = av.fma(b1, c11);
            av = FloatVector.broadcast(F, aps.get(FL, ai + 8));  c20 = av.fma(b0, c20); c21 = av.fma(b1, c21);
            av = FloatVector.broadcast(F, aps.get(FL, ai + 12)); c30 = av.fma(b0, c30); c31 = av.fma(b1, c31);
            av = FloatVector.broadcast(F, aps.get(FL, ai + 16)); c40 = av.fma(b0, c40); c41 = av.fma(b1, c41);
            av = FloatVector.broadcast(F, aps.get(FL, ai + 20)); c50 = av.fma(b0, c50); c51 = av.fma(b1, c51);
        }
        c00.add(c01).add(c10.add(c11)).add(c20.add(c21)).add(c30.add(c31)).add(c40.add(c41)).add(c50.add(c51))
                .intoArray(cOut, 0);
        return cOut;
    }

}
