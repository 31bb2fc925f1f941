package dino4j.runtime;

import jcuda.driver.CUdeviceptr;

import java.lang.ref.Cleaner;

/**
 * A block of device memory from the {@link CachingAllocator}. It goes back to the allocator's cache when
 * {@link #release()} is called or, once {@link #bindTo} tied it to an owner object, when that owner is
 * garbage-collected (tensors are GC-managed, so device memory follows them).
 */
public final class DeviceBuffer {
    private static final Cleaner CLEANER = Cleaner.create();

    private final CachingAllocator allocator;
    private final CUdeviceptr ptr;
    private final long bytes;
    private final Release release;
    private Cleaner.Cleanable cleanable;

    DeviceBuffer(CachingAllocator allocator, CUdeviceptr ptr, long bytes) {
        this.allocator = allocator;
        this.ptr = ptr;
        this.bytes = bytes;
        this.release = new Release(allocator, ptr, bytes);
    }

    /** The start of the buffer. */
    public CUdeviceptr ptr() { return ptr; }

    /** A pointer {@code byteOffset} bytes into the buffer. */
    public CUdeviceptr at(long byteOffset) {
        if (byteOffset < 0 || byteOffset > bytes) throw new IndexOutOfBoundsException("offset " + byteOffset + " outside a " + bytes + "-byte device buffer");
        return byteOffset == 0 ? ptr : ptr.withByteOffset(byteOffset);
    }

    public long bytes() { return bytes; }

    /** Releases this buffer to the allocator when {@code owner} becomes unreachable. */
    public synchronized DeviceBuffer bindTo(Object owner) {
        if (cleanable != null) throw new IllegalStateException("device buffer already bound to an owner");
        cleanable = CLEANER.register(owner, release);
        return this;
    }

    /** Returns the memory to the allocator's cache now (idempotent). */
    public synchronized void release() {
        if (cleanable != null) cleanable.clean();
        else release.run();
    }

    // Must not reference the owner or this buffer, or it would never become unreachable.
    private static final class Release implements Runnable {
        private final CachingAllocator allocator;
        private final CUdeviceptr ptr;
        private final long bytes;
        private boolean done;

        Release(CachingAllocator allocator, CUdeviceptr ptr, long bytes) {
            this.allocator = allocator;
            this.ptr = ptr;
            this.bytes = bytes;
        }

        @Override public synchronized void run() {
            if (done) return;
            done = true;
            allocator.free(ptr, bytes);
        }
    }
}
