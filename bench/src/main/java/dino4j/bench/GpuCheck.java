package dino4j.bench;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import dino4j.autograd.F;
import dino4j.autograd.Var;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.dino.model.VitConfig;
import dino4j.kernels.AttentionCuda;
import dino4j.kernels.CublasGemm;
import dino4j.kernels.GemmCuda;
import dino4j.kernels.GramCuda;
import dino4j.kernels.SinkhornCuda;
import dino4j.nn.Linear;
import dino4j.nn.Module;
import dino4j.nn.Parameter;
import dino4j.nn.optim.AdamW;
import dino4j.nn.optim.ParamGroup;
import dino4j.runtime.Cublas;
import dino4j.runtime.Cuda;
import dino4j.runtime.CudaContext;
import dino4j.runtime.CudaModules;
import dino4j.runtime.DeviceBuffer;
import dino4j.runtime.Transfers;
import dino4j.tensor.CudaBackend;
import dino4j.tensor.Device;
import dino4j.tensor.StepArena;
import dino4j.tensor.Tensor;
import jcuda.driver.CUdeviceptr;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The benchmark half of bench/gpu/check.sh: on the GPU machine, times our kernels and one ViT-S/16 training
 * step beside cuBLAS (where JCublas loads) and beside the PyTorch peer's numbers (bench/gpu/torch_peer.py,
 * same shapes, same GPU), and writes one markdown report. Every section runs even if an earlier one failed.
 */
public final class GpuCheck {
    private final StringBuilder md = new StringBuilder();
    private final JsonObject torch;
    private final CudaContext c;

    private GpuCheck(JsonObject torch, CudaContext c) {
        this.torch = torch;
        this.c = c;
    }

    public static void main(String[] args) throws Exception {
        Path out = Path.of("bench/results/gpu-check.md"), torchJson = null, tests = null;
        String sections = "header,gemm,gemm-sm90,attention,losses,train,highres";
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--out" -> out = Path.of(args[++i]);
                case "--torch" -> torchJson = Path.of(args[++i]);
                case "--tests" -> tests = Path.of(args[++i]);
                case "--sections" -> sections = args[++i];
                default -> throw new IllegalArgumentException("unknown option " + args[i]
                        + " (--out FILE.md --torch PEER.json --tests TESTS.log --sections header,gemm,gemm-sm90,attention,losses,train,highres)");
            }
        }
        JsonObject peer = torchJson != null && Files.exists(torchJson) ? JsonParser.parseString(Files.readString(torchJson)).getAsJsonObject() : new JsonObject();
        System.out.println(Cuda.status());
        if (!Cuda.available()) {
            Files.writeString(out, "# GPU check\n\n" + Cuda.status() + "\n");
            System.exit(3);
        }
        GpuCheck g = new GpuCheck(peer, Cuda.context());
        // each section may run in its own JVM (check.sh does so): a kernel fault poisons its CUDA context only
        for (String sec : sections.split(",")) {
            switch (sec.trim()) {
                case "header" -> g.header(tests);
                case "gemm" -> g.section("GEMM", g::gemm);
                case "gemm-sm90" -> g.section("GEMM on Hopper wgmma", g::gemmSm90);
                case "attention" -> g.section("Attention", g::attention);
                case "losses" -> g.section("Gram loss and Sinkhorn-Knopp", g::losses);
                case "train" -> g.section("ViT-S/16 training step", g::trainStep);
                case "highres" -> g.section("High-resolution features", g::highRes);
                default -> throw new IllegalArgumentException("unknown section " + sec);
            }
        }
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, g.md.toString(), java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
        System.out.println();
        System.out.println(g.md);
        System.out.println("report: " + out);
    }

    private interface Section { void run() throws Exception; }

    private void section(String name, Section s) {
        long t0 = System.nanoTime();
        try {
            s.run();
        } catch (Throwable e) {
            e.printStackTrace();
            md.append("\n**").append(name).append(" failed:** `").append(e).append("`\n");
        }
        System.out.printf("[gpu check] %s: %.1f s%n", name, (System.nanoTime() - t0) / 1e9);
    }

    private void line(String fmt, Object... a) { md.append(a.length == 0 ? fmt : String.format(Locale.ROOT, fmt, a)).append('\n'); }

    private void header(Path tests) throws IOException {
        line("# GPU check, %s", java.time.LocalDate.now());
        line("");
        line("Produced by `bench/gpu/check.sh run` (bundle from `bench/gpu/check.sh bundle`); PyTorch numbers from `bench/gpu/torch_peer.py` on the same GPU in the same run.");
        line("");
        line("| | |");
        line("|---|---|");
        line("| device | %s |", c.describe());
        line("| JCuda driver API | loaded (JCuda 12.6.0) |");
        line("| cuBLAS via JCublas | %s |", Cublas.status());
        line("| kernels compiled by | %s |", resource("MANIFEST.nvcc").trim());
        line("| PyTorch peer | %s |", torch.has("torch") ? torch.get("torch").getAsString() + " (CUDA " + torch.get("cuda").getAsString() + ")" : "not run");
        line("| Java | %s |", Runtime.version());
        if (tests != null && Files.exists(tests)) {
            String log = Files.readString(tests);
            List<String> counts = new ArrayList<>();
            Matcher m = Pattern.compile("\\[\\s*(\\d+) (tests (successful|failed|skipped|aborted|found))\\s*]").matcher(log);
            while (m.find()) counts.add(m.group(1) + " " + m.group(2));
            line("| gpu-tagged tests | %s |", String.join(", ", counts));
            List<String> failed = new ArrayList<>();
            for (String l : log.split("\n")) if (l.contains("✘")) failed.add(l.trim());
            if (!failed.isEmpty()) {
                line("");
                line("Failed tests:");
                line("```");
                failed.stream().limit(40).forEach(md::append);
                line("\n```");
            }
        }
    }

    private static String resource(String name) {
        try (InputStream in = GpuCheck.class.getClassLoader().getResourceAsStream(CudaModules.DIR + name)) {
            return in == null ? "?" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "?";
        }
    }

    // ------------------------------------------------------------------ helpers

    private DeviceBuffer random(long n, long seed) {
        float[] a = new float[(int) n];
        long s = seed * 0x9E3779B97F4A7C15L + 1;
        for (int i = 0; i < a.length; i++) {
            s = s * 6364136223846793005L + 1442695040888963407L;
            a[i] = ((s >>> 40) / (float) (1 << 24)) * 2f - 1f;
        }
        DeviceBuffer b = c.alloc(4L * n);
        c.staging().upload(b.ptr(), a, 0, a.length, "bench input");
        return b;
    }

    private DeviceBuffer randomBf16(long n, long seed) {
        short[] a = new short[(int) n];
        Random r = new Random(seed);
        for (int i = 0; i < a.length; i++) a[i] = (short) (Float.floatToIntBits((float) r.nextGaussian()) >>> 16);
        DeviceBuffer b = c.alloc(2L * n);
        c.staging().upload(b.ptr(), a, 0, a.length, "bench input");
        return b;
    }

    /** Median milliseconds of reps timed runs after warm-up runs. */
    private double median(Runnable r, int warm, int reps) {
        for (int i = 0; i < warm; i++) r.run();
        c.synchronize();
        double[] t = new double[reps];
        for (int i = 0; i < reps; i++) t[i] = c.time(r);
        Arrays.sort(t);
        return t[reps / 2];
    }

    private Double peer(String... path) {
        JsonElement e = torch;
        for (String p : path) {
            if (e == null || !e.isJsonObject() || !e.getAsJsonObject().has(p)) return null;
            e = e.getAsJsonObject().get(p);
        }
        return e != null && e.isJsonPrimitive() ? e.getAsDouble() : null;
    }

    private static String f(Double v) { return v == null ? "–" : String.format(Locale.ROOT, "%.1f", v); }
    private static String f2(Double v) { return v == null ? "–" : String.format(Locale.ROOT, "%.2f", v); }

    // ------------------------------------------------------------------ sections

    private void gemm() {
        line("");
        line("## GEMM (TFLOP/s, C = A·B, row-major, fp32 output; median of timed runs)");
        line("");
        line("| M×N×K | precision | ours | cuBLAS (JCublas) | PyTorch | ours / PyTorch |");
        line("|---|---|---|---|---|---|");
        int[][] shapes = {{2048, 2048, 2048}, {4096, 4096, 4096}, {8192, 8192, 8192}, {12864, 1152, 384}, {12864, 384, 1536}, {12864, 1536, 384}};
        boolean cublas = CublasGemm.available();
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            double flop = 2.0 * m * n * k;
            int reps = flop > 2e11 ? 5 : 15;
            DeviceBuffer a = random((long) m * k, 1), b = random((long) k * n, 2), cc = c.alloc(4L * m * n);
            for (GemmCuda.Precision p : GemmCuda.Precision.values()) {
                double ms = median(() -> GemmCuda.gemm(c, p, false, false, m, n, k, 1f, a.ptr(), k, 0, b.ptr(), n, 0, 0f, cc.ptr(), n, 0, 1, null), 2, reps);
                Double cb = null;
                if (cublas && p != GemmCuda.Precision.BF16)
                    cb = flop / median(() -> CublasGemm.gemm(c, p, false, false, m, n, k, 1f, a.ptr(), k, 0, b.ptr(), n, 0, 0f, cc.ptr(), n, 0, 1, null), 2, reps) / 1e9;
                Double pt = peer("gemm", m + "x" + n + "x" + k + "/" + p.name().toLowerCase());
                double ours = flop / ms / 1e9;
                line("| %d×%d×%d | %s | %.1f | %s | %s | %s |", m, n, k, p, ours, f(cb), f(pt), pt == null ? "–" : f2(ours / pt));
            }
            a.release(); b.release(); cc.release();
        }
        line("");
        line("BF16 rows: ours rounds fp32 inputs to bf16 while loading tiles; PyTorch multiplies bf16 tensors.");
    }

    /**
     * The Hopper wgmma kernels (gemm_sm90, both tiles and the automatic choice; called directly, so the opt-in
     * property is not needed) beside our gemm.cu kernels, cuBLAS and PyTorch: BF16 storage (A and B already bf16,
     * what the BF16 path multiplies after its conversion pass; NN) and TF32 (NT, the only layout the tf32 wgmma
     * kernels take). The last column compares the wgmma result with the gemm.cu one (relative L2; both accumulate in
     * fp32 from the same rounded inputs, so anything above ~1e-5 is a bug). Its own section (own JVM in check.sh):
     * a fault in the never-before-run kernels cannot take the other numbers with it.
     */
    private void gemmSm90() {
        line("");
        line("## GEMM on Hopper wgmma (gemm_sm90.cu; TFLOP/s, fp32 output, median of timed runs)");
        line("");
        String why = GemmCuda.sm90Unavailable(c);
        line("wgmma kernels (used by GemmCuda only with `-Ddino4j.gemm.sm90=true`; called directly here): %s.",
                why.isEmpty() ? "available" : "unavailable — " + why);
        int[][] shapes = {{4096, 4096, 4096}, {8192, 8192, 8192}, {12864, 1152, 384}, {12864, 384, 1536}, {12864, 1536, 384}};
        boolean cublas = CublasGemm.available();
        for (boolean bf16 : new boolean[]{true, false}) {
            line("");
            line(bf16 ? "BF16 storage (A, B bf16 in memory), NN:" : "TF32 (A, B fp32, rounded to tf32), NT (C = A·Bᵀ):");
            line("");
            line("| M×N×K | ours gemm.cu | ours wgmma 128×256 | ours wgmma 128×128 | wgmma auto | cuBLAS (JCublas) | PyTorch (NN) | best wgmma / PyTorch | wgmma vs gemm.cu (rel. L2) |");
            line("|---|---|---|---|---|---|---|---|---|");
            for (int[] s : shapes) {
                int m = s[0], n = s[1], k = s[2];
                double flop = 2.0 * m * n * k;
                int reps = flop > 2e11 ? 5 : 15;
                // bf16: A [M][K], B [K][N] (ldb = N); tf32: A [M][K], B [N][K] (ldb = K)
                DeviceBuffer a = random((long) m * k, 1), b = random((long) k * n, 2);
                if (bf16) { a = toBf16(a, m, k); b = toBf16(b, k, n); }
                DeviceBuffer fa = a, fb = b, c1 = c.alloc(4L * m * n), c2 = c.alloc(4L * m * n);
                int ldb = bf16 ? n : k;
                Gemm old = bf16
                        ? out -> GemmCuda.gemmBf16(c, GemmCuda.Tile.AUTO, false, false, m, n, k, 1f, fa.ptr(), k, 0, fb.ptr(), ldb, 0, 0f, out.ptr(), n, 0, 1, null)
                        : out -> GemmCuda.gemm(c, GemmCuda.Precision.TF32, GemmCuda.Tile.AUTO, false, true, m, n, k, 1f, fa.ptr(), k, 0, fb.ptr(), ldb, 0, 0f, out.ptr(), n, 0, 1, null);
                java.util.function.BiConsumer<GemmCuda.Sm90Tile, DeviceBuffer> wg = bf16
                        ? (t, out) -> GemmCuda.gemmBf16Sm90(c, t, false, false, m, n, k, 1f, fa.ptr(), k, 0, fb.ptr(), ldb, 0, 0f, out.ptr(), n, 0, 1, null)
                        : (t, out) -> GemmCuda.gemmTf32Sm90(c, t, false, true, m, n, k, 1f, fa.ptr(), k, 0, fb.ptr(), ldb, 0, 0f, out.ptr(), n, 0, 1, null);
                double ours = flop / median(() -> old.run(c1), 2, reps) / 1e9;
                Double l = null, mm = null, auto = null, cb = null, diff = null;
                if (why.isEmpty()) {
                    l = flop / median(() -> wg.accept(GemmCuda.Sm90Tile.L, c2), 2, reps) / 1e9;
                    diff = relDiff(c1, c2, (long) m * n);
                    mm = flop / median(() -> wg.accept(GemmCuda.Sm90Tile.M, c2), 2, reps) / 1e9;
                    diff = Math.max(diff, relDiff(c1, c2, (long) m * n));
                    auto = flop / median(() -> wg.accept(GemmCuda.Sm90Tile.AUTO, c2), 2, reps) / 1e9;
                }
                if (cublas)
                    cb = flop / median(bf16
                            ? () -> CublasGemm.gemmBf16(c, false, false, m, n, k, 1f, fa.ptr(), k, 0, fb.ptr(), ldb, 0, 0f, c1.ptr(), n, 0, 1, null)
                            : () -> CublasGemm.gemm(c, GemmCuda.Precision.TF32, false, true, m, n, k, 1f, fa.ptr(), k, 0, fb.ptr(), ldb, 0, 0f, c1.ptr(), n, 0, 1, null),
                            2, reps) / 1e9;
                Double pt = peer("gemm", m + "x" + n + "x" + k + "/" + (bf16 ? "bf16" : "tf32"));
                Double best = l == null ? null : Math.max(l, Math.max(mm, auto));
                line("| %d×%d×%d | %.1f | %s | %s | %s | %s | %s | %s | %s |", m, n, k, ours, f(l), f(mm), f(auto), f(cb), f(pt),
                        pt == null || best == null ? "–" : f2(best / pt), diff == null ? "–" : String.format(Locale.ROOT, "%.1e", diff));
                a.release(); b.release(); c1.release(); c2.release();
            }
        }
        line("");
        line("BF16 NN: B is N-major, read transposed by wgmma from shared memory. PyTorch multiplies bf16 tensors into a bf16 output, and its numbers are for NN in both tables.");
    }

    private interface Gemm { void run(DeviceBuffer out); }

    /** rows×cols fp32 (row-major, dense) -> a new bf16 buffer (round to nearest even); releases the input. */
    private DeviceBuffer toBf16(DeviceBuffer f32, int rows, int cols) {
        DeviceBuffer h = c.alloc(2L * rows * cols);
        c.kernel("gemm", "gemm_f32_to_bf16").launch((cols + 255) / 256, Math.min(rows, 65535), 1, 256, 1, 1, 0,
                f32.ptr(), rows, cols, cols, 0L, h.ptr(), cols, 0L, 1);
        c.synchronize();
        f32.release();
        return h;
    }

    /** Relative L2 difference of two n-float device buffers (y against x). */
    private double relDiff(DeviceBuffer x, DeviceBuffer y, long n) {
        c.synchronize();
        float[] hx = new float[(int) n], hy = new float[(int) n];
        c.staging().download(x.ptr(), hx, 0, hx.length, "bench check");
        c.staging().download(y.ptr(), hy, 0, hy.length, "bench check");
        double num = 0, den = 0;
        for (int i = 0; i < hx.length; i++) {
            double d = (double) hy[i] - hx[i];
            num += d * d;
            den += (double) hx[i] * hx[i];
        }
        return den == 0 ? Math.sqrt(num) : Math.sqrt(num / den);
    }

    private void attention() {
        line("");
        line("## Attention forward / backward (head_dim 64; TFLOP/s counting 4·B·H·N²·64 forward, 2.5× that backward)");
        line("");
        line("| B×H×N | ours fwd | ours bwd | PyTorch SDPA fp32 fwd | bwd | PyTorch SDPA bf16 fwd | bwd | ours / PyTorch fp32 (fwd, bwd) |");
        line("|---|---|---|---|---|---|---|---|");
        int[][] shapes = {{64, 6, 201}, {64, 12, 201}, {64, 16, 201}, {64, 6, 1029}, {16, 12, 1029}, {16, 16, 1029}};
        for (int[] s : shapes) {
            int B = s[0], H = s[1], N = s[2], Dh = 64, D = H * Dh;
            double flop = 4.0 * B * H * (double) N * N * Dh;
            DeviceBuffer qkv = random((long) B * N * 3 * D, 3), o = c.alloc(4L * B * N * D), lse = c.alloc(4L * B * H * N);
            DeviceBuffer go = random((long) B * N * D, 4), g = c.alloc(4L * B * N * 3 * D);
            CUdeviceptr q = qkv.ptr(), k = qkv.at(4L * D), v = qkv.at(8L * D);
            float scale = (float) (1 / Math.sqrt(Dh));
            Runnable fwd = () -> AttentionCuda.forward(c, B, H, N, Dh, scale, q, k, v, N * 3 * D, 3 * D, Dh, null, null, 0, o.ptr(), lse.ptr());
            double fms = median(fwd, 2, 10);
            double bms = median(() -> AttentionCuda.backward(c, B, H, N, Dh, scale, q, k, v, N * 3 * D, 3 * D, Dh, null, null, 0,
                    o.ptr(), go.ptr(), lse.ptr(), g.ptr(), g.at(4L * D), g.at(8L * D)), 2, 10);
            String key = B + "x" + H + "x" + N + "x64/";
            Double pf = peer("attention", key + "fp32", "fwd_tflops"), pb = peer("attention", key + "fp32", "bwd_tflops");
            Double hf = peer("attention", key + "bf16", "fwd_tflops"), hb = peer("attention", key + "bf16", "bwd_tflops");
            double of = flop / fms / 1e9, ob = 2.5 * flop / bms / 1e9;
            line("| %d×%d×%d | %.1f | %.1f | %s | %s | %s | %s | %s, %s |", B, H, N, of, ob, f(pf), f(pb), f(hf), f(hb),
                    pf == null ? "–" : f2(of / pf), pb == null ? "–" : f2(ob / pb));
            qkv.release(); o.release(); lse.release(); go.release(); g.release();
        }
        line("");
        line("Ours: fused qkv layout [B, N, 3·H·64] as the model uses it, no RoPE (RoPE adds a few per cent).");
    }

    private void losses() {
        line("");
        line("## Gram loss and Sinkhorn-Knopp (ms, median)");
        line("");
        line("| op | shape | ours | PyTorch (eager ops) |");
        line("|---|---|---|---|");
        int[][] gram = {{32, 196, 384}, {8, 1024, 384}, {4, 4096, 384}};
        for (int[] s : gram) {
            int N = s[0], P = s[1], D = s[2];
            long n = (long) N * P * D;
            DeviceBuffer S = random(n, 5), T = random(n, 6), sh = c.alloc(4 * n), th = c.alloc(4 * n), sn = c.alloc(4L * N * P), tn = c.alloc(4L * N * P),
                    loss = c.alloc(4), gs = c.alloc(4 * n);
            double f = median(() -> GramCuda.forward(c, S.ptr(), T.ptr(), N, P, D, sh.ptr(), sn.ptr(), th.ptr(), tn.ptr(), loss.ptr()), 2, 10);
            double fb = median(() -> {
                GramCuda.forward(c, S.ptr(), T.ptr(), N, P, D, sh.ptr(), sn.ptr(), th.ptr(), tn.ptr(), loss.ptr());
                GramCuda.backward(c, 1f, sh.ptr(), sn.ptr(), th.ptr(), tn.ptr(), N, P, D, gs.ptr(), null);
            }, 2, 10);
            String key = N + "x" + P + "x" + D;
            line("| Gram forward | N×P×D = %s | %.3f | %s |", key, f, f2(peer("gram", key, "fwd_ms")));
            line("| Gram forward+backward | %s | %.3f | %s |", key, fb, f2(peer("gram", key, "fwd_bwd_ms")));
            for (DeviceBuffer b : new DeviceBuffer[]{S, T, sh, th, sn, tn, loss, gs}) b.release();
        }
        int[][] sk = {{256, 65536}, {1024, 65536}, {4096, 8192}};
        for (int[] s : sk) {
            int B = s[0], K = s[1];
            DeviceBuffer x = random((long) B * K, 7), q = c.alloc(4L * B * K);
            double ms = median(() -> SinkhornCuda.sinkhorn(c, x.ptr(), q.ptr(), B, K, 0.07f, B, 3), 2, 10);
            line("| Sinkhorn-Knopp, 3 iterations | B×K = %d×%d | %.3f | %s |", B, K, ms, f2(peer("sinkhorn", B + "x" + K, "ms")));
            x.release(); q.release();
        }
    }

    /** ViT-S/16 eval forward on one 2048×2048 image (16,384 patch tokens): time and device memory. */
    private void highRes() {
        if (CudaBackend.install() == null) throw new IllegalStateException(Cuda.status());
        var model = new DinoVisionTransformer(VitConfig.preset("vits16"), new Random(0));
        model.eval();
        model.to(Device.CUDA);
        Tensor x = Tensor.randn(new Random(4), 1, 3, 2048, 2048).cuda();
        line("");
        line("## High resolution: ViT-S/16 features of one 2048×2048 image (16,384 patch tokens), eval, TF32");
        line("");
        for (int rep = 0; rep < 3; rep++) {
            try (var arena = StepArena.open("highres"); var ng = dino4j.autograd.Grad.noGrad()) {
                c.synchronize();
                long t0 = System.nanoTime();
                var f = model.forwardFeatures(Var.constant(x));
                float[] cls = f.clsToken().data().toFloatArray();
                double ms = (System.nanoTime() - t0) / 1e6;
                if (rep == 2) line("- forward %.1f ms (third run), CLS[0] = %.4f; %s", ms, cls[0], c.allocator().stats());
            }
        }
    }

    private void trainStep() {
        int batch = 64, reps = 10;
        CudaBackend be = CudaBackend.install();
        if (be == null) throw new IllegalStateException(Cuda.status());
        line("");
        line("## ViT-S/16 training step (224², batch %d: forward, cross-entropy on a linear head of the CLS token, backward, AdamW)", batch);
        line("");
        var model = new DinoVisionTransformer(VitConfig.preset("vits16"), new Random(0));
        var head = new Linear(384, 1000, true, new Random(1));
        model.train();
        model.to(Device.CUDA);
        head.to(Device.CUDA);
        List<Parameter> params = new ArrayList<>(model.parameters());
        params.addAll(head.parameters());
        AdamW opt = new AdamW(List.of(new ParamGroup("all", params, 1.0, 1.0)));
        Tensor x = Tensor.randn(new Random(2), batch, 3, 224, 224).cuda();
        int[] labels = new Random(3).ints(batch, 0, 1000).toArray();
        Runnable step = () -> {
            try (var arena = StepArena.open("bench step")) {
                var feats = model.forwardFeatures(Var.constant(x));
                Var loss = F.crossEntropy(head.forward(feats.clsToken()), labels);
                opt.zeroGrad();
                loss.backward();
                opt.step(1e-4, 0.05);
                opt.zeroGrad();
            }
        };
        for (String prec : new String[]{"TF32", "FP32"}) {
            be.setMatmulPrecision(GemmCuda.Precision.valueOf(prec));
            for (int i = 0; i < 3; i++) step.run();
            c.synchronize();
            Transfers.reset();
            double[] t = new double[reps];
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                step.run();
                c.synchronize();
                t[i] = (System.nanoTime() - t0) / 1e6;
            }
            Arrays.sort(t);
            double ours = batch / t[reps / 2] * 1000;
            Double pt = peer("train_vits16_b64", prec.toLowerCase(), "images_per_s");
            line("- matmul %s: **ours %.1f images/s** (median step %.1f ms), PyTorch eager %s: %s images/s%s; %s per %d steps",
                    prec, ours, t[reps / 2], prec.toLowerCase(), f(pt), pt == null ? "" : String.format(Locale.ROOT, " (ratio %.2f)", ours / pt),
                    Transfers.summary(), reps);
        }
        line("- %s", c.allocator().stats());
        // one traced step: which code moves data between host and GPU (each upload also waits for the stream)
        Transfers.startTally();
        step.run();
        c.synchronize();
        var tally = Transfers.stopTally();
        line("- transfers of one step by the code that caused them (count, bytes):");
        for (var e : tally.subList(0, Math.min(12, tally.size())))
            line("  - `%s`: %d, %,d B", e.getKey(), e.getValue()[0], e.getValue()[1]);
        be.setMatmulPrecision(GemmCuda.Precision.TF32);
    }
}
