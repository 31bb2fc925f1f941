package dino4j.nn;

import dino4j.nn.optim.Ema;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class EmaTest {
    @Test void teacherMovesTowardStudent() {
        Parameter t = new Parameter(Tensor.of(new double[]{1, 2, 3}, 3)), s = new Parameter(Tensor.of(new double[]{3, 2, -1}, 3));
        Parameter t32 = new Parameter(Tensor.of(new float[]{0.5f}, 1)), s32 = new Parameter(Tensor.of(new float[]{1.5f}, 1));
        Ema.update(List.of(t, t32), List.of(s, s32), 0.9);
        assertArrayEquals(new double[]{0.9 * 1 + 0.1 * 3, 2, 0.9 * 3 + 0.1 * -1}, t.data().toDoubleArray(), 1e-15);
        assertEquals(0.6, t32.data().getFlat(0), 1e-6);
        assertArrayEquals(new double[]{3, 2, -1}, s.data().toDoubleArray(), 0, "student unchanged");
        Ema.update(List.of(t), List.of(s), 0.0);
        assertArrayEquals(new double[]{3, 2, -1}, t.data().toDoubleArray(), 0);
        Ema.update(List.of(t), List.of(new Parameter(Tensor.zeros(DType.F64, 3))), 1.0);
        assertArrayEquals(new double[]{3, 2, -1}, t.data().toDoubleArray(), 0);
        assertThrows(IllegalArgumentException.class, () -> Ema.update(List.of(t), List.of(t32), 0.5));
        assertThrows(IllegalArgumentException.class, () -> Ema.update(List.of(t), List.of(), 0.5));
    }

    @Test void moduleOverloadMatchesByName() {
        Linear teacher = new Linear(3, 2, true, new java.util.Random(1)), student = new Linear(3, 2, true, new java.util.Random(2));
        float[] t0 = teacher.weight.data().toFloatArray(), s0 = student.weight.data().toFloatArray();
        Ema.update(teacher, student, 0.75);
        float[] t1 = teacher.weight.data().toFloatArray();
        for (int i = 0; i < t0.length; i++) assertEquals(0.75f * t0[i] + 0.25f * s0[i], t1[i], 1e-7);
        assertThrows(IllegalArgumentException.class, () -> Ema.update(teacher, new Linear(3, 2, false), 0.5));
    }
}
