package dino4j.runtime;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Host↔device copies of Java arrays through one pinned (page-locked) staging buffer, so the DMA engine
 * reads and writes host memory directly. Arrays larger than the buffer go in chunks. Each copy waits for
 * the stream, so the caller's array is complete when the call returns.
 */
public final class PinnedStaging {
    private static final long CHUNK = 32L << 20;
    private final CudaContext ctx;
    private Pointer pinned;
    private ByteBuffer view;

    PinnedStaging(CudaContext ctx) { this.ctx = ctx; }

    private ByteBuffer buffer() {
        if (pinned == null) {
            pinned = new Pointer();
            JCudaDriver.cuMemHostAlloc(pinned, CHUNK, 0);
            view = pinned.getByteBuffer(0, CHUNK).order(ByteOrder.nativeOrder());
        }
        return view;
    }

    /** Copies {@code count} elements of a primitive array starting at {@code from} to {@code dst}. */
    public synchronized void upload(CUdeviceptr dst, Object array, int from, int count, String why) {
        int es = elementSize(array);
        long total = (long) count * es;
        Transfers.upload(total, why);
        ctx.makeCurrent();
        ByteBuffer b = buffer();
        int perChunk = (int) (CHUNK / es);
        for (int done = 0; done < count; done += perChunk) {
            int n = Math.min(perChunk, count - done);
            b.clear();
            put(b, array, from + done, n);
            JCudaDriver.cuMemcpyHtoDAsync(dst.withByteOffset((long) done * es), pinned, (long) n * es, ctx.stream());
            JCudaDriver.cuStreamSynchronize(ctx.stream());
        }
    }

    /** Copies {@code count} elements from {@code src} into a primitive array starting at {@code from}. */
    public synchronized void download(CUdeviceptr src, Object array, int from, int count, String why) {
        int es = elementSize(array);
        Transfers.download((long) count * es, why);
        ctx.makeCurrent();
        ByteBuffer b = buffer();
        int perChunk = (int) (CHUNK / es);
        for (int done = 0; done < count; done += perChunk) {
            int n = Math.min(perChunk, count - done);
            JCudaDriver.cuMemcpyDtoHAsync(pinned, src.withByteOffset((long) done * es), (long) n * es, ctx.stream());
            JCudaDriver.cuStreamSynchronize(ctx.stream());
            b.clear();
            get(b, array, from + done, n);
        }
    }

    static int elementSize(Object a) {
        return switch (a) {
            case float[] x -> 4;
            case int[] x -> 4;
            case double[] x -> 8;
            case long[] x -> 8;
            case short[] x -> 2;
            case byte[] x -> 1;
            default -> throw new IllegalArgumentException("not a primitive numeric array: " + a.getClass());
        };
    }

    private static void put(ByteBuffer b, Object a, int off, int n) {
        switch (a) {
            case float[] x -> b.asFloatBuffer().put(x, off, n);
            case int[] x -> b.asIntBuffer().put(x, off, n);
            case double[] x -> b.asDoubleBuffer().put(x, off, n);
            case long[] x -> b.asLongBuffer().put(x, off, n);
            case short[] x -> b.asShortBuffer().put(x, off, n);
            case byte[] x -> b.put(x, off, n);
            default -> throw new IllegalArgumentException(a.getClass().toString());
        }
    }

    private static void get(ByteBuffer b, Object a, int off, int n) {
        switch (a) {
            case float[] x -> b.asFloatBuffer().get(x, off, n);
            case int[] x -> b.asIntBuffer().get(x, off, n);
            case double[] x -> b.asDoubleBuffer().get(x, off, n);
            case long[] x -> b.asLongBuffer().get(x, off, n);
            case short[] x -> b.asShortBuffer().get(x, off, n);
            case byte[] x -> b.get(x, off, n);
            default -> throw new IllegalArgumentException(a.getClass().toString());
        }
    }
}
