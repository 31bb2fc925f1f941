package dino4j.nn;

import dino4j.nn.optim.AdamW;
import dino4j.nn.optim.ParamGroup;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class AdamWTest {

    /** torch.optim.AdamW for one scalar, written out independently. */
    static final class Ref {
        double p, m, v;
        int t;
        Ref(double p) { this.p = p; }
        void step(double g, double lr, double wd, double b1, double b2, double eps) {
            t++;
            p = p * (1 - lr * wd);
            m = b1 * m + (1 - b1) * g;
            v = b2 * v + (1 - b2) * g * g;
            double mhat = m / (1 - Math.pow(b1, t)), vhat = v / (1 - Math.pow(b2, t));
            p = p - lr * mhat / (Math.sqrt(vhat) + eps);
        }
    }

    private static double grad(int step, int which, int i) { return Math.sin(1.3 * step + 0.7 * which + 0.31 * i) * (1 + which); }

    @Test void matchesTorchFormulaWithTwoGroups() {
        Random r = new Random(1);
        Parameter a = new Parameter(Tensor.randn(r, DType.F64, 2, 3)), b = new Parameter(Tensor.randn(r, DType.F64, 4));
        Parameter frozen = new Parameter(Tensor.randn(r, DType.F64, 2));
        double[] a0 = a.data().toDoubleArray(), b0 = b.data().toDoubleArray(), f0 = frozen.data().toDoubleArray();
        double lrMa = 0.5, wdMa = 1.0, lrMb = 2.0, wdMb = 0.0;
        AdamW opt = new AdamW(List.of(new ParamGroup("a", List.of(a), lrMa, wdMa), new ParamGroup("b", List.of(b, frozen), lrMb, wdMb)),
                0.9, 0.99, 1e-8);
        Ref[] ra = new Ref[6], rb = new Ref[4];
        for (int i = 0; i < 6; i++) ra[i] = new Ref(a0[i]);
        for (int i = 0; i < 4; i++) rb[i] = new Ref(b0[i]);
        double[] lrs = {1e-2, 3e-2, 2e-2}, wds = {0.04, 0.1, 0.2};
        for (int s = 0; s < 3; s++) {
            double[] ga = new double[6], gb = new double[4];
            for (int i = 0; i < 6; i++) ga[i] = grad(s, 0, i);
            for (int i = 0; i < 4; i++) gb[i] = grad(s, 1, i);
            a.setGrad(Tensor.of(ga, 2, 3));
            b.setGrad(Tensor.of(gb, 4));
            opt.step(lrs[s], wds[s]);
            for (int i = 0; i < 6; i++) ra[i].step(ga[i], lrs[s] * lrMa, wds[s] * wdMa, 0.9, 0.99, 1e-8);
            for (int i = 0; i < 4; i++) rb[i].step(gb[i], lrs[s] * lrMb, wds[s] * wdMb, 0.9, 0.99, 1e-8);
        }
        double[] an = a.data().toDoubleArray(), bn = b.data().toDoubleArray();
        for (int i = 0; i < 6; i++) assertEquals(ra[i].p, an[i], 1e-13, "a[" + i + "]");
        for (int i = 0; i < 4; i++) assertEquals(rb[i].p, bn[i], 1e-13, "b[" + i + "]");
        assertArrayEquals(f0, frozen.data().toDoubleArray(), "a parameter without grad is not touched (no decay either)");
        assertEquals(3, opt.stepCount(a));
        assertEquals(0, opt.stepCount(frozen));
        // sanity: the multipliers matter (group b moved by ~2x lr per step, no decay)
        assertNotEquals(b0[0], bn[0]);
    }

    private static List<Parameter> makeParams() {
        Random r = new Random(9);
        Parameter w = new Parameter(Tensor.randn(r, 5, 7)).named("fc.weight");
        Parameter bias = new Parameter(Tensor.randn(r, 7)).named("fc.bias");
        return List.of(w, bias);
    }

    private static AdamW makeOpt(List<Parameter> ps) {
        return new AdamW(List.of(new ParamGroup("decay", List.of(ps.get(0)), 1.0, 1.0), new ParamGroup("no_decay", List.of(ps.get(1)), 0.5, 0.0)));
    }

    private static void step(AdamW opt, List<Parameter> ps, int s) {
        for (int k = 0; k < ps.size(); k++) {
            float[] g = new float[ps.get(k).numel()];
            for (int i = 0; i < g.length; i++) g[i] = (float) grad(s, k, i);
            ps.get(k).setGrad(Tensor.of(g, ps.get(k).shape()));
        }
        opt.step(1e-2 * (1 + s), 0.05);
    }

    @Test void resumeFromExportedStateIsBitIdentical(@TempDir Path dir) throws Exception {
        List<Parameter> full = makeParams();
        AdamW o1 = makeOpt(full);
        for (int s = 0; s < 6; s++) step(o1, full, s);

        List<Parameter> first = makeParams();
        AdamW o2 = makeOpt(first);
        for (int s = 0; s < 3; s++) step(o2, first, s);
        // checkpoint: params + optimizer state through safetensors
        Path f = dir.resolve("ckpt.safetensors");
        Map<String, Tensor> ck = new LinkedHashMap<>();
        for (Parameter p : first) ck.put("model." + p.name(), p.data());
        o2.stateDict().forEach((k, v) -> ck.put("optim." + k, v));
        Safetensors.write(f, ck);
        assertTrue(ck.containsKey("optim.fc.weight.exp_avg") && ck.containsKey("optim.fc.bias.step"), ck.keySet().toString());

        Map<String, Tensor> back = Safetensors.read(f).tensors();
        List<Parameter> resumed = makeParams();
        Map<String, Tensor> optState = new LinkedHashMap<>();
        for (Parameter p : resumed) back.get("model." + p.name()).copyInto(p.data());
        back.forEach((k, v) -> { if (k.startsWith("optim.")) optState.put(k.substring(6), v); });
        AdamW o3 = makeOpt(resumed);
        o3.loadStateDict(optState);
        assertEquals(3, o3.stepCount(resumed.get(0)));
        for (int s = 3; s < 6; s++) step(o3, resumed, s);
        for (int k = 0; k < full.size(); k++)
            assertArrayEquals(full.get(k).data().toFloatArray(), resumed.get(k).data().toFloatArray(), "bit-identical " + full.get(k).name());
        // without the state the run differs
        List<Parameter> fresh = makeParams();
        for (int k = 0; k < fresh.size(); k++) first.get(k).data().copyInto(fresh.get(k).data());
        AdamW o4 = makeOpt(fresh);
        for (int s = 3; s < 6; s++) step(o4, fresh, s);
        assertFalse(java.util.Arrays.equals(full.get(0).data().toFloatArray(), fresh.get(0).data().toFloatArray()));
    }

    @Test void badStateIsRejectedWithNames() {
        List<Parameter> ps = makeParams();
        AdamW o = makeOpt(ps);
        Map<String, Tensor> bad = Map.of("fc.weight.exp_avg", Tensor.zeros(2, 2), "nope.step", Tensor.ofLongs(new long[]{1}));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> o.loadStateDict(bad));
        assertTrue(e.getMessage().contains("nope.step") && e.getMessage().contains("fc.weight.exp_avg"), e.getMessage());
    }
}
