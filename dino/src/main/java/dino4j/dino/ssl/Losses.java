package dino4j.dino.ssl;

import dino4j.autograd.Graph;
import dino4j.autograd.Var;
import dino4j.kernels.SinkhornKernels;
import dino4j.tensor.DType;
import dino4j.tensor.FusedLoss;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.util.Arrays;

/**
 * The DINOv3 SSL losses (spec §3.2–3.6), each one fused autograd node with a hand-written backward.
 * F32 inputs run the fast kernels, F64 inputs the double references (the gradient-check backend).
 *
 * <p>Definitions match the official code (and ../shared/golden/heads_losses.safetensors):
 * <ul>
 *   <li>DINO: {@code CE(s,t,b) = −Σ_k P_t[t,b,k]·log_softmax(z_s[s,b]/τ_s)_k}; local term = mean over
 *       (local s, every teacher t, b); global term = Σ over s ≠ t / (B·(S·T − min(S,T)));
 *       combined = localScale·local + globalScale·global (16/18 and 2/18 for 2 global + 8 local).</li>
 *   <li>iBOT: per masked patch CE, weighted by 1/(masked patches of its image), summed, divided by the
 *       number of images (all of them, including those without masked patches).</li>
 *   <li>KoLeo: {@code −mean log(‖x̂_i − x̂_nn(i) + 1e-8‖ + 1e-8)} for one group (one crop); the 0.1 weight
 *       and the sum over the 2 global crops are the caller's.</li>
 *   <li>Gram: mean over n, i, j of {@code ((ŜŜᵀ)_ij − (ĜĜᵀ)_ij)²}, rows L2-normalised, no clamping.</li>
 * </ul>
 */
public final class Losses {
    private Losses() {}

    /** Student temperature of both the DINO and the iBOT loss. */
    public static final double STUDENT_TEMP = 0.1;

    // ------------------------------------------------------------------ Sinkhorn-Knopp (no grad)

    /** Targets [..., K] (rows = samples) with 3 iterations and Btot = number of rows. */
    public static Tensor sinkhornKnopp(Tensor teacherLogits, double temp) {
        int K = teacherLogits.size(-1);
        return sinkhornKnopp(teacherLogits, temp, teacherLogits.numel() / K, SinkhornKernels.DEFAULT_ITERS);
    }

    /** Sinkhorn-Knopp with an explicit total sample count Btot (across processes) and iteration count. */
    public static Tensor sinkhornKnopp(Tensor teacherLogits, double temp, double btot, int iters) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("loss:sinkhornKnopp");
        mathDType("sinkhornKnopp", teacherLogits);
        return Ops.sinkhorn(teacherLogits, temp, btot, iters);   // CPU kernel, or the fused CUDA kernel for GPU tensors
    }

    // ------------------------------------------------------------------ soft-target cross-entropy core

    /**
     * {@code −Σ_{r,k} A[r,k] · log_softmax(x[r]/τ)_k} for logits x [R, K] and weighted targets A [R, K]
     * (weights folded into A); backward {@code g/τ · (softmax(x/τ)·Σ_k A[r,k] − A)}.
     */
    static Var weightedSoftCrossEntropy(String op, Var logits, Tensor a, double temp) {
        Tensor x = logits.data();
        int K = x.size(-1);
        Tensor x2 = x.reshape(-1, K);
        Tensor a2 = a.to(x.dtype()).reshape(-1, K);
        if (!x2.sameShape(a2))
            throw new IllegalArgumentException(op + ": logits " + Arrays.toString(x.shape()) + " vs targets " + Arrays.toString(a.shape()));
        Tensor lp = Ops.logSoftmax(Ops.mulScalar(x2, 1.0 / temp));
        double loss = -Ops.sumAllValue(Ops.mul(a2, lp));
        Tensor out = Tensor.full(x.dtype(), loss);
        int[] xs = x.shape();
        return Graph.record(op, out, new Var[]{logits}, new Tensor[]{x}, (g, needs) -> {
            Tensor p = Ops.exp(lp);
            Tensor rowA = Ops.sum(a2, -1, true);
            Tensor gx = Ops.mulScalar(Ops.sub(Ops.mul(p, rowA), a2), g.item() / temp);
            return new Tensor[]{gx.reshape(xs)};
        });
    }

    // ------------------------------------------------------------------ DINO (CLS) loss

    /**
     * General DINO cross-entropy: {@code Σ_{s,t} w[s][t] Σ_b CE(s,t,b)} for student logits [S, B, K] and
     * teacher probabilities [T, B, K]; one fused node.
     */
    public static Var dinoCrossEntropy(Var studentLogits, Tensor teacherProbs, double studentTemp, double[][] pairWeights) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("loss:dinoCrossEntropy");
        Tensor s = studentLogits.data();
        if (s.dim() != 3 || teacherProbs.dim() != 3 || s.size(1) != teacherProbs.size(1) || s.size(2) != teacherProbs.size(2))
            throw new IllegalArgumentException("dinoLoss: student " + Arrays.toString(s.shape()) + " and teacher "
                    + Arrays.toString(teacherProbs.shape()) + " must be [S, B, K] and [T, B, K]");
        int S = s.size(0), B = s.size(1), K = s.size(2), T = teacherProbs.size(0);
        if (pairWeights.length != S) throw new IllegalArgumentException("dinoLoss: " + pairWeights.length + " weight rows for " + S + " student crops");
        double[] w = new double[S * T];
        for (int i = 0; i < S; i++) {
            if (pairWeights[i].length != T) throw new IllegalArgumentException("dinoLoss: weight row " + i + " has " + pairWeights[i].length + " entries, need " + T);
            System.arraycopy(pairWeights[i], 0, w, i * T, T);
        }
        Tensor wt = Tensor.of(w, S, T).to(s.dtype());
        Tensor a = Ops.matmul(wt, teacherProbs.to(s.dtype()).reshape(T, B * K)).reshape(S * B, K);
        return weightedSoftCrossEntropy("dinoLoss", studentLogits, a, studentTemp);
    }

    /** Local term: every local crop [nL, B, K] vs every teacher crop [T, B, K], mean over (s, t, b). */
    public static Var dinoLossLocal(Var studentLocal, Tensor teacherProbs, double studentTemp) {
        int S = studentLocal.size(0), T = teacherProbs.size(0), B = studentLocal.size(1);
        double[][] w = new double[S][T];
        for (double[] row : w) Arrays.fill(row, 1.0 / ((double) S * T * B));
        return dinoCrossEntropy(studentLocal, teacherProbs, studentTemp, w);
    }

    /** Global term: student global crops [G, B, K] vs teacher crops [T, B, K], optionally without s = t pairs. */
    public static Var dinoLossGlobal(Var studentGlobal, Tensor teacherProbs, double studentTemp, boolean ignoreDiagonal) {
        int S = studentGlobal.size(0), T = teacherProbs.size(0), B = studentGlobal.size(1);
        double[][] w = new double[S][T];
        double pairs = ignoreDiagonal ? (double) S * T - Math.min(S, T) : (double) S * T;
        for (int i = 0; i < S; i++)
            for (int t = 0; t < T; t++) w[i][t] = ignoreDiagonal && i == t ? 0 : 1.0 / (pairs * B);
        return dinoCrossEntropy(studentGlobal, teacherProbs, studentTemp, w);
    }

    /**
     * Combined DINO loss for student logits [G + nL, B, K] (the first G = teacher crops are the global
     * crops, the rest local) vs teacher probabilities [G, B, K]:
     * {@code localScale · L_local + globalScale · L_global(ignore diagonal)} as one fused node.
     * The reference scales are {@link #dinoScales}; multiply localScale by the local re-weighting w_local(it).
     */
    public static Var dinoLoss(Var studentLogits, Tensor teacherProbs, double studentTemp, double localScale, double globalScale) {
        int S = studentLogits.size(0), G = teacherProbs.size(0), B = studentLogits.size(1), nL = S - G;
        if (nL < 0) throw new IllegalArgumentException("dinoLoss: " + S + " student crops but " + G + " teacher (global) crops");
        double[][] w = new double[S][G];
        double gPairs = (double) G * G - G;
        for (int i = 0; i < S; i++)
            for (int t = 0; t < G; t++) {
                if (i < G) w[i][t] = i == t || gPairs == 0 ? 0 : globalScale / (gPairs * B);
                else w[i][t] = localScale / ((double) nL * G * B);
            }
        return dinoCrossEntropy(studentLogits, teacherProbs, studentTemp, w);
    }

    /**
     * {@code {localScale, globalScale}} of the reference: n_l = G·nL and n_g = G·(G−1) loss terms,
     * each scale = its count / (n_l + n_g); for 2 global + 8 local crops: 16/18 and 2/18.
     */
    public static double[] dinoScales(int nGlobal, int nLocal) {
        double nl = (double) nGlobal * nLocal, ng = (double) nGlobal * (nGlobal - 1);
        double tot = nl + ng;
        if (tot == 0) return new double[]{0, 0};
        return new double[]{nl / tot, ng / tot};
    }

    // ------------------------------------------------------------------ iBOT masked-patch loss

    /** Per masked patch (row-major order over masks [N, P]): 1 / max(1, masked patches in its image). */
    public static double[] ibotPatchWeights(Tensor masks) {
        if (masks.dim() != 2) throw new IllegalArgumentException("ibot: masks must be [N, P], got " + Arrays.toString(masks.shape()));
        int N = masks.size(0), P = masks.size(1);
        int total = 0;
        int[] counts = new int[N];
        for (int n = 0; n < N; n++) for (int p = 0; p < P; p++) if (masks.get(n, p) != 0) counts[n]++;
        for (int c : counts) total += c;
        double[] w = new double[total];
        int q = 0;
        for (int n = 0; n < N; n++) for (int p = 0; p < P; p++) if (masks.get(n, p) != 0) w[q++] = 1.0 / Math.max(1, counts[n]);
        return w;
    }

    /** Flat indices (n·P + p, row-major) of the masked patches: the gather order of the masked tokens. */
    public static int[] maskedIndices(Tensor masks) {
        int N = masks.size(0), P = masks.size(1);
        int[] idx = new int[N * P];
        int q = 0;
        for (int n = 0; n < N; n++) for (int p = 0; p < P; p++) if (masks.get(n, p) != 0) idx[q++] = n * P + p;
        return Arrays.copyOf(idx, q);
    }

    /** iBOT loss of masked-patch student logits [M, K] vs teacher targets [M, K], masks [N, P] (True = masked). */
    public static Var ibotLoss(Var studentLogits, Tensor teacherTargets, Tensor masks, double studentTemp) {
        return ibotLoss(studentLogits, teacherTargets, ibotPatchWeights(masks), masks.size(0), studentTemp);
    }

    /** iBOT loss with explicit per-patch weights: {@code −Σ_m w_m Σ_k t·log_softmax(s/τ) / nImages}. */
    public static Var ibotLoss(Var studentLogits, Tensor teacherTargets, double[] patchWeights, int nImages, double studentTemp) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("loss:ibotLoss");
        int M = studentLogits.size(0), K = studentLogits.size(-1);
        if (studentLogits.dim() != 2 || patchWeights.length != M)
            throw new IllegalArgumentException("ibot: student " + Arrays.toString(studentLogits.shape()) + " needs [M, K] with M = "
                    + patchWeights.length + " masked patches");
        double[] w = new double[M];
        for (int m = 0; m < M; m++) w[m] = patchWeights[m] / nImages;
        DType dt = studentLogits.data().dtype();
        Tensor a = Ops.mul(teacherTargets.to(dt), Tensor.of(w, M, 1).to(dt));
        return weightedSoftCrossEntropy("ibotLoss", studentLogits, a, studentTemp);
    }

    // ------------------------------------------------------------------ KoLeo

    /** KoLeo loss of one group of features [N, D] (unweighted; the reference adds 0.1 × the sum over crops). */
    public static Var koleoLoss(Var x) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("loss:koleoLoss");
        Tensor xd = x.data();
        if (xd.dim() != 2) throw new IllegalArgumentException("koleo: features must be [N, D], got " + Arrays.toString(xd.shape()));
        FusedLoss f = Ops.koleo(xd);   // the backend's fused kernels (CPU or CUDA), with their own backward
        return Graph.record("koleoLoss", f.loss(), new Var[]{x}, new Tensor[]{xd}, (g, needs) -> f.backward(g.item(), needs));
    }

    // ------------------------------------------------------------------ Gram anchoring

    /** Gram loss of student patches [N, P, D] (or [P, D]) vs a frozen Gram teacher of the same shape. */
    public static Var gramLoss(Var student, Tensor teacher) { return gramLoss(student, Var.constant(teacher)); }

    /** Gram loss; gradients flow to both arguments when they require grad. */
    public static Var gramLoss(Var student, Var teacher) {
        if (dino4j.tensor.OpTimeline.ON) dino4j.tensor.OpTimeline.mark("loss:gramLoss");
        Tensor s = student.data(), t = teacher.data();
        FusedLoss f = Ops.gram(s, t);
        return Graph.record("gramLoss", f.loss(), new Var[]{student, teacher}, new Tensor[]{s, t}, (g, needs) -> f.backward(g.item(), needs));
    }

    private static DType mathDType(String op, Tensor... ts) {
        DType dt = null;
        for (Tensor t : ts) {
            if (t.dtype() != DType.F32 && t.dtype() != DType.F64)
                throw new IllegalArgumentException(op + ": needs F32 or F64 tensors, got " + t.dtype());
            if (dt != null && dt != t.dtype()) throw new IllegalArgumentException(op + ": mixed dtypes " + dt + " and " + t.dtype());
            dt = t.dtype();
        }
        return dt;
    }
}
