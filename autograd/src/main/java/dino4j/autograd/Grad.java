package dino4j.autograd;

/** Grad mode: {@code try (var g = Grad.noGrad()) { ... }} records nothing inside the scope. */
public final class Grad {
    private Grad() {}

    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[]{true});

    public static boolean isEnabled() { return ENABLED.get()[0]; }

    /** A scope with recording off; closing it restores the previous mode. */
    public static Scope noGrad() { return set(false); }

    /** A scope with recording on (inside a noGrad scope). */
    public static Scope enableGrad() { return set(true); }

    private static Scope set(boolean on) {
        boolean[] cell = ENABLED.get();
        boolean prev = cell[0];
        cell[0] = on;
        return () -> cell[0] = prev;
    }

    /** An AutoCloseable without checked exceptions. */
    public interface Scope extends AutoCloseable {
        @Override void close();
    }
}
