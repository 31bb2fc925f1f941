package dino4j.dino.ssl;

import dino4j.autograd.GradCheck;
import dino4j.autograd.Var;
import dino4j.tensor.DType;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** DINO head, Sinkhorn-Knopp and the SSL losses against ../shared/golden/heads_losses.safetensors. */
class HeadsLossesGoldenTest {
    static final double TOL = 1e-4;
    static Safetensors.Contents io;

    @BeforeAll
    static void load() throws IOException {
        Path p = Path.of(System.getProperty("dino4j.shared", "../shared"), "golden", "heads_losses.safetensors");
        if (!Files.exists(p)) p = Path.of("/work/shared/golden/heads_losses.safetensors");
        io = Safetensors.read(p);
    }

    static Tensor f32(String key) { return io.get(key).to(DType.F32).copy(); }

    static double relL2(Tensor a, Tensor ref) {
        double[] x = a.toDoubleArray(), r = ref.toDoubleArray();
        assertEquals(r.length, x.length, "sizes");
        double num = 0, den = 0;
        for (int i = 0; i < x.length; i++) { num += (x[i] - r[i]) * (x[i] - r[i]); den += r[i] * r[i]; }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    static void assertClose(Tensor got, Tensor ref, String what) {
        double e = relL2(got, ref);
        System.out.printf("%-40s rel L2 %.3g%n", what, e);
        assertTrue(e <= TOL, what + ": relative L2 error " + e + " > " + TOL);
    }

    static void assertScalar(double got, String key) {
        double ref = io.get(key).toDoubleArray()[0];
        double e = Math.abs(got - ref) / Math.abs(ref);
        System.out.printf("%-40s %.10g vs %.10g rel %.3g%n", key, got, ref, e);
        assertTrue(e <= TOL, key + ": " + got + " vs " + ref + " (rel " + e + ")");
    }

    // ------------------------------------------------------------------ golden values

    @Test
    void headOutputs() {
        DinoHead head = new DinoHead(128, 64, 96, 48, new Random(0));
        Map<String, Tensor> sd = new LinkedHashMap<>();
        for (var e : io.tensors().entrySet())
            if (e.getKey().startsWith("head.") && !e.getKey().equals("head.in") && !e.getKey().startsWith("head.out"))
                sd.put(e.getKey().substring(5), e.getValue().to(DType.F32).copy());
        head.loadStateDict(sd, true);
        assertEquals(sd.keySet(), head.stateDict().keySet(), "official key names");
        Var x = Var.constant(f32("head.in"));
        assertClose(head.forward(x).data(), io.get("head.out"), "head.out");
        assertClose(head.forward(x, true).data(), io.get("head.out_no_last_layer"), "head.out_no_last_layer");
        assertClose(head.forwardLastLayer(head.forwardBottleneck(x)).data(), io.get("head.out"), "head.out (two steps)");
    }

    @Test
    void sinkhornTargets() {
        double temp = io.get("sk.temp").toDoubleArray()[0];
        assertClose(Losses.sinkhornKnopp(f32("sk.teacher_logits"), temp), io.get("sk.targets"), "sk.targets (f32)");
        assertClose(Losses.sinkhornKnopp(io.get("sk.teacher_logits").to(DType.F64), temp), io.get("sk.targets"), "sk.targets (f64)");
    }

    @Test
    void dinoLossAndGradient() {
        Tensor s = f32("dino.student_logits"), t = f32("dino.teacher_probs");
        double temp = io.get("dino.student_temp").toDoubleArray()[0];
        assertEquals(Losses.STUDENT_TEMP, temp, 1e-12);
        assertScalar(Losses.dinoLossLocal(Var.constant(s.slice(0, 2, 6)), t, temp).data().item(), "dino.loss_local");
        assertScalar(Losses.dinoLossGlobal(Var.constant(s.slice(0, 0, 2)), t, temp, true).data().item(), "dino.loss_global_ignore_diagonal");
        Var sv = Var.leaf(s);
        Var combined = Losses.dinoLoss(sv, t, temp, 16.0 / 18, 2.0 / 18);
        assertScalar(combined.data().item(), "dino.combined");
        combined.backward();
        assertClose(sv.grad(), io.get("dino.grad_student_logits"), "dino.grad_student_logits");
        // default scales for 2 global + 8 local crops are the golden's 16/18, 2/18
        double[] sc = Losses.dinoScales(2, 8);
        assertEquals(16.0 / 18, sc[0], 1e-15);
        assertEquals(2.0 / 18, sc[1], 1e-15);
    }

    @Test
    void ibotLossAndGradient() {
        Tensor masks = io.get("ibot.masks");
        assertEquals(6, Losses.maskedIndices(masks).length);
        assertClose(Losses.sinkhornKnopp(f32("ibot.teacher_logits"), 0.07), io.get("ibot.teacher_targets"), "ibot.teacher_targets (SK, 0.07)");
        Var sv = Var.leaf(f32("ibot.student_logits"));
        Var loss = Losses.ibotLoss(sv, f32("ibot.teacher_targets"), masks, Losses.STUDENT_TEMP);
        assertScalar(loss.data().item(), "ibot.loss");
        loss.backward();
        assertClose(sv.grad(), io.get("ibot.grad_student_logits"), "ibot.grad_student_logits");
    }

    @Test
    void koleoLossAndGradient() {
        Var x = Var.leaf(f32("koleo.x"));
        Var loss = Losses.koleoLoss(x);
        assertScalar(loss.data().item(), "koleo.loss");
        loss.backward();
        assertClose(x.grad(), io.get("koleo.grad_x"), "koleo.grad_x");
        // the double backend too
        Var x64 = Var.leaf(io.get("koleo.x").to(DType.F64).copy());
        Var l64 = Losses.koleoLoss(x64);
        assertScalar(l64.data().item(), "koleo.loss");
        l64.backward();
        assertClose(x64.grad(), io.get("koleo.grad_x"), "koleo.grad_x (f64)");
    }

    @Test
    void gramLossAndGradient() {
        Var s = Var.leaf(f32("gram.student"));
        Var loss = Losses.gramLoss(s, f32("gram.teacher"));
        assertScalar(loss.data().item(), "gram.loss");
        loss.backward();
        assertClose(s.grad(), io.get("gram.grad_student"), "gram.grad_student");
        Var s64 = Var.leaf(io.get("gram.student").to(DType.F64).copy());
        Var l64 = Losses.gramLoss(s64, io.get("gram.teacher").to(DType.F64));
        assertScalar(l64.data().item(), "gram.loss");
        l64.backward();
        assertClose(s64.grad(), io.get("gram.grad_student"), "gram.grad_student (f64)");
    }

    // ------------------------------------------------------------------ float64 gradient checks

    static Tensor randn(long seed, int... shape) { return Tensor.randn(new Random(seed), DType.F64, shape); }

    @Test
    void dinoLossGradCheck() {
        Tensor teacher = Losses.sinkhornKnopp(randn(2, 2 * 3, 7), 0.5).reshape(2, 3, 7);
        GradCheck.assertGradients(v -> Losses.dinoLoss(v.get(0), teacher, 0.1, 0.7, 0.3), randn(1, 5, 3, 7));
        GradCheck.assertGradients(v -> Losses.dinoLossGlobal(v.get(0), teacher, 0.1, true), randn(3, 2, 3, 7));
        GradCheck.assertGradients(v -> Losses.dinoLossLocal(v.get(0), teacher, 0.1), randn(4, 3, 3, 7));
    }

    @Test
    void ibotLossGradCheck() {
        Tensor masks = Tensor.ofBools(new boolean[]{true, false, true, false, false, false, true, true, true}, 3, 3);
        Tensor targets = Losses.sinkhornKnopp(randn(5, 5, 6), 0.07);
        GradCheck.assertGradients(v -> Losses.ibotLoss(v.get(0), targets, masks, 0.1), randn(6, 5, 6));
    }

    @Test
    void koleoLossGradCheck() {
        GradCheck.assertGradients(v -> Losses.koleoLoss(v.get(0)), randn(7, 9, 5));
    }

    @Test
    void gramLossGradCheck() {
        GradCheck.assertGradients(v -> Losses.gramLoss(v.get(0), v.get(1)), randn(8, 2, 6, 4), randn(9, 2, 6, 4));
        GradCheck.assertGradients(v -> Losses.gramLoss(v.get(0), randn(10, 7, 3)), randn(11, 7, 3));
    }

    @Test
    void headGradCheck() {
        DinoHead head = new DinoHead(6, 5, 3, 7, 4, true, new Random(3));
        head.to(DType.F64);
        GradCheck.assertGradients(v -> head.forward(v.get(0)), randn(12, 3, 6));
    }
}
