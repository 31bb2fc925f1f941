package dino4j.autograd;

import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/** Records ops and runs backward over the recorded graph in reverse topological order. */
public final class Graph {
    private Graph() {}

    /**
     * Records {@code out = op(inputs)}: returns a Var with a node when grad mode is on and some input
     * requires grad, else a constant. {@code saved} are the tensors backward will read (version-checked).
     */
    public static Var record(String op, Tensor out, Var[] inputs, Tensor[] saved, Backward backward) {
        if (!Grad.isEnabled()) return Var.constant(out);
        boolean any = false;
        for (Var v : inputs) any |= v != null && v.requiresGrad();
        if (!any) return Var.constant(out);
        return new Var(out, true, new Node(op, inputs.clone(), saved, backward));
    }

    static void backward(Var root, Tensor seed) {
        if (!root.requiresGrad()) throw new IllegalStateException("backward on a value that does not require grad (no trainable input, or made under noGrad)");
        if (seed == null) {
            if (root.data().numel() != 1)
                throw new IllegalStateException("backward() without a seed needs a scalar, got shape " + Arrays.toString(root.shape()));
            seed = Tensor.full(root.data().dtype(), 1.0, root.shape());
        } else if (!seed.sameShape(root.data())) {
            throw new IllegalArgumentException("seed shape " + Arrays.toString(seed.shape()) + " != value shape " + Arrays.toString(root.shape()));
        }
        List<Var> order = topo(root);
        Map<Var, Tensor> grads = new IdentityHashMap<>();
        grads.put(root, seed);
        for (int i = order.size() - 1; i >= 0; i--) {
            Var v = order.get(i);
            Tensor g = grads.remove(v);
            if (g == null) continue;
            if (v.node == null) {
                if (v.requiresGrad()) v.setGrad(v.grad() == null ? g.copy() : Ops.add(v.grad(), g));
                continue;
            }
            Node n = v.node;
            n.checkSaved();
            boolean[] needs = new boolean[n.inputs.length];
            for (int k = 0; k < needs.length; k++) needs[k] = n.inputs[k] != null && n.inputs[k].requiresGrad();
            Tensor[] gin = n.backward.apply(g, needs);
            for (int k = 0; k < n.inputs.length; k++) {
                if (!needs[k] || gin[k] == null) continue;
                Var in = n.inputs[k];
                if (!gin[k].sameShape(in.data()))
                    throw new IllegalStateException("backward of '" + n.op + "' returned gradient of shape " + Arrays.toString(gin[k].shape())
                            + " for input " + k + " of shape " + Arrays.toString(in.shape()));
                Tensor prev = grads.get(in);
                grads.put(in, prev == null ? gin[k] : Ops.add(prev, gin[k]));
            }
        }
    }

    /** Nodes reachable from root, inputs before outputs (iterative DFS: deep ViTs would overflow recursion). */
    private static List<Var> topo(Var root) {
        List<Var> order = new ArrayList<>();
        Map<Var, Boolean> state = new IdentityHashMap<>(); // false = on stack, true = done
        Deque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[]{root, 0});
        state.put(root, false);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Var v = (Var) top[0];
            int next = (Integer) top[1];
            Var[] ins = v.node == null ? new Var[0] : v.node.inputs;
            while (next < ins.length && (ins[next] == null || !ins[next].requiresGrad() || state.containsKey(ins[next]))) next++;
            if (next < ins.length) {
                top[1] = next + 1;
                state.put(ins[next], false);
                stack.push(new Object[]{ins[next], 0});
            } else {
                stack.pop();
                state.put(v, true);
                order.add(v);
            }
        }
        return order;
    }
}
