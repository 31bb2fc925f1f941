package dino4j.dino.cli;

import dino4j.dino.data.Progress;
import dino4j.dino.eval.KnnFeatures;
import dino4j.dino.eval.LinearProbe;
import dino4j.dino.eval.ProbeImages;
import dino4j.tensor.Tensor;
import dino4j.tensor.io.Safetensors;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code dino4j linear}: the linear-probe accuracy of a checkpoint's frozen features on labelled data (spec §6). */
@Command(name = "linear", mixinStandardHelpOptions = true, description = {"Linear-probe accuracy of a backbone's frozen features on labelled data: a softmax",
        "classifier on standardised features, lr and weight decay chosen on a held-out part of the reference images,",
        "then trained on all of them and scored on the query images. Weights as for knn."})
final class LinearCommand implements Callable<Integer> {
    @Mixin ProbeTarget.Options probe;
    @Option(names = "--features", paramLabel = "F", description = "cls, patch-mean or cls+patch-mean (default: ${DEFAULT-VALUE}, what DINOv3's linear heads read)")
    String features = "cls+patch-mean";
    @Option(names = "--epochs", description = "epochs of each training (default: ${DEFAULT-VALUE})") int epochs = 30;
    @Option(names = "--batch", description = "rows per step (default: ${DEFAULT-VALUE})") int batch = 256;
    @Option(names = "--lr", paramLabel = "LR[,LR...]", description = "AdamW peak learning rates to try (default: ${DEFAULT-VALUE})") String lrs = "0.001,0.003,0.01,0.03";
    @Option(names = "--wd", paramLabel = "WD[,WD...]", description = "weight decays to try (default: ${DEFAULT-VALUE})") String wds = "0,0.01";
    @Option(names = "--val-fraction", description = "part of the reference images held out to choose lr and weight decay (default: ${DEFAULT-VALUE})") double valFraction = 0.1;
    @Option(names = "--seed", description = "seed of the split, the initialisation and the shuffles (default: ${DEFAULT-VALUE})") long seed = 0;
    @Option(names = "--out", paramLabel = "FILE.safetensors", description = "also write the classifier: weight [C, D], bias [C], feature_mean and feature_std [D] (the standardisation it expects)")
    Path out;

    @Override public Integer call() throws Exception {
        KnnFeatures f = KnnFeatures.parse("--features", features);   // option errors before any heavy work
        double[] lr = PretrainCommand.numbers("--lr", lrs), wd = PretrainCommand.numbers("--wd", wds);
        if (epochs < 1) throw new IllegalArgumentException("--epochs must be at least 1, got " + epochs);
        if (batch < 1) throw new IllegalArgumentException("--batch must be at least 1, got " + batch);
        for (double v : lr) if (!(v > 0)) throw new IllegalArgumentException("--lr values must be positive, got '" + lrs + "'");
        for (double v : wd) if (!(v >= 0)) throw new IllegalArgumentException("--wd values must be >= 0, got '" + wds + "'");
        if (!(valFraction > 0 && valFraction < 1)) throw new IllegalArgumentException("--val-fraction must be between 0 and 1, got " + valFraction);
        LinearProbe.Options o = new LinearProbe.Options(epochs, batch, lr, wd, valFraction, seed);
        if (out != null && !out.getFileName().toString().endsWith(".safetensors"))
            throw new IllegalArgumentException("--out " + out + " must end in .safetensors");
        ProbeTarget t = probe.open();
        long t0 = System.nanoTime();
        ProbeImages images = new ProbeImages(t.labelled().train(), t.labelled().test(), t.counts()[0], t.counts()[1], t.side(),
                t.meanStd().mean(), t.meanStd().std());
        Tensor tr = images.embedTrain(t.backbone(), f), te = images.embedTest(t.backbone(), f);
        double embedSeconds = (System.nanoTime() - t0) / 1e9;
        LinearProbe.Result r;
        try (ProgressBar pb = Progress.bar("linear", LinearProbe.totalSteps(images.trainCount(), o), 250).build()) {
            r = LinearProbe.fit(tr, images.trainLabels(), te, images.testLabels(), o, pb::stepBy);
        }
        for (LinearProbe.Trial trial : r.trials())
            System.out.println(String.format(Locale.ROOT, "  lr %s, weight decay %s: %.2f %% on the held-out %.0f %% of the reference images",
                    plain(trial.lr()), plain(trial.weightDecay()), 100 * trial.valAccuracy(), 100 * valFraction));
        System.out.println(String.format(Locale.ROOT, "linear top-1 %.2f %% (features %s, %d wide; lr %s, weight decay %s, %d epochs; "
                        + "%d reference / %d query images; %s, %d px, from %s) in %.1f s (%.1f s embedding)",
                100 * r.testAccuracy(), f.cliName, tr.size(1), plain(r.lr()), plain(r.weightDecay()), epochs, images.trainCount(), images.testCount(),
                t.backbone().describe(), t.side(), t.dataPath(), (System.nanoTime() - t0) / 1e9, embedSeconds));
        if (out != null) {
            Safetensors.write(out, r.stateDict(), Map.of("format", "dino4j linear probe", "features", f.cliName,
                    "backbone", t.backbone().describe(), "weights", probe.weights.toString(), "image_size", Integer.toString(t.side()),
                    "mean_std", t.meanStd().name(), "lr", plain(r.lr()), "weight_decay", plain(r.weightDecay()),
                    "top1", String.format(Locale.ROOT, "%.4f", r.testAccuracy())));
            System.out.println("classifier written to " + out);
        }
        return 0;
    }

    /** 0.01, not 0.0100000 or 1.0E-2. */
    private static String plain(double v) { return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString(); }
}
