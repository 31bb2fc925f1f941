package dino4j.dino.cli;

import com.google.gson.JsonObject;
import dino4j.dino.data.DatasetPaths;
import dino4j.dino.data.Progress;
import dino4j.dino.data.ImageDataset;
import dino4j.dino.data.MultiCrop;
import dino4j.dino.eval.Knn;
import dino4j.dino.eval.KnnFeatures;
import dino4j.dino.model.Checkpoints;
import dino4j.dino.ssl.FeatureMonitor;
import dino4j.dino.ssl.SslConfig;
import dino4j.dino.ssl.SslTrainer;
import dino4j.dino.ssl.TrainingCheckpoint;
import dino4j.tensor.Device;
import dino4j.tensor.OpTimeline;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code ./dino4j pretrain}: DINOv3 SSL pretraining (DINO + iBOT + KoLeo, Sinkhorn-Knopp, multi-crop, EMA teacher). */
@Command(name = "pretrain", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"DINOv3 self-supervised pretraining of a ViT on a folder of images (or IDX files).",
                "With no options: a small ViT on the bundled Fashion-MNIST subset for a few minutes, with the",
                "k-NN accuracy of the teacher's CLS features before and after."})
final class PretrainCommand implements Callable<Integer> {
    @Option(names = "--data", paramLabel = "PATH", description = "training images: a folder (recursive; PNG/JPEG/BMP/GIF) or IDX files (default: the bundled Fashion-MNIST 8k subset)")
    Path data;
    @Option(names = "--eval-data", paramLabel = "PATH", description = "labelled data for k-NN: a folder with IDX train/t10k files, or with train/ and val/ class folders (default: --data when it has labels)")
    Path evalData;
    @Option(names = "--eval-images", paramLabel = "REF,QUERY", description = "how many labelled images k-NN uses as reference set and as queries, or 'all' (default: 8000,2000)")
    String evalImages;
    @Option(names = "--out", paramLabel = "DIR", description = "run folder (default: ${DEFAULT-VALUE})")
    Path out = Path.of("runs", "pretrain");
    @Option(names = "--model", paramLabel = "NAME", description = "vit-fashion (192 wide, 6 deep, patch 4), vit-fashion-tiny (96 wide, 4 deep, patch 4) or vits16, vits16plus, vitb16, vitl16, ... (default: vit-fashion, or the --from-weights architecture)")
    String model;
    @Option(names = "--image-size", paramLabel = "G", description = "global crop size (default: 32 for vit-fashion, 224 otherwise)") Integer imageSize;
    @Option(names = "--local-size", paramLabel = "L", description = "local crop size (default: 16 for vit-fashion, 96 otherwise)") Integer localSize;
    @Option(names = "--local-crops", paramLabel = "N", description = "local crops per image (default: 4 for vit-fashion, 8 otherwise)") Integer localCrops;
    @Option(names = "--crop-scales", paramLabel = "GMIN,LMIN,LMAX", description = "RandomResizedCrop area ranges: global (GMIN, 1), local (LMIN, LMAX) (default: 0.32,0.05,0.32)") String cropScales;
    @Option(names = "--crop-ratio", paramLabel = "MIN,MAX", description = "RandomResizedCrop aspect-ratio range, width / height, of every crop (default: 0.75,1.333)") String cropRatio;
    @Option(names = "--blur-sigma", paramLabel = "MIN,MAX", description = "Gaussian blur sigma range in pixels of the crop (default: 0.1,2.0, the official values for 224-pixel crops)") String blurSigma;
    @Option(names = "--blur-p", paramLabel = "G1,G2,L", description = "blur probabilities on global crop 1, global crop 2, local crops (default: 0,0.9,0.5, the official effective values; 0,0,0 for vit-fashion's 32-pixel crops)") String blurP;
    @Option(names = "--solarize-p", paramLabel = "P", description = "solarize probability on global crop 2 (default: 0.2)") Double solarizeP;
    @Option(names = "--batch", paramLabel = "B", description = "images per step (default: 128 for vit-fashion, 32 otherwise)") Integer batch;
    @Option(names = "--steps", paramLabel = "S", description = "optimizer steps (default: 45 on the bundled data = 5,760 images, else 1 epoch)") Long steps;
    @Option(names = "--epochs", paramLabel = "E", description = "passes over --data (instead of --steps)") Double epochs;
    @Option(names = "--lr", description = "peak learning rate (default: ${DEFAULT-VALUE})") double lr = 5e-4;
    @Option(names = "--prototypes", paramLabel = "K", description = "prototypes of the DINO and iBOT heads (default: 4096 for vit-fashion, 65536 otherwise)") Integer prototypes;
    @Option(names = "--prototype-std", paramLabel = "STD", description = "init std of the DINO/iBOT prototype weights (default: 0.02, the official value; 0.0884 = unit-norm rows keeps small models' heads learning)") Double prototypeStd;
    @Option(names = "--layerscale", paramLabel = "G", description = "LayerScale init of a new backbone (default: the model's, 1e-5)") Double layerScale;
    @Option(names = "--teacher-temp", paramLabel = "START,END", description = "teacher temperature warm-up over the first 30 %% of the steps (default: 0.04,0.07)") String teacherTemp;
    @Option(names = "--momentum", paramLabel = "START,END", description = "teacher EMA momentum, cosine from START to END over the run (default: 0.992,1.0; 0.98,1.0 for vit-fashion)") String momentum;
    @Option(names = "--freeze-last-layer", paramLabel = "F", description = "fraction of the steps during which both heads' prototype layers are frozen (default: 0; the official ImageNet recipe freezes 1 epoch)") Double freezeLastLayer;
    @Option(names = "--koleo", paramLabel = "W", description = "KoLeo loss weight (default: 0.1)") Double koleo;
    @Option(names = "--drop-path", description = "stochastic depth rate (default: ${DEFAULT-VALUE})") double dropPath = 0.0;
    @Option(names = "--from-weights", paramLabel = "CKPT", description = "continue SSL from an official .pth, safetensors or Hugging Face checkpoint (backbone loaded, heads new)") Path fromWeights;
    @Option(names = "--resume", description = "continue the run in --out from checkpoints/last.safetensors") boolean resume;
    @Option(names = "--knn-features", paramLabel = "F", description = "what k-NN reads from the teacher: cls (DINO protocol, the default), patch-mean or cls+patch-mean") String knnFeatures;
    @Option(names = "--eval-every", paramLabel = "S", description = "k-NN evaluation every S steps; 0: only before and after (the default)") Long evalEvery;
    @Option(names = "--checkpoint-every", paramLabel = "S", description = "checkpoint every S steps (default: ${DEFAULT-VALUE})") long checkpointEvery = 50;
    @Option(names = "--workers", description = "data-loading threads (default: ${DEFAULT-VALUE})") int workers = 2;
    @Option(names = "--device", description = "auto (the GPU when CUDA and our kernels are there), cpu or cuda (default: ${DEFAULT-VALUE})") String device = "auto";
    @Option(names = "--matmul", paramLabel = "P", description = "precision of the large matrix products: auto (CPU fp32, GPU tf32), fp32, tf32 (GPU) or bf16 (CPU: AMX tiles or AVX512-BF16, bf16 inputs with fp32 sums, like PyTorch's bf16 autocast; GPU: tensor cores) (default: auto; --resume: the run's)") String matmul;
    @Option(names = "--seed", description = "random seed (default: ${DEFAULT-VALUE})") long seed = 0;

    @Override public Integer call() throws Exception {
        if (matmul != null) DeviceChoice.checkMatmul(matmul);
        if (evalEvery != null && evalEvery < 0) throw new IllegalArgumentException("--eval-every must be 0 (only before and after) or positive, got " + evalEvery);
        Path ck = out.resolve("checkpoints").resolve("last.safetensors");
        SslConfig cfg;
        TrainingCheckpoint.Loaded loaded = null;
        if (resume) {
            loaded = TrainingCheckpoint.load(ck);
            cfg = loaded.config();
            if (steps != null) cfg.steps = steps;   // extending a run changes the schedules' length: said below
            // what only watches or places the run may change on resume; the recipe may not
            if (evalEvery != null) cfg.evalEvery = evalEvery;
            if (matmul != null) cfg.matmul = DeviceChoice.checkMatmul(matmul);
        } else {
            if (Files.exists(ck))
                throw new IllegalArgumentException(out + " already holds a run (" + ck + "); pass --resume to continue it or choose another --out");
            cfg = buildConfig();
        }
        Path dataPath = data != null ? data : cfg.data != null ? Path.of(cfg.data) : DatasetPaths.bundledFashion();
        if (data != null) cfg.data = data.toAbsolutePath().toString();
        ImageDataset train = DatasetPaths.openTrain(dataPath);
        if (!resume && steps == null && epochs != null) cfg.steps = Math.max(1, (long) Math.ceil(epochs * train.size() / cfg.batch));
        if (!resume && steps == null && epochs == null && data != null) cfg.steps = Math.max(1, train.size() / cfg.batch);
        cfg.validate();

        FeatureMonitor monitor;
        if (evalData != null) cfg.evalData = evalData.toAbsolutePath().toString();
        if (evalImages != null) setEvalImages(cfg, evalImages);
        if (knnFeatures != null) cfg.knnFeatures = KnnFeatures.parse("--knn-features", knnFeatures).cliName;
        Path evalPath = cfg.evalData != null ? Path.of(cfg.evalData) : dataPath;
        DatasetPaths.Labelled labelled = DatasetPaths.openLabelled(evalPath);
        KnnFeatures evalFeatures = KnnFeatures.parse("knnFeatures", cfg.knnFeatures);
        if (labelled != null) {
            monitor = FeatureMonitor.knn(labelled.train(), labelled.test(), cfg.evalTrainImages, cfg.evalTestImages, cfg.globalSize,
                    MultiCrop.Config.IMAGENET_MEAN, MultiCrop.Config.IMAGENET_STD, new Knn.Protocol(cfg.knnK, cfg.knnTemperature, false), evalFeatures);
        } else if (cfg.evalData != null) {
            throw new IllegalArgumentException("--eval-data " + cfg.evalData + " has no labels (need IDX label files or class sub-folders)");
        } else {   // unlabelled images: the label-free RankMe of a fixed sample of them still says whether the features grow
            monitor = FeatureMonitor.unlabelled(train, Math.min(cfg.evalTrainImages, UNLABELLED_EVAL_IMAGES), cfg.globalSize,
                    MultiCrop.Config.IMAGENET_MEAN, MultiCrop.Config.IMAGENET_STD, evalFeatures);
        }

        Files.createDirectories(out);
        try (SslTrainer t = new SslTrainer(cfg, train, monitor, out)) {
            if (loaded != null) {
                t.restore(loaded);
                System.out.printf("resumed %s at step %d of %d (the run's own configuration; of the options only --steps, --eval-every, --eval-images, --eval-data, --knn-features, --matmul and --device apply)%n",
                        ck, t.step(), cfg.steps);
            } else if (fromWeights != null) {
                t.loadBackboneWeights(fromWeights);
                System.out.println("backbone initialised from " + fromWeights + " (heads new)");
            }
            Device placed = DeviceChoice.resolve(device);
            t.placeOn(placed);
            t.logText(DeviceChoice.matmul(cfg.matmul, placed));
            String header = String.format("pretrain %s (%,d params): %d images from %s, batch %d, %d steps, crops %d + %d×%d, out %s",
                    cfg.model, cfg.vit.parameterCount(), train.size(), dataPath, cfg.batch, cfg.steps, cfg.globalSize, cfg.nLocal, cfg.localSize, out);
            String what = "the teacher's " + (monitor.features() == KnnFeatures.CLS ? "CLS" : "features");
            header += monitor.hasLabels() ? "\nk-NN of " + what + " (" + monitor.describe() + " from " + evalPath + ")"
                    : "\nno labels in " + evalPath + ": evaluations report the " + monitor.describe() + " (effective rank of " + what + ")";
            System.out.println(header);
            t.logText(header);
            FeatureMonitor.Eval before = null;
            if (t.step() == 0) {
                before = t.evaluate();
                report(t, "before training: " + before.describe(), before);
            }
            long evalEveryS = cfg.evalEvery > 0 ? cfg.evalEvery : Long.MAX_VALUE;
            long t0 = System.nanoTime(), startStep = t.step();
            double waitSum = 0, timeSum = 0;
            // startsFrom: a resumed run's speed and ETA count only the steps this process ran
            try (ProgressBar pb = Progress.bar("pretrain", cfg.steps, 500).showSpeed().setUnit(" steps", 1)
                    .startsFrom(t.step(), java.time.Duration.ZERO).build()) {
                while (t.step() < cfg.steps) {
                    SslTrainer.StepMetrics m = t.trainStep();
                    if (OpTimeline.ON && t.step() == startStep + 2) OpTimeline.reset();   // profile the steady state, not JIT warm-up
                    waitSum += m.dataWaitSeconds();
                    timeSum += m.seconds();
                    pb.stepTo(t.step());
                    // "targets H": entropy of the teacher's DINO / iBOT targets; at ln K the head gives no signal
                    pb.setExtraMessage(String.format(" loss %.3f dino g/l %.3f/%.3f ibot %.3f koleo %.3f targets H %.2f/%.2f of %.2f lr %.2e %.1f img/s wait %.0f%%",
                            m.loss(), m.dinoGlobal(), m.dinoLocal(), m.ibot(), m.koleo(), m.dinoTargetEntropy(), m.ibotTargetEntropy(),
                            Math.log(cfg.dinoPrototypes), m.lr(), m.images() / m.seconds(), 100 * waitSum / timeSum));
                    t.logMetrics(SslTrainer.toJson(m, t.imagesSeen(), t.minutesElapsed()));
                    if (t.step() % cfg.checkpointEvery == 0 || t.step() == cfg.steps) t.saveCheckpoint();
                    if (t.step() % evalEveryS == 0 && t.step() < cfg.steps) {
                        FeatureMonitor.Eval e = t.evaluate();
                        report(t, String.format("step %d: %s", t.step(), e.describe()), e);
                    }
                }
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            if (OpTimeline.ON) OpTimeline.printAndReset();   // the training steps' profile, without the evaluation below
            Path exported = t.exportBackbone();
            long imgs = (t.step() - startStep) * cfg.batch;
            String speed = String.format("%d steps, %d images in %.1f s: %.1f images/s (data wait %.1f%%)",
                    t.step() - startStep, imgs, secs, imgs / Math.max(secs, 1e-9), 100 * waitSum / Math.max(timeSum, 1e-9));
            System.out.println(speed);
            t.logText(speed);
            FeatureMonitor.Eval after = t.evaluate();
            report(t, "after training: " + after.describe() + (before == null ? "" : " (before: " + before.describe() + ")"), after);
            System.out.println("checkpoint: " + t.checkpointFile() + "\nexported backbone (official keys): " + exported);
        }
        return 0;
    }

    /** Training images the label-free RankMe evaluation embeds (enough for a stable rank of D ≤ 1024 features). */
    static final int UNLABELLED_EVAL_IMAGES = 2000;

    private static void report(SslTrainer t, String line, FeatureMonitor.Eval e) throws java.io.IOException {
        System.out.println(line);
        t.logText(line);
        JsonObject o = new JsonObject();
        o.addProperty("step", t.step());
        o.addProperty("images_seen", t.imagesSeen());
        o.addProperty("minutes", Math.round(t.minutesElapsed() * 1000) / 1000.0);
        if (!Double.isNaN(e.knnTop1())) o.addProperty("knn_top1", e.knnTop1());
        if (!Double.isNaN(e.effectiveRank())) o.addProperty("rankme", Math.round(e.effectiveRank() * 1000) / 1000.0);
        t.logMetrics(o);
    }

    SslConfig buildConfig() throws java.io.IOException {
        SslConfig c = new SslConfig();
        if (fromWeights != null && model == null) {
            c.vit = Checkpoints.inferVitConfig(Checkpoints.readStateDict(fromWeights));
            c.model = c.vit.name();
        } else if (model != null) {
            c.vit = SslConfig.resolveModel(model);
            c.model = model;
        }
        boolean small = c.vit.patchSize() <= 4;
        c.globalSize = imageSize != null ? imageSize : small ? 32 : 224;
        c.localSize = localSize != null ? localSize : small ? 16 : 96;
        c.nLocal = localCrops != null ? localCrops : small ? 4 : 8;
        // the small-model recipe first, so that every option given on the command line overrides it
        if (small) c.applySmallModelRecipe();
        c.batch = batch != null ? batch : small ? 128 : 32;
        c.steps = steps != null ? steps : 45;
        c.lr = lr;
        c.dropPath = dropPath;
        if (prototypeStd != null) c.prototypeInitStd = prototypeStd;
        if (prototypes != null) {
            if (prototypes < 2) throw new IllegalArgumentException("--prototypes must be at least 2, got " + prototypes);
            c.dinoPrototypes = c.ibotPrototypes = prototypes;
        }
        if (layerScale != null) {
            if (fromWeights != null) throw new IllegalArgumentException("--layerscale sets the init of a new backbone; --from-weights brings its own");
            c.vit = c.vit.withLayerScaleInit(layerScale);
        }
        if (cropScales != null) {
            double[] v = numbers("--crop-scales", cropScales, 3);
            c.globalScaleMin = v[0]; c.localScaleMin = v[1]; c.localScaleMax = v[2];
        }
        if (cropRatio != null) {
            double[] v = numbers("--crop-ratio", cropRatio, 2);
            c.cropRatioMin = v[0]; c.cropRatioMax = v[1];
        }
        if (blurSigma != null) {
            double[] v = numbers("--blur-sigma", blurSigma, 2);
            c.blurSigmaMin = v[0]; c.blurSigmaMax = v[1];
        }
        if (blurP != null) {
            double[] v = numbers("--blur-p", blurP, 3);
            c.blurGlobal1P = v[0]; c.blurGlobal2P = v[1]; c.blurLocalP = v[2];
        }
        if (solarizeP != null) c.solarizeP = solarizeP;
        if (teacherTemp != null) {
            double[] v = numbers("--teacher-temp", teacherTemp, 2);
            c.teacherTempStart = v[0]; c.teacherTemp = v[1];
        }
        if (momentum != null) {
            double[] v = numbers("--momentum", momentum, 2);
            c.momentumStart = v[0]; c.momentumEnd = v[1];
        }
        if (freezeLastLayer != null) c.freezeLastLayerFraction = freezeLastLayer;
        if (koleo != null) c.koleoWeight = koleo;
        c.seed = seed;
        c.workers = workers;
        c.checkpointEvery = checkpointEvery;
        c.evalEvery = evalEvery != null ? evalEvery : 0;
        c.matmul = matmul != null ? DeviceChoice.checkMatmul(matmul) : "auto";
        if (!small) {
            c.dinoHidden = c.ibotHidden = 2048;
            c.dinoBottleneck = c.ibotBottleneck = 256;
            c.dinoPrototypes = c.ibotPrototypes = prototypes != null ? prototypes : 65536;
        }
        return c;
    }

    /** A comma-separated list of exactly {@code n} numbers, the option named on error. */
    static double[] numbers(String option, String v, int n) {
        if (v.split(",").length != n) throw new IllegalArgumentException(option + " takes " + n + " comma-separated numbers, got '" + v + "'");
        return numbers(option, v);
    }

    /** A comma-separated list of numbers, the option named on error. */
    static double[] numbers(String option, String v) {
        String[] p = v.split(",");
        double[] out = new double[p.length];
        for (int i = 0; i < p.length; i++) {
            try {
                out[i] = Double.parseDouble(p[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + ": '" + p[i].trim() + "' is not a number (in '" + v + "')");
            }
        }
        return out;
    }

    /** --eval-images: "REF,QUERY" counts (0 or "all" = every image) or "all". */
    static void setEvalImages(SslConfig cfg, String v) {
        int[] n = evalImages(v);
        cfg.evalTrainImages = n[0];
        cfg.evalTestImages = n[1];
    }

    /** The reference and query counts of an --eval-images value (Integer.MAX_VALUE = every image). */
    static int[] evalImages(String v) {
        String[] p = v.trim().equalsIgnoreCase("all") ? new String[]{"all", "all"} : v.split(",");
        try {
            if (p.length != 2) throw new NumberFormatException();
            int[] n = new int[2];
            for (int i = 0; i < 2; i++) {
                String t = p[i].trim();
                n[i] = t.equalsIgnoreCase("all") ? 0 : Integer.parseInt(t);
                if (n[i] < 0) throw new NumberFormatException();
                if (n[i] == 0) n[i] = Integer.MAX_VALUE;
            }
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--eval-images must be REF,QUERY counts (e.g. 60000,10000) or 'all', got '" + v + "'");
        }
    }
}
