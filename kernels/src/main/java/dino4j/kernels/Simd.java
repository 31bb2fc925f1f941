package dino4j.kernels;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The float species every kernel uses, chosen once: the JVM's preferred species, which is 512-bit on a
 * CPU with AVX-512. Measured for GEMM on this project's 2-core Xeon (AVX-512, JDK 25, 1 thread, see
 * bench/results/gemm-cpu.md): 512-bit 152–184 GFLOP/s vs 256-bit 43–99 GFLOP/s at N = 256..2048, so
 * 512 stays. Overridable with {@code -Ddino4j.simd.bits=128|256|512} for comparison runs.
 */
public final class Simd {
    private Simd() {}

    public static final VectorSpecies<Float> F = choose();
    public static final int LANES = F.length();

    private static VectorSpecies<Float> choose() {
        String bits = System.getProperty("dino4j.simd.bits", "");
        return switch (bits.trim()) {
            case "128" -> FloatVector.SPECIES_128;
            case "256" -> FloatVector.SPECIES_256;
            case "512" -> FloatVector.SPECIES_512;
            case "" -> FloatVector.SPECIES_PREFERRED;
            default -> throw new IllegalArgumentException("dino4j.simd.bits must be 128, 256 or 512, got '" + bits + "'");
        };
    }
}
