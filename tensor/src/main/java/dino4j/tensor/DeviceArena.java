package dino4j.tensor;

import java.util.ArrayList;
import java.util.List;

/**
 * Frees the GPU memory of a unit of work (a training step) when it ends, instead of when the garbage
 * collector notices: every storage born on the device while the arena is open on this thread is released
 * at {@link #close}. Tensors made before the arena (parameters, optimizer state, inputs moved with
 * {@code .cuda()}) are untouched, also when they are updated in place inside it.
 *
 * <p>Why: device buffers return to the caching allocator only through the GC's cleaner, and a GPU step
 * allocates little Java heap, so the GC runs rarely while gigabytes of activations wait to be freed
 * (measured on an H100: a 69 GB peak for a ViT-S/16 batch-64 step). With an arena the next step reuses
 * the same blocks straight from the allocator's cache.
 *
 * <p>A released tensor whose data exists only on the device cannot be read again: any use throws,
 * naming the arena (read results, e.g. {@code loss.item()}, before closing). Tensors whose host copy is
 * current keep working; only their device copy goes.
 */
public final class DeviceArena implements AutoCloseable {
    private static final ThreadLocal<DeviceArena> CURRENT = new ThreadLocal<>();

    private final String name;
    private final DeviceArena outer;
    private final List<Storage> born = new ArrayList<>();
    private boolean closed;

    private DeviceArena(String name, DeviceArena outer) {
        this.name = name;
        this.outer = outer;
    }

    /** Opens an arena on this thread (arenas nest; the innermost collects). */
    public static DeviceArena open(String name) {
        DeviceArena a = new DeviceArena(name, CURRENT.get());
        CURRENT.set(a);
        return a;
    }

    static void register(Storage s) {
        DeviceArena a = CURRENT.get();
        if (a != null) a.born.add(s);
    }

    public String name() { return name; }

    /** Storages collected so far. */
    public int size() { return born.size(); }

    @Override public void close() {
        if (closed) return;
        closed = true;
        CURRENT.set(outer);
        for (Storage s : born) s.releaseDevice(name);
        born.clear();
    }
}
