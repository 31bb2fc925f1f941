package dino4j.nn;

import dino4j.autograd.Var;
import dino4j.tensor.DType;
import dino4j.tensor.Shape;
import dino4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * Base of all layers, modelled on torch.nn.Module: parameters, buffers and child modules are registered
 * in order under local names, and exposed under hierarchical dotted names exactly like PyTorch's
 * state_dict keys ({@code blocks.0.attn.qkv.weight}). Order of keys = registration order, depth first
 * (own parameters, then own buffers... per module, as PyTorch: params of a module, then buffers, then
 * children recursively).
 *
 * <p>Buffers are tensors that are saved but not trained (RoPE periods, masks). Modules should read them
 * through {@link #buffer(String)} because {@link #to(DType)} replaces them.
 */
public abstract class Module {
    private final LinkedHashMap<String, Parameter> params = new LinkedHashMap<>();
    private final LinkedHashMap<String, Tensor> buffers = new LinkedHashMap<>();
    private final Set<String> nonPersistent = new LinkedHashSet<>();
    private final LinkedHashMap<String, Module> children = new LinkedHashMap<>();
    private boolean training = true;

    // ------------------------------------------------------------------ registration

    private void checkName(String name) {
        if (name == null || name.isEmpty() || name.contains("."))
            throw new IllegalArgumentException("invalid member name '" + name + "' (must be non-empty, without '.')");
        if (params.containsKey(name) || buffers.containsKey(name) || children.containsKey(name))
            throw new IllegalArgumentException(getClass().getSimpleName() + " already has a member named '" + name + "'");
    }

    /** Registers a new parameter initialised with {@code init} (made contiguous; not copied otherwise). */
    public Parameter registerParameter(String name, Tensor init) {
        return registerParameter(name, new Parameter(init));
    }

    public Parameter registerParameter(String name, Parameter p) {
        checkName(name);
        if (p == null) throw new IllegalArgumentException("parameter '" + name + "' is null (just do not register optional ones)");
        params.put(name, p);
        return p;
    }

    public Tensor registerBuffer(String name, Tensor t) { return registerBuffer(name, t, true); }

    /** A buffer; non-persistent ones are left out of {@link #stateDict()}. */
    public Tensor registerBuffer(String name, Tensor t, boolean persistent) {
        checkName(name);
        buffers.put(name, t);
        if (!persistent) nonPersistent.add(name);
        return t;
    }

    public <M extends Module> M registerModule(String name, M child) {
        checkName(name);
        if (child == null) throw new IllegalArgumentException("child module '" + name + "' is null");
        if (child == this) throw new IllegalArgumentException("a module cannot contain itself");
        children.put(name, child);
        return child;
    }

    /** A buffer of this module by local name. */
    public Tensor buffer(String name) {
        Tensor t = buffers.get(name);
        if (t == null) throw new IllegalArgumentException(getClass().getSimpleName() + " has no buffer '" + name + "'");
        return t;
    }

    /** Replaces a buffer of this module (same name, any shape). */
    public void setBuffer(String name, Tensor t) {
        if (!buffers.containsKey(name)) throw new IllegalArgumentException(getClass().getSimpleName() + " has no buffer '" + name + "'");
        buffers.put(name, t);
    }

    /** A direct child module by local name. */
    public Module child(String name) {
        Module m = children.get(name);
        if (m == null) throw new IllegalArgumentException(getClass().getSimpleName() + " has no child '" + name + "'");
        return m;
    }

    public Map<String, Module> children() { return java.util.Collections.unmodifiableMap(children); }

    // ------------------------------------------------------------------ forward

    /** Single-input forward; layers with other signatures define their own methods. */
    public Var forward(Var x) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no single-input forward(Var)");
    }

    // ------------------------------------------------------------------ traversal

    private void walk(String prefix, BiConsumer<String, Module> visit) {
        visit.accept(prefix, this);
        for (Map.Entry<String, Module> e : children.entrySet()) e.getValue().walk(prefix + e.getKey() + ".", visit);
    }

    /** All modules, depth first, with their dotted names ("" for this one). */
    public LinkedHashMap<String, Module> namedModules() {
        LinkedHashMap<String, Module> out = new LinkedHashMap<>();
        walk("", (p, m) -> out.putIfAbsent(p.isEmpty() ? "" : p.substring(0, p.length() - 1), m));
        return out;
    }

    /**
     * Parameters by dotted name in state-dict order; a parameter shared by two paths appears once (first
     * path). Also (re)names each Parameter to its full name from this module.
     */
    public LinkedHashMap<String, Parameter> namedParameters() {
        LinkedHashMap<String, Parameter> out = new LinkedHashMap<>();
        Set<Parameter> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        walk("", (prefix, m) -> {
            for (Map.Entry<String, Parameter> e : m.params.entrySet()) {
                if (seen.add(e.getValue())) {
                    String n = prefix + e.getKey();
                    e.getValue().named(n);
                    out.put(n, e.getValue());
                }
            }
        });
        return out;
    }

    public List<Parameter> parameters() { return new ArrayList<>(namedParameters().values()); }

    /**
     * Places every parameter (and its gradient) and buffer of this module tree on {@code d}, in place: ops on
     * them run there from now on, and their data moves on first use. Returns this.
     */
    public Module to(dino4j.tensor.Device d) {
        for (Parameter p : parameters()) {
            p.data().moveTo(d);
            if (p.grad() != null) p.grad().moveTo(d);
        }
        for (Tensor t : namedBuffers().values()) if (t != null) t.moveTo(d);
        return this;
    }

    /** All buffers (persistent or not) by dotted name. */
    public LinkedHashMap<String, Tensor> namedBuffers() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        walk("", (prefix, m) -> m.buffers.forEach((k, v) -> out.put(prefix + k, v)));
        return out;
    }

    /** Parameters and persistent buffers, in PyTorch order (per module: params, then buffers; then children). */
    public LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        walk("", (prefix, m) -> {
            m.params.forEach((k, p) -> out.putIfAbsent(prefix + k, p.data()));
            m.buffers.forEach((k, v) -> { if (!m.nonPersistent.contains(k)) out.put(prefix + k, v); });
        });
        return out;
    }

    private record Slot(Module owner, String local, boolean isParam) {}

    private LinkedHashMap<String, Slot> slots() {
        LinkedHashMap<String, Slot> out = new LinkedHashMap<>();
        walk("", (prefix, m) -> {
            m.params.keySet().forEach(k -> out.putIfAbsent(prefix + k, new Slot(m, k, true)));
            m.buffers.keySet().forEach(k -> { if (!m.nonPersistent.contains(k)) out.put(prefix + k, new Slot(m, k, false)); });
        });
        return out;
    }

    /**
     * Copies tensors from {@code state} into this module's parameters and persistent buffers, converting
     * dtypes (BF16/F16/F64/F32 → the destination's dtype). Validates everything first: shape mismatches
     * always fail; with {@code strict}, missing and unexpected keys fail too. One exception lists every
     * problem. Without {@code strict}, returns silently having loaded the keys present in both.
     *
     * @return the keys that were not loaded (missing from {@code state}) — empty when strict
     */
    public List<String> loadStateDict(Map<String, Tensor> state, boolean strict) {
        LinkedHashMap<String, Slot> slots = slots();
        List<String> missing = new ArrayList<>(), unexpected = new ArrayList<>(), misShaped = new ArrayList<>();
        for (String k : slots.keySet()) if (!state.containsKey(k)) missing.add(k);
        for (String k : state.keySet()) if (!slots.containsKey(k)) unexpected.add(k);
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src == null) continue;
            Tensor dst = current(e.getValue());
            if (!Arrays.equals(src.shape(), dst.shape()))
                misShaped.add(e.getKey() + ": checkpoint " + Shape.str(src.shape()) + " vs model " + Shape.str(dst.shape()));
        }
        if (!misShaped.isEmpty() || (strict && (!missing.isEmpty() || !unexpected.isEmpty()))) {
            StringBuilder sb = new StringBuilder("error loading state dict into " + getClass().getSimpleName() + ":");
            if (strict && !missing.isEmpty()) sb.append("\n  missing keys (").append(missing.size()).append("): ").append(missing);
            if (strict && !unexpected.isEmpty()) sb.append("\n  unexpected keys (").append(unexpected.size()).append("): ").append(unexpected);
            if (!misShaped.isEmpty()) sb.append("\n  mis-shaped keys (").append(misShaped.size()).append("): ").append(misShaped);
            throw new IllegalArgumentException(sb.toString());
        }
        for (Map.Entry<String, Slot> e : slots.entrySet()) {
            Tensor src = state.get(e.getKey());
            if (src == null) continue;
            Slot s = e.getValue();
            Tensor dst = current(s);
            if (dst.isContiguous()) {
                src.copyInto(dst); // converts dtype, bumps version
            } else {
                Tensor fresh = src.to(dst.dtype()).copy();
                if (s.isParam) s.owner.params.get(s.local).setData(fresh); else s.owner.buffers.put(s.local, fresh);
            }
        }
        return missing;
    }

    private static Tensor current(Slot s) { return s.isParam ? s.owner.params.get(s.local).data() : s.owner.buffers.get(s.local); }

    // ------------------------------------------------------------------ modes and utilities

    public Module train() { return train(true); }

    public Module train(boolean on) {
        walk("", (p, m) -> m.training = on);
        return this;
    }

    public Module eval() { return train(false); }

    public boolean isTraining() { return training; }

    public void zeroGrad() { for (Parameter p : parameters()) p.zeroGrad(); }

    public long numParameters() {
        long n = 0;
        for (Parameter p : parameters()) n += p.numel();
        return n;
    }

    /**
     * Converts every floating parameter and buffer to {@code dtype} (F32 or F64), dropping gradients.
     * Parameters keep their identity (their value is replaced); buffers are replaced in the map.
     */
    public Module to(DType dtype) {
        if (dtype != DType.F32 && dtype != DType.F64) throw new IllegalArgumentException("modules compute in F32 or F64, not " + dtype);
        walk("", (prefix, m) -> {
            for (Parameter p : m.params.values()) {
                if (p.dtype() != dtype) { p.setData(p.data().to(dtype)); p.zeroGrad(); }
            }
            for (Map.Entry<String, Tensor> e : m.buffers.entrySet())
                if (e.getValue().dtype().isFloating() && e.getValue().dtype() != dtype) e.setValue(e.getValue().to(dtype));
        });
        return this;
    }

    @Override public String toString() {
        StringBuilder sb = new StringBuilder(getClass().getSimpleName()).append("(");
        namedParameters().forEach((k, p) -> sb.append("\n  ").append(k).append(" ").append(Shape.str(p.shape())).append(" ").append(p.dtype()));
        return sb.append(children.isEmpty() && params.isEmpty() ? ")" : "\n)").toString();
    }
}
