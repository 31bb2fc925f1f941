package dino4j.dino.ssl;

import com.google.gson.JsonObject;
import dino4j.autograd.F;
import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.ImageDataset;
import dino4j.dino.data.MultiCrop;
import dino4j.dino.data.SslBatchLoader;
import dino4j.dino.model.Checkpoints;
import dino4j.dino.model.DinoVisionTransformer;
import dino4j.nn.Parameter;
import dino4j.nn.optim.AdamW;
import dino4j.nn.optim.Ema;
import dino4j.nn.optim.GradClip;
import dino4j.nn.optim.ParamGroup;
import dino4j.nn.optim.ParamGroups;
import dino4j.nn.optim.Schedules;
import dino4j.tensor.OpTimeline;
import dino4j.tensor.Device;
import dino4j.tensor.StepArena;
import dino4j.tensor.Ops;
import dino4j.tensor.Tensor;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;

/**
 * DINOv3 SSL pretraining (spec §3–4): EMA teacher on the global crops → Sinkhorn-Knopp targets; student on
 * masked global crops and local crops → DINO (global/local), iBOT (masked patches) and KoLeo (backbone CLS)
 * losses → backward → per-module clipping → AdamW with DINOv3 parameter groups → EMA. Resumable
 * bit-for-bit from {@code checkpoints/last.safetensors} (see {@link TrainingCheckpoint}).
 */
public final class SslTrainer implements AutoCloseable {

    /**
     * What one step measured (losses are the weighted terms' raw values before weighting). The target entropies are
     * the mean entropy (nats) of the teacher's Sinkhorn-Knopp targets per CLS / masked patch: ln K means uniform
     * targets, i.e. that head gives the student no signal (NaN when there were no targets).
     */
    public record StepMetrics(long step, double loss, double dinoGlobal, double dinoLocal, double ibot, double koleo,
                              double lr, double wd, double momentum, double teacherTemp, double gradNorm,
                              double seconds, double dataWaitSeconds, int images,
                              double dinoTargetEntropy, double ibotTargetEntropy) {}

    public final SslConfig cfg;
    public final SslModel student, teacher;
    private final AdamW optimizer;
    private final List<Parameter> backboneParams, dinoHeadParams, ibotHeadParams;
    private final SslBatchLoader loader;
    private final double[] lrS, lastLayerLrS, wdS, momS, ttS;
    private final Path outDir;
    private final FeatureMonitor monitor;
    private long step;
    private int nanStreak;
    private final long startNanos = System.nanoTime();
    private double minutesBefore;   // a resumed run's training minutes before this process
    private long imagesSeen;
    private Device device = Device.CPU;

    /**
     * Runs the step's math on {@code d}: student and teacher (parameters, buffers) move there in place, batches
     * are sent there as they arrive. Call after {@link #restore} or weight loading.
     */
    public void placeOn(Device d) {
        device = d;
        student.to(d);
        teacher.to(d);
    }

    public Device device() { return device; }

    private Tensor onDevice(Tensor t) { return t == null || device == Device.CPU ? t : t.to(device); }

    /**
     * @param data   unlabelled training images
     * @param monitor what evaluations measure (null: no evaluation)
     * @param outDir run folder (checkpoints/, exported/, metrics.jsonl, train.log)
     */
    public SslTrainer(SslConfig cfg, ImageDataset data, FeatureMonitor monitor, Path outDir) {
        cfg.validate();
        this.cfg = cfg;
        this.outDir = outDir;
        this.monitor = monitor;
        Random init = new Random(cfg.seed);
        student = new SslModel(cfg, init);
        teacher = new SslModel(cfg, new Random(cfg.seed + 1));
        teacher.loadStateDict(student.stateDict(), true);   // teacher = exact copy of the student at init (§1.10)
        teacher.eval();
        student.train();

        List<ParamGroup> groups = new ArrayList<>();
        groups.addAll(ParamGroups.dinov3(student.backbone, "backbone.", cfg.layerDecay, cfg.vit.depth(), cfg.patchEmbedLrMult));
        groups.addAll(ParamGroups.dinov3(student.dinoHead, "dino_head.", 1.0, 0, 1.0));
        groups.addAll(ParamGroups.dinov3(student.ibotHead, "ibot_head.", 1.0, 0, 1.0));
        optimizer = new AdamW(groups, cfg.beta1, cfg.beta2, 1e-8);
        backboneParams = student.backbone.parameters();
        dinoHeadParams = student.dinoHead.parameters();
        ibotHeadParams = student.ibotHead.parameters();

        int total = Math.toIntExact(cfg.steps);
        int warm = (int) Math.round(cfg.warmupFraction * total);
        lrS = Schedules.warmupCosine(cfg.lr, cfg.minLr, warm, total);
        int freeze = (int) Math.round(cfg.freezeLastLayerFraction * total);
        lastLayerLrS = lrS.clone();
        for (int i = 0; i < Math.min(freeze, total); i++) lastLayerLrS[i] = 0;
        wdS = Schedules.warmupCosine(cfg.wdStart, cfg.wdEnd, 0, total);
        momS = Schedules.warmupCosine(cfg.momentumStart, cfg.momentumEnd, 0, total);
        int ttWarm = (int) Math.round(cfg.teacherTempWarmupFraction * total);
        ttS = Schedules.warmupCosineConstant(cfg.teacherTempStart, cfg.teacherTemp, cfg.teacherTemp, ttWarm, total);

        MultiCrop.Config mc = multiCropConfig(cfg);
        loader = new SslBatchLoader(data, new MultiCrop(mc),
                SslBatchLoader.Config.of(cfg.batch, cfg.vit.patchSize(), cfg.seed)
                        .withWorkers(cfg.workers, Math.max(2, 2 * cfg.workers))
                        .withMasking(cfg.maskProbability, cfg.maskRatioMin, cfg.maskRatioMax));
    }

    /** The crop recipe of a run: the DINOv3 pipeline at the run's sizes, scales, aspect ratios, blur and solarize settings. */
    public static MultiCrop.Config multiCropConfig(SslConfig cfg) {
        MultiCrop.Config d = MultiCrop.Config.dinov3(cfg.globalSize, cfg.localSize, cfg.nLocal);
        return d.withScales(cfg.globalScaleMin, 1.0, cfg.localScaleMin, cfg.localScaleMax)
                .withRatios(cfg.cropRatioMin, cfg.cropRatioMax)
                .withBlur(d.blurKernel(), cfg.blurSigmaMin, cfg.blurSigmaMax, cfg.blurGlobal1P, cfg.blurGlobal2P, cfg.blurLocalP)
                .withSolarize(cfg.solarizeP, d.solarizeThreshold());
    }

    public long step() { return step; }

    public Path checkpointFile() { return outDir.resolve("checkpoints").resolve("last.safetensors"); }

    /** Starts the backbone (student and teacher) from an official / Hugging Face / dino4j checkpoint; heads stay new. */
    public void loadBackboneWeights(Path weights) throws IOException {
        Map<String, Tensor> sd = Checkpoints.readStateDict(weights);
        try {
            student.backbone.loadStateDict(sd, true);
            teacher.backbone.loadStateDict(sd, true);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(weights + ": does not fit --model " + cfg.model + ": " + e.getMessage(), e);
        }
    }

    /** Restores student, teacher, optimizer and position from a checkpoint written by {@link #saveCheckpoint()}. */
    public void restore(TrainingCheckpoint.Loaded ck) {
        student.loadStateDict(ck.student(), true);
        teacher.loadStateDict(ck.teacher(), true);
        optimizer.loadStateDict(ck.optimizer());
        step = ck.step();
        imagesSeen = step * cfg.batch;
        loader.seek(step);
        String m = ck.metadata().get("minutes");   // absent in checkpoints before it was recorded: the clock restarts
        minutesBefore = m == null ? 0 : Double.parseDouble(m);
        dropMetricsAfter(step);
    }

    /**
     * The metrics of steps after the checkpoint belong to work the resumed run repeats: they go, so that
     * {@code metrics.jsonl} holds each step once (rewritten atomically; lines without a step are kept).
     */
    private void dropMetricsAfter(long lastStep) {
        Path f = outDir.resolve("metrics.jsonl");
        if (!Files.exists(f)) return;
        try {
            List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
            List<String> kept = new ArrayList<>(lines.size());
            for (String l : lines) if (metricsStep(l) <= lastStep) kept.add(l);
            if (kept.size() == lines.size()) return;
            dino4j.tensor.io.AtomicFile.write(f, os -> {
                for (String l : kept) os.write((l + "\n").getBytes(StandardCharsets.UTF_8));
            });
            logText(String.format("resumed at step %d: dropped %d metrics lines of later steps (run again now)", lastStep, lines.size() - kept.size()));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(f + ": cannot rewrite the metrics of the resumed run: " + e.getMessage(), e);
        }
    }

    /** The "step" of one metrics line; lines without one (or not JSON) count as step 0, which keeps them. */
    private static long metricsStep(String line) {
        try {
            var e = com.google.gson.JsonParser.parseString(line);
            if (e.isJsonObject() && e.getAsJsonObject().has("step")) return e.getAsJsonObject().get("step").getAsLong();
        } catch (RuntimeException ignored) { }
        return 0;
    }

    public void saveCheckpoint() throws IOException {
        TrainingCheckpoint.save(checkpointFile(), cfg, step, student, teacher, optimizer,
                Map.of("images_seen", Long.toString(imagesSeen), "minutes", Double.toString(minutesElapsed())));
    }

    /** Exports the teacher backbone (the model DINO evaluates and releases) with official key names. */
    public Path exportBackbone() throws IOException {
        Path p = outDir.resolve("exported").resolve("backbone.safetensors");
        Checkpoints.saveOfficial(teacher.backbone, p);
        return p;
    }

    /**
     * k-NN of the teacher's features, always with float32 products on the CPU: with the official LayerScale of
     * 1e-5 the images' CLS tokens differ by less than bf16's resolution early in a run, and a bf16 forward
     * maps them all to one point (measured: 25.15 % for a bf16 teacher forward vs 49.05 % in float32 on the
     * same checkpoint). Training itself learns the same in bf16 (49.05 vs 49.65 % after the default run).
     */
    public FeatureMonitor.Eval evaluate() {
        if (monitor == null) return null;
        var training = dino4j.kernels.GemmKernels.matmulPrecision();
        dino4j.kernels.GemmKernels.setMatmulPrecision(dino4j.kernels.GemmKernels.Precision.FP32);
        try {
            return monitor.evaluate(teacher.backbone);
        } finally {
            dino4j.kernels.GemmKernels.setMatmulPrecision(training);
        }
    }

    public long imagesSeen() { return imagesSeen; }

    /** Minutes this run has trained, a resumed run's earlier processes included (up to their last checkpoint). */
    public double minutesElapsed() { return minutesBefore + (System.nanoTime() - startNanos) / 6e10; }

    /** One SSL step on the next batch. */
    public StepMetrics trainStep() {
        // the step's activations and gradients go back when it ends (GPU: to the allocator; CPU: their arrays to
        // a pool the next step draws from) instead of waiting for the GC (see StepArena)
        try (var arena = StepArena.open("train step " + (step + 1))) {
            return runStep();
        }
    }

    private StepMetrics runStep() {
        long t0 = System.nanoTime();
        if (OpTimeline.ON) OpTimeline.mark("data");
        SslBatchLoader.Batch b = loader.next();
        double wait = loader.lastDataWaitNanos() / 1e9;
        int i = (int) Math.min(step, lrS.length - 1);
        double lr = lrS[i], lastLr = lastLayerLrS[i], wd = wdS[i], mom = momS[i], tt = ttS[i];
        int B = b.batchSize(), nL = b.nLocal();
        int[] maskIdx = new int[b.maskIndices().length];
        for (int k = 0; k < maskIdx.length; k++) maskIdx[k] = (int) b.maskIndices()[k];

        // randomness inside the step (drop path, RoPE rescale) is a function of (seed, step): resumable
        student.backbone.trainRng = new Random(cfg.seed * 0x9E3779B97F4A7C15L + step * 0xBF58476D1CE4E5B9L + 7);

        Tensor globals = onDevice(b.globals());
        // ---- teacher: global crops, no masks, eval mode, no grad
        Tensor teacherCls, teacherPatchTargets = null;
        try (var g = Grad.noGrad()) {
            var tf = teacher.backbone.forwardFeatures(Var.constant(globals));
            Tensor logits = teacher.dinoHead.forward(tf.clsToken()).data();
            teacherCls = Losses.sinkhornKnopp(logits, tt).reshape(2, B, -1);
            if (maskIdx.length > 0) {
                Var patches = F.reshape(tf.patchTokens(), -1, cfg.vit.embedDim());
                Tensor pl = teacher.ibotHead.forward(F.indexSelect(patches, maskIdx)).data();
                teacherPatchTargets = Losses.sinkhornKnopp(pl, tt);
            }
        }

        // ---- student: masked global crops + local crops
        var gf = student.backbone.forwardFeatures(Var.constant(globals), b.masks());
        Var cls = gf.clsToken();
        if (nL > 0) {
            var lf = student.backbone.forwardFeatures(Var.constant(onDevice(b.locals())));
            cls = F.cat(0, cls, lf.clsToken());
        }
        Var logits = F.reshape(student.dinoHead.forward(cls), 2 + nL, B, -1);
        double[] scales = Losses.dinoScales(2, nL);
        Var dinoGlobal = Losses.dinoLossGlobal(F.slice(logits, 0, 0, 2), teacherCls, Losses.STUDENT_TEMP, true);
        Var loss = F.mulScalar(dinoGlobal, cfg.dinoWeight * scales[1]);
        Var dinoLocal = null;
        if (nL > 0) {
            dinoLocal = Losses.dinoLossLocal(F.slice(logits, 0, 2, 2 + nL), teacherCls, Losses.STUDENT_TEMP);
            loss = F.add(loss, F.mulScalar(dinoLocal, cfg.dinoWeight * scales[0]));
        }
        Var ibot = null;
        if (teacherPatchTargets != null && cfg.ibotWeight > 0) {
            Var patches = F.reshape(gf.patchTokens(), -1, cfg.vit.embedDim());
            Var sl = student.ibotHead.forward(F.indexSelect(patches, maskIdx));
            ibot = Losses.ibotLoss(sl, teacherPatchTargets, b.masks(), Losses.STUDENT_TEMP);
            loss = F.add(loss, F.mulScalar(ibot, cfg.ibotWeight));
        }
        Var koleo = null;
        if (cfg.koleoWeight > 0) {
            Var c0 = F.slice(gf.clsToken(), 0, 0, B), c1 = F.slice(gf.clsToken(), 0, B, 2 * B);
            koleo = F.add(Losses.koleoLoss(c0), Losses.koleoLoss(c1));
            loss = F.add(loss, F.mulScalar(koleo, cfg.koleoWeight));
        }

        double lossValue = loss.data().item();
        double gradNorm = Double.NaN;
        if (!Double.isFinite(lossValue)) {
            // NaN guard (§4.5): skip the update; abort after more than 2 in a row
            if (++nanStreak > 2) throw new IllegalStateException("loss was not finite for " + nanStreak + " consecutive steps (step " + step + "); lower --lr");
        } else {
            nanStreak = 0;
            student.zeroGrad();
            loss.backward();
            gradNorm = GradClip.clipGlobalNorm(backboneParams, cfg.clipGrad);
            GradClip.clipGlobalNorm(dinoHeadParams, cfg.clipGrad);
            GradClip.clipGlobalNorm(ibotHeadParams, cfg.clipGrad);
            optimizer.step(lr, wd, lastLr);
            Ema.update(teacher, student, mom);
        }
        student.zeroGrad();
        step++;
        imagesSeen += B;
        double secs = (System.nanoTime() - t0) / 1e9;
        return new StepMetrics(step, lossValue, dinoGlobal.data().item(), dinoLocal == null ? 0 : dinoLocal.data().item(),
                ibot == null ? 0 : ibot.data().item(), koleo == null ? 0 : koleo.data().item(),
                lr, wd, mom, tt, gradNorm, secs, wait, B,
                meanEntropy(teacherCls.reshape(-1, teacherCls.size(2))),
                teacherPatchTargets == null ? Double.NaN : meanEntropy(teacherPatchTargets));
    }

    /** Rows the target-entropy metric reads: a diagnostic, so a fixed subset keeps it at ≈ 0.3 % of a step, not 3 %. */
    static final int ENTROPY_ROWS = 256;

    /**
     * Mean over rows of −Σ q log q (rows are distributions), computed where the targets live, over the first
     * {@link #ENTROPY_ROWS} rows (the rows are images in batch order, so this is a sample of the batch).
     */
    static double meanEntropy(Tensor q) {
        if (q.size(0) > ENTROPY_ROWS) q = q.slice(0, 0, ENTROPY_ROWS);
        Tensor plogp = Ops.mul(q, Ops.log(Ops.addScalar(q, 1e-30)));
        return -Ops.mean(Ops.sum(plogp, 1, false), 0, false).item();
    }

    @Override public void close() { loader.close(); }

    // ------------------------------------------------------------------ run folder logs

    /** Appends one JSON object as a line to {@code metrics.jsonl}. */
    public void logMetrics(JsonObject o) throws IOException {
        append(outDir.resolve("metrics.jsonl"), o.toString());
    }

    public void logText(String line) throws IOException {
        append(outDir.resolve("train.log"), line);
    }

    private static void append(Path f, String line) throws IOException {
        Files.createDirectories(f.toAbsolutePath().getParent());
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(f, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND))) {
            w.println(line);
        }
    }

    public static JsonObject toJson(StepMetrics m, long imagesSeen, double minutes) {
        JsonObject o = new JsonObject();
        o.addProperty("step", m.step());
        o.addProperty("images_seen", imagesSeen);
        o.addProperty("minutes", round(minutes));
        o.addProperty("loss", m.loss());
        o.addProperty("dino_global", m.dinoGlobal());
        o.addProperty("dino_local", m.dinoLocal());
        o.addProperty("ibot", m.ibot());
        o.addProperty("koleo", m.koleo());
        o.addProperty("lr", m.lr());
        o.addProperty("wd", m.wd());
        o.addProperty("momentum", m.momentum());
        o.addProperty("teacher_temp", m.teacherTemp());
        if (Double.isFinite(m.gradNorm())) o.addProperty("grad_norm_backbone", m.gradNorm());
        o.addProperty("dino_target_entropy", round(m.dinoTargetEntropy()));
        if (Double.isFinite(m.ibotTargetEntropy())) o.addProperty("ibot_target_entropy", round(m.ibotTargetEntropy()));
        o.addProperty("images_per_s", round(m.images() / m.seconds()));
        o.addProperty("data_wait_pct", round(100 * m.dataWaitSeconds() / m.seconds()));
        return o;
    }

    private static double round(double v) { return Math.round(v * 1000) / 1000.0; }

    /** Convenience for tests and callers that just want N steps with a per-step callback. */
    public void run(long untilStep, Consumer<StepMetrics> onStep) {
        while (step < untilStep) onStep.accept(trainStep());
    }

    public DinoVisionTransformer teacherBackbone() { return teacher.backbone; }
}
