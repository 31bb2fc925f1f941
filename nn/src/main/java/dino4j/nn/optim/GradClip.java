package dino4j.nn.optim;

import dino4j.nn.Parameter;
import dino4j.kernels.BinaryOp;
import dino4j.tensor.DType;
import dino4j.tensor.Device;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.util.List;

/** torch.nn.utils.clip_grad_norm_ (L2, non-foreach semantics). */
public final class GradClip {
    private GradClip() {}

    /** L2 norm over all gradients (null grads skipped), accumulated in double. */
    public static double globalNorm(List<Parameter> params) {
        double ss = 0;
        for (Parameter p : params) {
            Tensor g = p.grad();
            if (g == null) continue;
            if (g.device() == Device.CUDA) {
                ss += Ops.sumAll(Ops.binary(BinaryOp.MUL, g, g)).item();   // stays on the GPU but for one scalar
            } else if (g.dtype() == DType.F32 && g.isContiguous()) {
                float[] a = g.f32();
                for (int i = g.offset(), e = g.offset() + g.numel(); i < e; i++) ss += (double) a[i] * a[i];
            } else {
                for (int i = 0; i < g.numel(); i++) { double v = g.getFlat(i); ss += v * v; }
            }
        }
        return Math.sqrt(ss);
    }

    /**
     * Scales all gradients in place by {@code maxNorm / (norm + 1e-6)} when that is below 1 (PyTorch's
     * rule); returns the pre-clip norm. Call once per separately clipped module (§4.5).
     */
    public static double clipGlobalNorm(List<Parameter> params, double maxNorm) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("clip");
        double norm = globalNorm(params);
        double coef = maxNorm / (norm + 1e-6);
        if (coef < 1) {
            for (Parameter p : params) {
                Tensor g = p.grad();
                if (g == null) continue;
                if (g.device() == Device.CUDA) {
                    p.setGrad(Ops.binary(BinaryOp.MUL, g, Tensor.scalar(coef).to(g.dtype())));
                    continue;
                }
                Tensor c = g.contiguous();
                if (c != g) { p.setGrad(c); g = c; }
                if (g.dtype() == DType.F32) {
                    float[] a = g.f32();
                    float cf = (float) coef;
                    for (int i = g.offset(), e = g.offset() + g.numel(); i < e; i++) a[i] *= cf;
                } else if (g.dtype() == DType.F64) {
                    double[] a = g.f64();
                    for (int i = g.offset(), e = g.offset() + g.numel(); i < e; i++) a[i] *= coef;
                } else {
                    throw new IllegalStateException("gradient dtype " + g.dtype() + " not supported");
                }
                g.bumpVersion();
            }
        }
        return norm;
    }
}
