package dino4j.nn.optim;

import dino4j.autograd.Grad;
import dino4j.kernels.OptimizerKernels;
import dino4j.nn.Parameter;
import dino4j.tensor.DType;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.util.Arrays;
import java.util.List;

/** Teacher EMA (§4.4): {@code θ_t ← m·θ_t + (1−m)·θ_s}, in place, outside the graph. */
public final class Ema {
    private Ema() {}

    /**
     * EMA over all parameters of two modules of the same architecture; fails (listing the first
     * differences) when their parameter names differ.
     */
    public static void update(dino4j.nn.Module teacher, dino4j.nn.Module student, double momentum) {
        var t = teacher.namedParameters();
        var s = student.namedParameters();
        if (!t.keySet().equals(s.keySet())) {
            var onlyT = new java.util.LinkedHashSet<>(t.keySet()); onlyT.removeAll(s.keySet());
            var onlyS = new java.util.LinkedHashSet<>(s.keySet()); onlyS.removeAll(t.keySet());
            throw new IllegalArgumentException("EMA: teacher and student parameters differ: only in teacher " + onlyT + ", only in student " + onlyS);
        }
        List<Parameter> sl = new java.util.ArrayList<>();
        for (String k : t.keySet()) sl.add(s.get(k));
        update(List.copyOf(t.values()), sl, momentum);
    }

    public static void update(List<Parameter> teacher, List<Parameter> student, double momentum) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("ema");
        if (teacher.size() != student.size())
            throw new IllegalArgumentException("EMA: teacher has " + teacher.size() + " parameters, student " + student.size());
        try (var ng = Grad.noGrad()) {
            for (int k = 0; k < teacher.size(); k++) {
                Tensor t = teacher.get(k).data(), s = student.get(k).data().contiguous();
                if (!t.sameShape(s))
                    throw new IllegalArgumentException("EMA: parameter " + k + " (" + teacher.get(k).name() + ") has shape "
                            + Arrays.toString(t.shape()) + " in the teacher, " + Arrays.toString(s.shape()) + " in the student");
                if (!t.isContiguous()) throw new IllegalStateException("EMA: teacher parameter is not contiguous");
                if (t.dtype() != DType.F32 && t.dtype() != DType.F64)
                    throw new IllegalStateException("EMA: teacher dtype " + t.dtype() + " not supported");
                Ops.ema(t, s.to(t.dtype()), momentum);
                t.bumpVersion();
            }
        }
    }
}
