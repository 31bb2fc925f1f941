package dino4j.tensor;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** StepArena on the CPU: step-born kernel outputs give their arrays back, later steps reuse them, nothing leaks. */
class StepArenaTest {
    static final int N = 40_000;   // above the recycling threshold (16 Ki floats)

    @Test void outputsBornInAStepAreRecycledAndFailLoudlyWhenUsedAfter() {
        StepArena.clearPool();
        Random r = new Random(3);
        Tensor a = Tensor.randn(r, N), b = Tensor.randn(r, N);          // made before the arena: kept
        Tensor inside, kept;
        try (var arena = StepArena.open("step 1")) {
            inside = Ops.add(a, b);
            kept = Tensor.of(inside.toFloatArray(), N);                  // copied out: survives
            assertEquals(1, arena.size());
        }
        IllegalStateException e = assertThrows(IllegalStateException.class, inside::toFloatArray);
        assertTrue(e.getMessage().contains("StepArena 'step 1'"), e.getMessage());
        float[] av = a.toFloatArray(), bv = b.toFloatArray(), k = kept.toFloatArray();
        for (int i = 0; i < N; i++) assertEquals(av[i] + bv[i], k[i], 0f);
        assertNotNull(StepArena.take(N), "the step's output array went back to the pool");
    }

    @Test void aRecycledArrayIsFullyOverwritten() {
        StepArena.clearPool();
        Random r = new Random(4);
        Tensor x = Tensor.randn(r, 200, 200), w = Tensor.randn(r, 200, 200);
        float[] ref = Ops.matmul(x, w).toFloatArray();                  // no arena: a fresh array
        for (int step = 0; step < 3; step++) {
            try (var arena = StepArena.open("step " + step)) {
                Tensor junk = Ops.mul(x, Tensor.full(DType.F32, 1e30, 1));   // fills a same-size array with large values
                assertEquals(junk.numel(), 40_000);
            }
            try (var arena = StepArena.open("matmul " + step)) {
                assertArrayEquals(ref, Ops.matmul(x, w).toFloatArray(), "matmul into a recycled array, step " + step);
            }
        }
    }

    @Test void outputsThatDieDuringTheStepAreCollectedAsUsual() {
        // more than the whole heap passes through one step: the arena must not keep dead outputs alive
        long heap = Runtime.getRuntime().maxMemory();
        int n = 10_000_000;                                               // 40 MB a tensor
        Tensor x = Tensor.randn(new Random(5), n);
        long passes = 2 * heap / (4L * n) + 2;
        try (var arena = StepArena.open("big step")) {
            double last = 0;
            for (long i = 0; i < passes; i++) last = Ops.mulScalar(x, 2.0).get(0);
            assertEquals(2 * x.get(0), last, 1e-6);
        }
    }
}
