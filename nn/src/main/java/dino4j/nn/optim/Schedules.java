package dino4j.nn.optim;

/**
 * The two schedule families of §4.5, as arrays indexed by iteration (numpy semantics reproduced:
 * {@code linspace(a, b, n)[i] = a + i·step}, {@code step = (b−a)/div}, last element = b when the
 * endpoint is included).
 */
public final class Schedules {
    private Schedules() {}

    /**
     * v2 ({@code linear_warmup_cosine_decay}): {@code W} warm-up values {@code start + (peak−start)·i/W}
     * (endpoint excluded), then {@code C} cosine values {@code end + (peak−end)·(1+cos(π·i/(C−1)))/2},
     * then {@code end} until {@code totalIters}. {@code cosineIters < 0} means "all remaining".
     */
    public static double[] warmupCosineConstant(double start, double peak, double end, int warmupIters, int cosineIters, int totalIters) {
        if (warmupIters < 0 || totalIters < 0) throw new IllegalArgumentException("iteration counts must be >= 0");
        int c = cosineIters < 0 ? totalIters - warmupIters : cosineIters;
        int rest = totalIters - warmupIters - c;
        if (c < 0 || rest < 0)
            throw new IllegalArgumentException("warmup (" + warmupIters + ") + cosine (" + c + ") iterations exceed total (" + totalIters + ")");
        double[] out = new double[totalIters];
        double[] lin = linspace(start, peak, warmupIters, false);
        System.arraycopy(lin, 0, out, 0, warmupIters);
        double[] ang = linspace(0, Math.PI, c, true);
        for (int i = 0; i < c; i++) out[warmupIters + i] = (peak - end) * ((Math.cos(ang[i]) + 1) / 2) + end;
        for (int i = warmupIters + c; i < totalIters; i++) out[i] = end;
        return out;
    }

    /** v2 with the cosine over all remaining iterations. */
    public static double[] warmupCosineConstant(double start, double peak, double end, int warmupIters, int totalIters) {
        return warmupCosineConstant(start, peak, end, warmupIters, -1, totalIters);
    }

    /**
     * v1 ({@code CosineScheduler}, warm-up from 0): {@code linspace(0, peak, W)} (endpoint included), then
     * {@code final + 0.5·(peak−final)·(1+cos(π·i/n))}, i = 0..n−1, n = total − W.
     */
    public static double[] warmupCosine(double peak, double finalValue, int warmupIters, int totalIters) {
        return warmupCosine(peak, finalValue, warmupIters, totalIters, 0, 0);
    }

    /** Full v1: {@code freezeIters} zeros, warm-up linspace(startWarmup, peak, W), cosine over n = total − W − freeze. */
    public static double[] warmupCosine(double peak, double finalValue, int warmupIters, int totalIters, double startWarmup, int freezeIters) {
        int n = totalIters - warmupIters - freezeIters;
        if (warmupIters < 0 || freezeIters < 0 || n < 0)
            throw new IllegalArgumentException("freeze (" + freezeIters + ") + warmup (" + warmupIters + ") exceed total (" + totalIters + ")");
        double[] out = new double[totalIters];
        double[] lin = linspace(startWarmup, peak, warmupIters, true);
        System.arraycopy(lin, 0, out, freezeIters, warmupIters);
        for (int i = 0; i < n; i++)
            out[freezeIters + warmupIters + i] = finalValue + 0.5 * (peak - finalValue) * (1 + Math.cos(Math.PI * i / n));
        return out;
    }

    /** {@code linspace(start, end, total)} (endpoint included), e.g. the ConvNeXt-distillation EMA momentum 0.994 → 1.0. */
    public static double[] linear(double start, double end, int totalIters) {
        if (totalIters < 0) throw new IllegalArgumentException("negative iteration count " + totalIters);
        return linspace(start, end, totalIters, true);
    }

    /** Value at an iteration; past the end, the schedule's last value ({@code end} / {@code final}). */
    public static double at(double[] schedule, long iter) {
        if (schedule.length == 0) throw new IllegalArgumentException("empty schedule");
        if (iter < 0) throw new IllegalArgumentException("negative iteration " + iter);
        return iter < schedule.length ? schedule[(int) iter] : schedule[schedule.length - 1];
    }

    /** numpy.linspace. */
    static double[] linspace(double a, double b, int num, boolean endpoint) {
        double[] out = new double[num];
        if (num == 0) return out;
        int div = endpoint ? num - 1 : num;
        double delta = b - a;
        if (div > 0) {
            double step = delta / div;
            for (int i = 0; i < num; i++) out[i] = step == 0 ? (i / (double) div) * delta + a : i * step + a;
        } else {
            out[0] = a;
        }
        if (endpoint && num > 1) out[num - 1] = b;
        return out;
    }
}
