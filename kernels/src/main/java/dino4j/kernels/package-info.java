/**
 * The compute itself, one kernel family per file ({@code <Family>Kernels.java}; the CUDA twin is
 * {@code <family>.cu} with its launcher).
 *
 * <p>Conventions shared by every family:
 * <ul>
 *   <li>Fast kernels work on {@code float[]} with explicit offsets and leading dimensions (row-major),
 *       vectorised with the Vector API on the species chosen once in {@link dino4j.kernels.Simd}, and
 *       threaded on {@link dino4j.kernels.Parallel}'s owned pool.</li>
 *   <li>Every family has a plain scalar reference on {@code double[]} (methods named {@code reference*}).
 *       It is the oracle of the conformance tests (float32 fast kernel vs reference: relative L2 ≲ 1e-5)
 *       and it is also the float64 backend that the finite-difference gradient checks run on, so one
 *       reference serves both.</li>
 * </ul>
 */
package dino4j.kernels;
