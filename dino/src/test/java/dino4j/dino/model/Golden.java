package dino4j.dino.model;

import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths to ../shared/golden and the error measure the golden README prescribes. */
final class Golden {
    private Golden() {}

    static Path file(String name) {
        Path p = Path.of(System.getProperty("dino4j.shared", "../shared"), "golden", name);
        return Files.exists(p) ? p : Path.of("/work/shared/golden", name);
    }

    /** ‖a − ref‖ / ‖ref‖ (‖a‖ when ref is all zeros). */
    static double relL2(Tensor a, Tensor ref) {
        double[] x = a.to(DType.F64).toDoubleArray(), r = ref.to(DType.F64).toDoubleArray();
        if (x.length != r.length) throw new AssertionError("sizes differ: " + x.length + " vs " + r.length);
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) { num += (x[i] - r[i]) * (x[i] - r[i]); den += r[i] * r[i]; }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }
}
