package dino4j.kernels;

/** Element-wise binary operators of {@link ElementwiseKernels#binary}. */
public enum BinaryOp { ADD, SUB, MUL, DIV, MAX, MIN, POW }
