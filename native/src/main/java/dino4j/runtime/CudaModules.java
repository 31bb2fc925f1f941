package dino4j.runtime;

import java.io.IOException;
import java.io.InputStream;

/**
 * Where compiled kernels live: {@code dino4j/cuda/<family>.fatbin} on the classpath (sm_80 and sm_90
 * machine code plus compute_90 PTX, or the targets a family names on its first line, e.g. sm_90a; written by {@code kernels/build-cuda.sh} during the Maven build), and
 * {@code dino4j/cuda/MANIFEST} listing the families that were compiled.
 */
public final class CudaModules {
    private CudaModules() {}

    public static final String DIR = "dino4j/cuda/";

    public static boolean kernelsPresent() {
        return CudaModules.class.getClassLoader().getResource(DIR + "MANIFEST") != null;
    }

    /** The fatbin bytes of one kernel family; a clear error when the family was not compiled. */
    public static byte[] fatbin(String family) {
        String path = DIR + family + ".fatbin";
        try (InputStream in = CudaModules.class.getClassLoader().getResourceAsStream(path)) {
            if (in == null) throw new IllegalStateException("no compiled CUDA module " + path + " on the classpath (was "
                    + family + ".cu compiled? see kernels/build-cuda.sh)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + path + ": " + e.getMessage(), e);
        }
    }
}
