package dino4j.autograd;

import dino4j.tensor.DType;
import dino4j.tensor.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

/**
 * Float64 finite-difference gradient checker. The function's output y (any shape) is reduced with a
 * fixed random projection L = Σ r∘y; autograd's gradients of L (backward seeded with r) are compared
 * with central differences Σ r∘(y(x+h) - y(x-h)) / 2h for every element of every input. The function
 * must be deterministic (re-seed any randomness inside it) and is evaluated 2·numel + 1 times.
 *
 * <p>Error per element: |analytic - numeric| / max(|analytic|, |numeric|, floor) with floor = 1e-2
 * (so tiny gradients are compared absolutely); the result holds the worst.
 */
public final class GradCheck {
    private GradCheck() {}

    public static final double DEFAULT_H = 1e-6;
    public static final double DEFAULT_TOL = 1e-6;
    private static final double FLOOR = 1e-2;

    /** The worst element: which input, which flat index, both gradient values and the error. */
    public record Result(double maxRelError, int input, int index, double analytic, double numeric) {
        @Override public String toString() {
            return String.format("max rel error %.3g at input %d index %d (analytic %.10g, numeric %.10g)",
                    maxRelError, input, index, analytic, numeric);
        }
    }

    /** Checks with h = 1e-6 and projection seed 1234; inputs are converted to F64 copies. */
    public static Result check(Function<List<Var>, Var> fn, Tensor... inputs) {
        return check(fn, Arrays.asList(inputs), DEFAULT_H, 1234L);
    }

    public static Result check(Function<List<Var>, Var> fn, List<Tensor> inputs, double h, long seed) {
        List<Tensor> xs = new ArrayList<>();
        List<Var> leaves = new ArrayList<>();
        for (Tensor t : inputs) {
            Tensor c = t.to(DType.F64).copy();
            xs.add(c);
            leaves.add(Var.leaf(c));
        }
        Var y;
        try (var g = Grad.enableGrad()) {
            y = fn.apply(leaves);
        }
        if (y.data().dtype() != DType.F64)
            throw new IllegalArgumentException("gradcheck: the function must compute in F64, its output is " + y.data().dtype());
        Tensor r = Tensor.randn(new Random(seed), DType.F64, y.shape());
        if (!y.requiresGrad()) throw new IllegalArgumentException("gradcheck: the output does not depend on any input");
        y.backward(r);

        double[] rv = r.toDoubleArray();
        Result worst = new Result(0, -1, -1, 0, 0);
        for (int i = 0; i < xs.size(); i++) {
            Tensor x = xs.get(i);
            Tensor grad = leaves.get(i).grad();
            double[] a = grad == null ? new double[x.numel()] : grad.toDoubleArray();
            double[] data = x.f64();
            for (int j = 0; j < x.numel(); j++) {
                double orig = data[j];
                data[j] = orig + h;
                double[] yp = eval(fn, xs);
                data[j] = orig - h;
                double[] ym = eval(fn, xs);
                data[j] = orig;
                // difference per element first, then project: outputs the perturbation does not reach cancel exactly
                double num = 0;
                for (int k = 0; k < rv.length; k++) num += rv[k] * (yp[k] - ym[k]);
                num /= 2 * h;
                double err = Math.abs(a[j] - num) / Math.max(FLOOR, Math.max(Math.abs(a[j]), Math.abs(num)));
                if (err > worst.maxRelError() || worst.input() < 0) worst = new Result(err, i, j, a[j], num);
            }
        }
        return worst;
    }

    private static double[] eval(Function<List<Var>, Var> fn, List<Tensor> xs) {
        List<Var> cs = new ArrayList<>();
        for (Tensor x : xs) cs.add(Var.constant(x));
        try (var g = Grad.noGrad()) {
            return fn.apply(cs).data().toDoubleArray();
        }
    }

    /** Throws AssertionError (naming the worst element) when the error exceeds tol. */
    public static Result assertGradients(double tol, Function<List<Var>, Var> fn, Tensor... inputs) {
        Result res = check(fn, inputs);
        if (Boolean.getBoolean("dino4j.gradcheck.verbose")) System.out.println("gradcheck: " + res);
        if (!(res.maxRelError() <= tol)) throw new AssertionError("gradient check failed: " + res + " > tol " + tol);
        return res;
    }

    public static Result assertGradients(Function<List<Var>, Var> fn, Tensor... inputs) {
        return assertGradients(DEFAULT_TOL, fn, inputs);
    }
}
