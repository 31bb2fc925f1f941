package dino4j.kernels;

/**
 * Element-wise unary operators of {@link ElementwiseKernels#unary}. {@code GELU} is the exact erf form
 * {@code 0.5·x·(1+erf(x/√2))}; {@code SILU} is {@code x·sigmoid(x)}.
 */
public enum UnaryOp { NEG, EXP, LOG, SQRT, RSQRT, ABS, TANH, SIGMOID, RELU, GELU, SILU, SQUARE, RECIPROCAL, SIN, COS }
