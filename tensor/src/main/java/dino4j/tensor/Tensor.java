package dino4j.tensor;

import java.util.Arrays;
import java.util.Random;

/**
 * A strided view of a {@link Storage}: dtype + shape + strides + offset. Views (reshape of contiguous
 * data, permute, transpose, slice, select, expand) share storage; {@link #contiguous()} copies only
 * when needed. Math lives in {@link Ops}, which dispatches to a backend that says it can run the op.
 */
public final class Tensor {
    private final Storage storage;
    private final int[] shape;
    private final int[] strides;
    private final int offset;

    public Tensor(Storage storage, int[] shape, int[] strides, int offset) {
        if (shape.length != strides.length) throw new IllegalArgumentException("shape and strides differ in rank");
        this.storage = storage;
        this.shape = shape.clone();
        this.strides = strides.clone();
        this.offset = offset;
    }

    // ---------------------------------------------------------------- factories

    public static Tensor zeros(DType dtype, int... shape) {
        return new Tensor(Storage.allocate(dtype, Shape.numel(shape)), shape, Shape.contiguousStrides(shape), 0);
    }

    public static Tensor zeros(int... shape) { return zeros(DType.F32, shape); }

    /** A contiguous tensor with unspecified contents, for kernels that write every element (backends only). */
    static Tensor uninitialized(DType dtype, int... shape) {
        return new Tensor(Storage.allocateUninitialized(dtype, Shape.numel(shape)), shape, Shape.contiguousStrides(shape), 0);
    }

    public static Tensor full(DType dtype, double value, int... shape) {
        Tensor t = zeros(dtype, shape);
        if (value != 0) for (int i = 0; i < t.numel(); i++) t.storage.set(i, value);
        return t;
    }

    public static Tensor ones(int... shape) { return full(DType.F32, 1, shape); }

    public static Tensor scalar(double v) { return full(DType.F32, v); }

    /** Wraps (does not copy) a float array as a contiguous tensor of the given shape. */
    public static Tensor of(float[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Storage.wrap(data), shape, Shape.contiguousStrides(shape), 0);
    }

    public static Tensor of(double[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Storage.wrap(data), shape, Shape.contiguousStrides(shape), 0);
    }

    public static Tensor ofLongs(long[] data, int... shape) {
        checkLength(data.length, shape);
        return new Tensor(Storage.wrap(data), shape, Shape.contiguousStrides(shape), 0);
    }

    public static Tensor ofBools(boolean[] mask, int... shape) {
        checkLength(mask.length, shape);
        byte[] b = new byte[mask.length];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (mask[i] ? 1 : 0);
        return new Tensor(Storage.wrapBool(b), shape, Shape.contiguousStrides(shape), 0);
    }

    /** Standard normal samples. */
    public static Tensor randn(Random rng, DType dtype, int... shape) {
        Tensor t = zeros(dtype, shape);
        for (int i = 0; i < t.numel(); i++) t.storage.set(i, rng.nextGaussian());
        return t;
    }

    public static Tensor randn(Random rng, int... shape) { return randn(rng, DType.F32, shape); }

    /** Uniform samples in [lo, hi). */
    public static Tensor rand(Random rng, DType dtype, double lo, double hi, int... shape) {
        Tensor t = zeros(dtype, shape);
        for (int i = 0; i < t.numel(); i++) t.storage.set(i, lo + (hi - lo) * rng.nextDouble());
        return t;
    }

    private static void checkLength(int len, int[] shape) {
        if (len != Shape.numel(shape))
            throw new IllegalArgumentException("data has " + len + " elements but shape " + Shape.str(shape) + " needs " + Shape.numel(shape));
    }

    // ---------------------------------------------------------------- metadata

    public Storage storage() { return storage; }
    public DType dtype() { return storage.dtype(); }
    /** Where ops on this tensor run: its storage's home (data moves between host and GPU lazily). */
    public Device device() { return storage.home(); }

    /**
     * A tensor whose ops run on {@code d}: this one when already there, else a contiguous copy placed there
     * (its data moves on first use). To move a model's parameters in place use {@link #moveTo}.
     */
    public Tensor to(Device d) {
        if (d == device()) return this;
        Tensor c = copy();
        c.storage.setHome(d);
        return c;
    }

    /** Re-homes this tensor's storage (and so every view of it) on {@code d}, in place; returns this. */
    public Tensor moveTo(Device d) {
        storage.setHome(d);
        return this;
    }

    /** Shorthand for {@code to(Device.CUDA)}. */
    public Tensor cuda() { return to(Device.CUDA); }
    public int[] shape() { return shape.clone(); }
    public int[] strides() { return strides.clone(); }
    public int offset() { return offset; }
    public int dim() { return shape.length; }
    public int size(int axis) { return shape[Shape.axis(axis, shape.length)]; }
    public int stride(int axis) { return strides[Shape.axis(axis, shape.length)]; }
    public int numel() { return Shape.numel(shape); }
    public int version() { return storage.version(); }

    /** Call after writing into this tensor's storage in place (autograd checks it). */
    public Tensor bumpVersion() { storage.bumpVersion(); return this; }

    public boolean isContiguous() {
        if (numel() == 0) return true;   // nothing to lay out (e.g. [B, 0, D] storage tokens of a ConvNeXt)
        int expect = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expect) return false;
            expect *= shape[i];
        }
        return true;
    }

    public boolean sameShape(Tensor o) { return Arrays.equals(shape, o.shape); }

    /** The backing float[] of an F32 tensor (offset() says where this view starts). */
    public float[] f32() { return storage.floats(); }

    /** The backing double[] of an F64 tensor. */
    public double[] f64() { return storage.doubles(); }

    // ---------------------------------------------------------------- element access (slow paths)

    private int flatOffset(int... idx) {
        if (idx.length != shape.length) throw new IllegalArgumentException("index rank " + idx.length + " != tensor rank " + shape.length);
        int o = offset;
        for (int i = 0; i < idx.length; i++) {
            if (idx[i] < 0 || idx[i] >= shape[i])
                throw new IndexOutOfBoundsException("index " + Arrays.toString(idx) + " out of bounds for shape " + Shape.str(shape));
            o += idx[i] * strides[i];
        }
        return o;
    }

    public double get(int... idx) { return storage.get(flatOffset(idx)); }

    public void set(double v, int... idx) { storage.set(flatOffset(idx), v); storage.bumpVersion(); }

    /** The single value of a one-element tensor. */
    public double item() {
        if (numel() != 1) throw new IllegalStateException("item() needs one element, tensor has shape " + Shape.str(shape));
        return storage.get(offset + 0);
    }

    /** Element at row-major position i of this view. */
    public double getFlat(int i) {
        int o = offset;
        for (int d = shape.length - 1; d >= 0; d--) {
            int n = shape[d];
            o += (i % n) * strides[d];
            i /= n;
        }
        return storage.get(o);
    }

    /** A fresh contiguous float[] copy of this view's elements in row-major order. */
    public float[] toFloatArray() {
        Tensor c = to(DType.F32).contiguous();
        float[] out = new float[c.numel()];
        System.arraycopy((float[]) c.storage.readArray(), c.offset, out, 0, out.length);
        return out;
    }

    public double[] toDoubleArray() {
        Tensor c = to(DType.F64).contiguous();
        double[] out = new double[c.numel()];
        System.arraycopy((double[]) c.storage.readArray(), c.offset, out, 0, out.length);
        return out;
    }

    // ---------------------------------------------------------------- views

    /** Reshape; a view when the data is contiguous, a copy otherwise. One dimension may be -1. */
    public Tensor reshape(int... newShape) {
        int[] ns = newShape.clone();
        int infer = -1, known = 1;
        for (int i = 0; i < ns.length; i++) {
            if (ns[i] == -1) {
                if (infer >= 0) throw new IllegalArgumentException("only one -1 allowed in reshape " + Arrays.toString(newShape));
                infer = i;
            } else known *= ns[i];
        }
        if (infer >= 0) {
            if (known == 0 || numel() % known != 0)
                throw new IllegalArgumentException("cannot reshape " + Shape.str(shape) + " to " + Arrays.toString(newShape));
            ns[infer] = numel() / known;
        }
        if (Shape.numel(ns) != numel())
            throw new IllegalArgumentException("cannot reshape " + Shape.str(shape) + " (" + numel() + " elements) to " + Arrays.toString(newShape));
        Tensor c = contiguous();
        return new Tensor(c.storage, ns, Shape.contiguousStrides(ns), c.offset);
    }

    public Tensor flatten() { return reshape(numel()); }

    public Tensor permute(int... order) {
        if (order.length != shape.length) throw new IllegalArgumentException("permute needs " + shape.length + " axes, got " + Arrays.toString(order));
        int[] ns = new int[order.length], st = new int[order.length];
        boolean[] seen = new boolean[order.length];
        for (int i = 0; i < order.length; i++) {
            int a = Shape.axis(order[i], shape.length);
            if (seen[a]) throw new IllegalArgumentException("axis repeated in permute " + Arrays.toString(order));
            seen[a] = true;
            ns[i] = shape[a];
            st[i] = strides[a];
        }
        return new Tensor(storage, ns, st, offset);
    }

    public Tensor transpose(int a, int b) {
        int[] order = new int[shape.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        a = Shape.axis(a, shape.length);
        b = Shape.axis(b, shape.length);
        order[a] = b;
        order[b] = a;
        return permute(order);
    }

    /** Elements [start, end) along axis, with a step (view). */
    public Tensor slice(int axis, int start, int end, int step) {
        int a = Shape.axis(axis, shape.length);
        if (step <= 0) throw new IllegalArgumentException("slice step must be positive, got " + step);
        if (start < 0) start += shape[a];
        if (end < 0) end += shape[a];
        end = Math.min(end, shape[a]);
        if (start < 0 || start > end) throw new IllegalArgumentException("slice [" + start + ", " + end + ") out of range for axis " + a + " of size " + shape[a]);
        int[] ns = shape.clone(), st = strides.clone();
        ns[a] = (end - start + step - 1) / step;
        st[a] = strides[a] * step;
        return new Tensor(storage, ns, st, offset + start * strides[a]);
    }

    public Tensor slice(int axis, int start, int end) { return slice(axis, start, end, 1); }

    /** Drops an axis by picking one index along it (view). */
    public Tensor select(int axis, int index) {
        int a = Shape.axis(axis, shape.length);
        if (index < 0) index += shape[a];
        if (index < 0 || index >= shape[a]) throw new IndexOutOfBoundsException("index " + index + " out of range for axis " + a + " of size " + shape[a]);
        int[] ns = new int[shape.length - 1], st = new int[shape.length - 1];
        for (int i = 0, j = 0; i < shape.length; i++) {
            if (i == a) continue;
            ns[j] = shape[i];
            st[j++] = strides[i];
        }
        return new Tensor(storage, ns, st, offset + index * strides[a]);
    }

    public Tensor unsqueeze(int axis) {
        int a = axis < 0 ? axis + shape.length + 1 : axis;
        if (a < 0 || a > shape.length) throw new IllegalArgumentException("unsqueeze axis " + axis + " out of range for rank " + shape.length);
        int[] ns = new int[shape.length + 1], st = new int[shape.length + 1];
        for (int i = 0, j = 0; i < ns.length; i++) {
            if (i == a) {
                ns[i] = 1;
                st[i] = j < shape.length ? strides[j] * shape[j] : 1;
            } else {
                ns[i] = shape[j];
                st[i] = strides[j++];
            }
        }
        return new Tensor(storage, ns, st, offset);
    }

    public Tensor squeeze(int axis) {
        int a = Shape.axis(axis, shape.length);
        if (shape[a] != 1) throw new IllegalArgumentException("cannot squeeze axis " + a + " of size " + shape[a]);
        return select(a, 0);
    }

    /** Broadcast view to a larger shape (stride 0 on expanded axes), NumPy rules. */
    public Tensor expand(int... target) {
        if (target.length < shape.length) throw new IllegalArgumentException("cannot expand " + Shape.str(shape) + " to " + Arrays.toString(target));
        int[] st = new int[target.length];
        int lead = target.length - shape.length;
        for (int i = 0; i < target.length; i++) {
            if (i < lead) { st[i] = 0; continue; }
            int d = shape[i - lead];
            if (d == target[i]) st[i] = strides[i - lead];
            else if (d == 1) st[i] = 0;
            else throw new IllegalArgumentException("cannot expand " + Shape.str(shape) + " to " + Arrays.toString(target));
        }
        return new Tensor(storage, target, st, offset);
    }

    /** This view's data in a fresh row-major storage, or this tensor itself when already contiguous. */
    public Tensor contiguous() {
        if (isContiguous()) return this;
        return copy();
    }

    /** A fresh contiguous copy (always copies), made where this tensor lives. */
    public Tensor copy() {
        return Backends.select("copy", this).copy(this);
    }

    /** Copies this view's elements into {@code dst} (same shape, contiguous), converting dtype when needed. */
    public void copyInto(Tensor dst) {
        if (!sameShape(dst)) throw new IllegalArgumentException("copy shape " + Shape.str(shape) + " into " + Shape.str(dst.shape));
        if (!dst.isContiguous()) throw new IllegalArgumentException("copyInto needs a contiguous destination");
        StridedCopy.copy(this, dst);
        dst.bumpVersion();
    }

    /** Converts to another dtype (a new tensor; this one when the dtype already matches). */
    public Tensor to(DType target) {
        if (target == dtype()) return this;
        Tensor out = zeros(target, shape);
        copyInto(out);
        return out;
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder("Tensor(").append(dtype()).append(", ").append(Shape.str(shape));
        int n = Math.min(numel(), 8);
        sb.append(", [");
        for (int i = 0; i < n; i++) sb.append(i > 0 ? ", " : "").append(String.format("%.5g", getFlat(i)));
        if (numel() > n) sb.append(", ...");
        return sb.append("])").toString();
    }
}
