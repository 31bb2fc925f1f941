package dino4j.tensor;

import java.util.Map;
import java.util.TreeMap;

/**
 * A cheap wall-clock profile of the op stream, on with {@code -Ddino4j.profile=true}: the time between one
 * op's dispatch and the next is charged to the first (so glue code between ops counts too). Printed at exit.
 * Meant for the single thread that issues ops; kernels' inner parallelism is inside each op's time.
 */
public final class OpTimeline {
    private OpTimeline() {}

    public static final boolean ON = Boolean.getBoolean("dino4j.profile");
    /** With -Ddino4j.profile.callers=true every op also goes to the per-shape table as "op shapes <- caller". */
    static final boolean CALLERS = ON && Boolean.getBoolean("dino4j.profile.callers");
    private static final Map<String, long[]> TOTALS = new TreeMap<>();
    /** Per-shape breakdown of the ops that name one ({@link #addFlops(long, String)}): ns, calls, flops. */
    private static final Map<String, long[]> DETAILS = new TreeMap<>();
    private static String last, lastDetail;
    private static long lastT, lastFlops;

    static {
        if (ON) Runtime.getRuntime().addShutdownHook(new Thread(OpTimeline::print));
    }

    public static synchronized void mark(String op) {
        long now = System.nanoTime();
        if (last != null) {
            long[] t = TOTALS.computeIfAbsent(last, k -> new long[2]);
            t[0] += now - lastT;
            t[1]++;
            if (lastDetail != null) {
                long[] d = DETAILS.computeIfAbsent(lastDetail, k -> new long[3]);
                d[0] += now - lastT;
                d[1]++;
                d[2] += lastFlops;
            }
        }
        last = op;
        lastDetail = null;
        lastT = now;
    }

    private static long flops;

    /** Work done by the op being timed (matmul), for a GFLOP/s line in the report. */
    static synchronized void addFlops(long f) { flops += f; }

    /** As above, and the op's time also goes to {@code detail} (e.g. a GEMM's shape) in a per-shape table. */
    static synchronized void addFlops(long f, String detail) {
        flops += f;
        lastDetail = detail;
        lastFlops = f;
    }

    /** The op being timed also goes to the per-shape table under {@code detail} (no FLOPs). */
    static synchronized void detail(String detail) {
        lastDetail = detail;
        lastFlops = 0;
    }

    /** The first frame outside the tensor and autograd layers: who issued the op. */
    static String caller() {
        return StackWalker.getInstance().walk(fr -> fr.map(f -> f.getClassName() + "." + f.getMethodName() + ":" + f.getLineNumber())
                .filter(n -> !n.startsWith("dino4j.tensor.") && !n.startsWith("dino4j.autograd.")).findFirst().orElse("?"))
                .replace("dino4j.", "");
    }

    /** Forgets everything so far (e.g. after JIT warm-up). */
    public static synchronized void reset() {
        TOTALS.clear();
        DETAILS.clear();
        last = null;
        lastDetail = null;
        flops = 0;
    }

    /** Prints the profile so far (to stderr) and starts a new one; nothing when nothing was recorded. */
    public static synchronized void printAndReset() {
        print();
        reset();
    }

    public static synchronized void print() {
        if (TOTALS.isEmpty()) return;
        long[] mm = TOTALS.get("matmul");
        if (mm != null) System.err.printf("matmul: %.1f GFLOP in %.1f s = %.1f GFLOP/s%n", flops / 1e9, mm[0] / 1e9, flops / (mm[0] / 1e9) / 1e9);
        long all = TOTALS.values().stream().mapToLong(t -> t[0]).sum();
        System.err.printf("%-24s %10s %8s %6s%n", "op (and what follows it)", "ms", "calls", "%");
        TOTALS.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).forEach(e ->
                System.err.printf("%-24s %10.1f %8d %5.1f%%%n", e.getKey(), e.getValue()[0] / 1e6, e.getValue()[1], 100.0 * e.getValue()[0] / all));
        if (DETAILS.isEmpty()) return;
        System.err.printf("%-40s %10s %8s %8s%n", "by shape (M×N×K, op(A) op(B))", "ms", "calls", "GFLOP/s");
        DETAILS.entrySet().stream().sorted((a, b) -> Long.compare(b.getValue()[0], a.getValue()[0])).limit(CALLERS ? 60 : 20).forEach(e ->
                System.err.printf(CALLERS ? "%-100s %10.1f %8d %8.1f%n" : "%-40s %10.1f %8d %8.1f%n", e.getKey(), e.getValue()[0] / 1e6, e.getValue()[1], e.getValue()[2] / (double) e.getValue()[0]));
    }
}
