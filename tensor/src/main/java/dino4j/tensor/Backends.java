package dino4j.tensor;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The registry of backends. {@link #select} returns the first registered backend whose
 * {@link Backend#canRun} accepts the op, falling back to the CPU backend, which runs everything.
 */
public final class Backends {
    private Backends() {}

    private static final CpuBackend CPU = new CpuBackend();
    private static final List<Backend> REGISTERED = new CopyOnWriteArrayList<>();

    public static Backend cpu() { return CPU; }

    /** Registers a backend ahead of those registered before it (and always ahead of the CPU). */
    public static void register(Backend b) {
        if (b == null) throw new IllegalArgumentException("null backend");
        REGISTERED.remove(b);
        REGISTERED.addFirst(b);
    }

    public static void unregister(Backend b) { REGISTERED.remove(b); }

    public static List<Backend> registered() { return List.copyOf(REGISTERED); }

    public static Backend select(String op, Tensor... args) {
        for (Backend b : REGISTERED) if (b.canRun(op, args)) return b;
        return CPU;
    }
}
