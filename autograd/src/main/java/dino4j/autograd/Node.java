package dino4j.autograd;

import dino4j.tensor.Tensor;

/** One recorded op: its inputs, the tensors it saved (with their versions), and its backward. */
final class Node {
    final String op;
    final Var[] inputs;
    final Tensor[] saved;
    final int[] savedVersions;
    final Backward backward;

    Node(String op, Var[] inputs, Tensor[] saved, Backward backward) {
        this.op = op;
        this.inputs = inputs;
        this.saved = saved == null ? new Tensor[0] : saved;
        this.savedVersions = new int[this.saved.length];
        for (int i = 0; i < this.saved.length; i++) savedVersions[i] = this.saved[i].version();
        this.backward = backward;
    }

    /** Fails loudly when a tensor saved for this node's backward was written in place since. */
    void checkSaved() {
        for (int i = 0; i < saved.length; i++) {
            int now = saved[i].version();
            if (now != savedVersions[i])
                throw new IllegalStateException("a tensor saved for the backward of '" + op + "' (shape "
                        + java.util.Arrays.toString(saved[i].shape()) + ") was modified in place after it was saved (version "
                        + savedVersions[i] + " -> " + now + "); clone it before writing, or write outside the graph");
        }
    }
}
