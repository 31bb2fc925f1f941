package dino4j.autograd;

import dino4j.tensor.Tensor;

/**
 * A tensor on the tape: its value, the node that made it (null for leaves), and for leaves that
 * require grad the accumulated gradient ({@code +=} over backward calls, as in PyTorch).
 */
public final class Var {
    private Tensor data;
    private Tensor grad;
    private final boolean requiresGrad;
    final Node node;
    private String name;

    Var(Tensor data, boolean requiresGrad, Node node) {
        this.data = data;
        this.requiresGrad = requiresGrad;
        this.node = node;
    }

    /** A constant: no gradient flows into it. */
    public static Var constant(Tensor t) { return new Var(t, false, null); }

    /** A trainable leaf: backward accumulates into {@link #grad()}. */
    public static Var leaf(Tensor t) { return new Var(t, true, null); }

    public Tensor data() { return data; }
    public Tensor grad() { return grad; }
    public boolean requiresGrad() { return requiresGrad; }
    public boolean isLeaf() { return node == null; }
    public int[] shape() { return data.shape(); }
    public int dim() { return data.dim(); }
    public int size(int axis) { return data.size(axis); }
    public String name() { return name; }
    public Var named(String n) { this.name = n; return this; }

    /** The op that produced this value, or null for a leaf. */
    public String op() { return node == null ? null : node.op; }

    /** Replaces a leaf's value (optimizer steps, checkpoint loads); never allowed on an op output. */
    public void setData(Tensor t) {
        if (node != null) throw new IllegalStateException("setData on a non-leaf value produced by " + node.op);
        this.data = t;
    }

    public void setGrad(Tensor g) { this.grad = g; }
    public void zeroGrad() { this.grad = null; }

    /** The same value cut off from the tape. */
    public Var detach() { return constant(data); }

    /** Backward from a scalar (seed 1). */
    public void backward() { Graph.backward(this, null); }

    /** Backward with an explicit output gradient of this value's shape. */
    public void backward(Tensor seed) { Graph.backward(this, seed); }

    @Override public String toString() {
        return "Var(" + (name != null ? name + ", " : "") + (node != null ? "op=" + node.op + ", " : "") + data + ")";
    }
}
