package dino4j.nn;

import dino4j.autograd.Var;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

/**
 * A trainable tensor: holds a leaf {@link Var} (which accumulates {@code grad} over backward calls).
 * {@link #name()} is the dotted state-dict name given by the last {@link Module#namedParameters()}
 * walk from a root module (null before any); optimizers use it to key their state.
 */
public final class Parameter {
    private final Var var;
    private String name;

    public Parameter(Tensor init) {
        if (!init.dtype().isFloating()) throw new IllegalArgumentException("a parameter must be floating point, got " + init.dtype());
        this.var = Var.leaf(init.contiguous());
    }

    /** The Var to use in forward computations (the same object every call, so gradients accumulate). */
    public Var var() { return var; }
    public Tensor data() { return var.data(); }
    public Tensor grad() { return var.grad(); }
    public void setGrad(Tensor g) { var.setGrad(g); }
    public void zeroGrad() { var.zeroGrad(); }
    public int[] shape() { return var.shape(); }
    public int numel() { return var.data().numel(); }
    public DType dtype() { return var.data().dtype(); }

    /** Replaces the value (shape must match). Optimizers write in place instead. */
    public void setData(Tensor t) {
        if (!t.sameShape(var.data()))
            throw new IllegalArgumentException("parameter " + (name == null ? "" : "'" + name + "' ") + "has shape "
                    + java.util.Arrays.toString(var.shape()) + ", new value has " + java.util.Arrays.toString(t.shape()));
        var.setData(t.contiguous());
    }

    public String name() { return name; }
    public Parameter named(String n) { this.name = n; var.named(n); return this; }

    @Override public String toString() { return "Parameter(" + (name != null ? name + ", " : "") + var.data() + ")"; }
}
