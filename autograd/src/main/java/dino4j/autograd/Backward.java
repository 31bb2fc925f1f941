package dino4j.autograd;

import dino4j.tensor.Tensor;

/**
 * The backward of one op: given the gradient of its output, returns one gradient per input (same
 * order as the op's inputs; null where an input needs none). {@code needs[i]} says which are wanted.
 */
@FunctionalInterface
public interface Backward {
    Tensor[] apply(Tensor gradOutput, boolean[] needs);
}
