package dino4j.kernels;

import dino4j.runtime.CudaContext;
import jcuda.driver.CUdeviceptr;

/**
 * Launchers of {@code optim.cu}: the fused AdamW step and the teacher EMA over flat float arrays, with
 * {@link OptimizerKernels}' semantics and its rounding (the kernels avoid FMA contraction, so results
 * are bit-identical to the CPU kernel). Enqueue only.
 */
public final class OptimizerCuda {
    private OptimizerCuda() {}

    private static final String FAMILY = "optim";
    private static final int BLOCK = 256;

    /**
     * One AdamW step in place on {@code param}, {@code m}, {@code v} ({@code n} elements each, {@code grad}
     * read): exactly {@link OptimizerKernels#adamw(int, float[], int, float[], int, float[], int, float[], int,
     * float, float, float, float, float, int)}; {@code step} ≥ 1 is the step count after incrementing.
     */
    public static void adamw(CudaContext c, int n, CUdeviceptr param, CUdeviceptr grad, CUdeviceptr m, CUdeviceptr v,
                             float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        if (step < 1) throw new IllegalArgumentException("step must be >= 1, got " + step);
        notNull(param, "param"); notNull(grad, "grad"); notNull(m, "m"); notNull(v, "v");
        if (n == 0) return;
        // scalars exactly as OptimizerKernels.adamw computes them
        float decay = (float) (1.0 - (double) lr * weightDecay);
        float w1 = (float) (1.0 - beta1);
        float w2 = (float) (1.0 - beta2);
        double bc1 = 1.0 - Math.pow(beta1, step), bc2 = 1.0 - Math.pow(beta2, step);
        float negStep = (float) (-(double) lr / bc1);
        float bc2sqrt = (float) Math.sqrt(bc2);
        c.kernel(FAMILY, "optim_adamw").launch(grid(c, n), 1, 1, BLOCK, 1, 1, 0,
                n, param, grad, m, v, decay, w1, w2, beta2, eps, negStep, bc2sqrt);
    }

    /** Teacher EMA in place: {@code teacher = momentum·teacher + (1 − momentum)·student}, as {@link OptimizerKernels#ema}. */
    public static void ema(CudaContext c, int n, CUdeviceptr teacher, CUdeviceptr student, float momentum) {
        if (n < 0) throw new IllegalArgumentException("n must be >= 0, got " + n);
        notNull(teacher, "teacher"); notNull(student, "student");
        if (n == 0) return;
        float w = (float) (1.0 - momentum);
        c.kernel(FAMILY, "optim_ema").launch(grid(c, n), 1, 1, BLOCK, 1, 1, 0, n, teacher, student, momentum, w);
    }

    /** Grid-stride launch: enough blocks to fill the GPU, no more than the elements need. */
    private static int grid(CudaContext c, int n) {
        long need = (n + (long) BLOCK - 1) / BLOCK;
        return (int) Math.max(1, Math.min(need, (long) c.multiprocessors() * 16));
    }

    private static void notNull(CUdeviceptr p, String name) {
        if (p == null) throw new IllegalArgumentException(name + " must not be null");
    }
}
