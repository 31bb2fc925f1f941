package dino4j.nn.optim;

import dino4j.kernels.OptimizerKernels;
import dino4j.nn.Parameter;
import dino4j.tensor.DType;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * AdamW exactly as torch.optim.AdamW (single-tensor path), per parameter group:
 * <pre>
 *   lr = lr·lrMult, wd = wd·wdMult, t += 1
 *   θ ← θ·(1 − lr·wd)                         (decoupled decay)
 *   m ← m + (1−β1)(g − m)                     (lerp)
 *   v ← β2·v + (1−β2)·g²
 *   θ ← θ − lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
 * </pre>
 * State (m, v in the parameter's dtype, per-parameter step count) lives here and is exported/imported by
 * parameter name, so a resumed run is bit-identical. Parameters with a null grad are skipped (their
 * step does not advance), as in PyTorch. The update runs in {@link OptimizerKernels#adamw} (F32: SIMD,
 * scalars computed in double then rounded to float as PyTorch does; F64: the double reference).
 */
public final class AdamW {
    private final List<ParamGroup> groups;
    private final double beta1, beta2, eps;
    private final Map<Parameter, State> state = new IdentityHashMap<>();
    private final LinkedHashMap<String, Parameter> byName = new LinkedHashMap<>();

    private static final class State {
        Tensor m, v;
        long step;
    }

    public AdamW(List<ParamGroup> groups) { this(groups, 0.9, 0.999, 1e-8); }

    public AdamW(List<ParamGroup> groups, double beta1, double beta2, double eps) {
        if (!(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1)) throw new IllegalArgumentException("betas must be in [0, 1), got " + beta1 + ", " + beta2);
        if (!(eps >= 0)) throw new IllegalArgumentException("eps must be >= 0, got " + eps);
        this.groups = List.copyOf(groups);
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        for (ParamGroup g : this.groups) {
            for (Map.Entry<String, Parameter> e : g.namedParams().entrySet()) {
                Parameter prev = byName.put(e.getKey(), e.getValue());
                if (prev != null) throw new IllegalArgumentException("parameter name '" + e.getKey() + "' appears twice across parameter groups");
                if (state.containsKey(e.getValue())) throw new IllegalArgumentException("parameter '" + e.getKey() + "' is in two groups");
                state.put(e.getValue(), null);
            }
        }
    }

    public List<ParamGroup> groups() { return groups; }
    public double beta1() { return beta1; }
    public double beta2() { return beta2; }
    public double eps() { return eps; }

    /** One update of every parameter that has a gradient; lr and weight decay before group multipliers. */
    public void step(double lr, double weightDecay) { step(lr, weightDecay, lr); }

    /** As {@link #step(double, double)}, with groups flagged {@link ParamGroup#isLastLayer()} using {@code lastLayerLr}. */
    public void step(double lr, double weightDecay, double lastLayerLr) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("adamw");
        for (ParamGroup g : groups) {
            double glr = (g.isLastLayer() ? lastLayerLr : lr) * g.lrMultiplier(), gwd = weightDecay * g.wdMultiplier();
            for (Parameter p : g.params()) {
                Tensor grad = p.grad();
                if (grad == null) continue;
                if (!grad.sameShape(p.data()))
                    throw new IllegalStateException("grad of '" + p.name() + "' has shape " + Arrays.toString(grad.shape()) + ", parameter " + Arrays.toString(p.shape()));
                State s = state.get(p);
                if (s == null) {
                    s = new State();
                    s.m = Tensor.zeros(p.dtype(), p.shape());
                    s.v = Tensor.zeros(p.dtype(), p.shape());
                    state.put(p, s);
                }
                s.step++;
                update(p.data(), grad.contiguous(), s, glr, gwd);
                p.data().bumpVersion();
            }
        }
    }

    private void update(Tensor param, Tensor grad, State s, double lr, double wd) {
        int n = param.numel();
        if (s.step > Integer.MAX_VALUE) throw new IllegalStateException("step count overflow");
        int step = (int) s.step;
        if (param.dtype() != DType.F32 && param.dtype() != DType.F64)
            throw new IllegalStateException("AdamW updates F32 or F64 parameters, got " + param.dtype());
        // one fused pass on whichever backend holds the parameter (CPU kernel or CUDA kernel)
        Ops.adamw(param, grad.to(param.dtype()).contiguous(), s.m, s.v, lr, beta1, beta2, eps, wd, step);
        s.m.bumpVersion();
        s.v.bumpVersion();
    }

    /** Clears all gradients of the optimized parameters. */
    public void zeroGrad() { for (Parameter p : state.keySet()) p.zeroGrad(); }

    /** Steps taken by one parameter (0 before its first update). */
    public long stepCount(Parameter p) {
        State s = state.get(p);
        return s == null ? 0 : s.step;
    }

    /**
     * The state as tensors keyed {@code <param>.exp_avg}, {@code <param>.exp_avg_sq} (parameter dtype,
     * copies) and {@code <param>.step} (I64 scalar), for parameters that have taken a step.
     */
    public LinkedHashMap<String, Tensor> stateDict() {
        LinkedHashMap<String, Tensor> out = new LinkedHashMap<>();
        for (Map.Entry<String, Parameter> e : byName.entrySet()) {
            State s = state.get(e.getValue());
            if (s == null) continue;
            out.put(e.getKey() + ".exp_avg", s.m.copy());
            out.put(e.getKey() + ".exp_avg_sq", s.v.copy());
            out.put(e.getKey() + ".step", Tensor.ofLongs(new long[]{s.step}));
        }
        return out;
    }

    /** Restores {@link #stateDict()} output (validated first; unknown or mis-shaped entries fail, listed). */
    public void loadStateDict(Map<String, Tensor> sd) {
        List<String> problems = new ArrayList<>();
        for (String k : sd.keySet()) {
            String pname = paramOf(k);
            if (pname == null || !byName.containsKey(pname)) { problems.add("unexpected key " + k); continue; }
            Parameter p = byName.get(pname);
            Tensor t = sd.get(k);
            if (k.endsWith(".step")) {
                if (t.numel() != 1) problems.add(k + " must hold one value, has shape " + Arrays.toString(t.shape()));
            } else if (!Arrays.equals(t.shape(), p.shape())) {
                problems.add(k + ": state " + Arrays.toString(t.shape()) + " vs parameter " + Arrays.toString(p.shape()));
            }
        }
        for (String pname : byName.keySet()) {
            int have = (sd.containsKey(pname + ".exp_avg") ? 1 : 0) + (sd.containsKey(pname + ".exp_avg_sq") ? 1 : 0) + (sd.containsKey(pname + ".step") ? 1 : 0);
            if (have != 0 && have != 3) problems.add("incomplete state for " + pname + " (need exp_avg, exp_avg_sq and step)");
        }
        if (!problems.isEmpty()) throw new IllegalArgumentException("cannot load AdamW state: " + problems);
        for (Map.Entry<String, Parameter> e : byName.entrySet()) {
            String n = e.getKey();
            Parameter p = e.getValue();
            if (!sd.containsKey(n + ".step")) { state.put(p, null); continue; }
            State s = new State();
            s.m = sd.get(n + ".exp_avg").to(p.dtype()).copy();
            s.v = sd.get(n + ".exp_avg_sq").to(p.dtype()).copy();
            s.step = (long) sd.get(n + ".step").item();
            state.put(p, s);
        }
    }

    private static String paramOf(String key) {
        for (String suf : new String[]{".exp_avg_sq", ".exp_avg", ".step"})
            if (key.endsWith(suf)) return key.substring(0, key.length() - suf.length());
        return null;
    }
}
