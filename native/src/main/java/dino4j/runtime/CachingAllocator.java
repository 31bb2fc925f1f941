package dino4j.runtime;

import jcuda.CudaException;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Caching device allocator: sizes are rounded up to a bucket (512 B granules below 1 MiB, then eight
 * buckets per power of two), freed blocks wait in a per-bucket free list and are handed out again without
 * a {@code cuMemAlloc}. Frees arrive from the GC's cleaner thread, so the lists are synchronised; they make
 * no CUDA call. When the device runs short the allocator first lets the GC return unreachable tensors'
 * blocks, then frees the cache, and only then fails, naming the sizes.
 */
public final class CachingAllocator {
    private final CudaContext ctx;
    private final long softLimit;
    private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
    private long inUse, cached, peakInUse, mallocs, reuses;

    CachingAllocator(CudaContext ctx, long totalMemory) {
        this.ctx = ctx;
        this.softLimit = (long) (totalMemory * 0.85);
    }

    static long bucket(long bytes) {
        if (bytes <= 0) return 512;
        if (bytes <= (1 << 20)) return (bytes + 511) & ~511L;
        long p = Long.highestOneBit(bytes - 1);              // bytes in (p, 2p]
        long step = Math.max(p / 8, 1 << 20);
        return (bytes + step - 1) / step * step;
    }

    DeviceBuffer alloc(long bytes) {
        long size = bucket(bytes);
        CUdeviceptr p = take(size);
        if (p == null) {
            if (inUseSnapshot() + size > softLimit) reclaimFromGc();
            p = take(size);
        }
        if (p == null) p = malloc(size);
        synchronized (this) {
            inUse += size;
            peakInUse = Math.max(peakInUse, inUse);
        }
        return new DeviceBuffer(this, p, size);
    }

    private synchronized long inUseSnapshot() { return inUse; }

    private synchronized CUdeviceptr take(long size) {
        ArrayDeque<CUdeviceptr> q = free.get(size);
        if (q == null || q.isEmpty()) return null;
        cached -= size;
        reuses++;
        return q.pop();
    }

    private CUdeviceptr malloc(long size) {
        for (int attempt = 0; ; attempt++) {
            try {
                CUdeviceptr p = new CUdeviceptr();
                JCudaDriver.cuMemAlloc(p, size);
                synchronized (this) { mallocs++; }
                return p;
            } catch (CudaException e) {
                if (attempt == 0) { reclaimFromGc(); CUdeviceptr p = take(size); if (p != null) return p; }
                else if (attempt == 1) emptyCache();
                else throw new IllegalStateException(String.format(
                        "CUDA out of memory allocating %.1f MiB (in use %.1f MiB, cached %.1f MiB, device %.1f GiB): %s",
                        size / 1048576.0, inUse / 1048576.0, cached / 1048576.0, ctx.totalMemory() / 1073741824.0, e.getMessage()), e);
            }
        }
    }

    /** Lets the GC find unreachable tensors so their cleaners return blocks to the cache. */
    private void reclaimFromGc() {
        System.gc();
        try { Thread.sleep(20); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
    }

    synchronized void free(CUdeviceptr p, long size) {
        inUse -= size;
        cached += size;
        free.computeIfAbsent(size, k -> new ArrayDeque<>()).push(p);
    }

    /** Returns all cached (unused) blocks to the driver. Waits for queued work first. */
    public void emptyCache() {
        ctx.synchronize();
        synchronized (this) {
            for (ArrayDeque<CUdeviceptr> q : free.values()) for (CUdeviceptr p : q) JCudaDriver.cuMemFree(p);
            free.clear();
            cached = 0;
        }
    }

    public synchronized long bytesInUse() { return inUse; }
    public synchronized long bytesCached() { return cached; }
    public synchronized long peakBytesInUse() { return peakInUse; }

    public synchronized String stats() {
        return String.format("device memory: %.1f MiB in use (peak %.1f), %.1f MiB cached; %d cuMemAlloc, %d reuses",
                inUse / 1048576.0, peakInUse / 1048576.0, cached / 1048576.0, mallocs, reuses);
    }
}
