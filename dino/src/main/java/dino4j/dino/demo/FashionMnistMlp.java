package dino4j.dino.demo;

import dino4j.autograd.F;
import dino4j.autograd.Grad;
import dino4j.autograd.Var;
import dino4j.dino.data.Idx;
import dino4j.dino.data.Progress;
import dino4j.nn.Linear;
import dino4j.nn.Module;
import dino4j.nn.optim.AdamW;
import dino4j.nn.optim.ParamGroups;
import dino4j.nn.optim.Schedules;
import dino4j.tensor.Tensor;
import me.tongfei.progressbar.ProgressBar;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * Supervised Fashion-MNIST with a 2-layer GELU MLP: the smallest end-to-end proof that dino4j's tensors,
 * autograd, kernels and AdamW learn. Used by {@code ./dino4j fashion} and by the learning test.
 */
public final class FashionMnistMlp {
    private FashionMnistMlp() {}

    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    public record Options(Path dataDir, int epochs, int batch, int hidden, double lr, double weightDecay, long seed, boolean progress) {
        public static Options defaults() { return new Options(DEFAULT_DIR, 3, 128, 256, 1e-3, 1e-4, 0, false); }
    }

    public record Result(double testAccuracy, double seconds, double imagesPerSecond, double finalLoss) {}

    static final class Mlp extends Module {
        final Linear fc1, fc2;

        Mlp(int in, int hidden, int classes, Random rng) {
            fc1 = registerModule("fc1", new Linear(in, hidden, true, rng));
            fc2 = registerModule("fc2", new Linear(hidden, classes, true, rng));
        }

        @Override public Var forward(Var x) { return fc2.forward(F.gelu(fc1.forward(x))); }
    }

    /** True when the four IDX files are present in {@code dir}. */
    public static boolean available(Path dir) {
        return Files.exists(dir.resolve("train-images-idx3-ubyte.gz")) && Files.exists(dir.resolve("t10k-images-idx3-ubyte.gz"));
    }

    public static Result train(Options o) throws IOException {
        if (!available(o.dataDir()))
            throw new IOException("Fashion-MNIST not found in " + o.dataDir() + " (install Debian's dataset-fashion-mnist, or pass --data DIR)");
        Idx.Images train = Idx.readImages(o.dataDir().resolve("train-images-idx3-ubyte.gz"));
        int[] trainLabels = Idx.readLabels(o.dataDir().resolve("train-labels-idx1-ubyte.gz"));
        Idx.Images test = Idx.readImages(o.dataDir().resolve("t10k-images-idx3-ubyte.gz"));
        int[] testLabels = Idx.readLabels(o.dataDir().resolve("t10k-labels-idx1-ubyte.gz"));

        standardize(train, test);
        Random rng = new Random(o.seed());
        Mlp model = new Mlp(train.pixelsPerImage(), o.hidden(), 10, rng);
        // torch-style groups: decoupled weight decay on weights, none on biases (the DINOv3 name rules, lr multipliers 1)
        AdamW opt = new AdamW(ParamGroups.dinov3(model, 1.0, 0, 1.0));
        int stepsPerEpoch = train.n() / o.batch();
        int total = stepsPerEpoch * o.epochs();
        double[] lr = Schedules.warmupCosine(o.lr(), o.lr() * 0.01, Math.min(100, total / 10), total);

        long t0 = System.nanoTime();
        double loss = Double.NaN;
        int[] order = new int[train.n()];
        for (int i = 0; i < order.length; i++) order[i] = i;
        try (ProgressBar pb = o.progress() ? Progress.bar("fashion", total, 250).build() : null) {
            int step = 0;
            for (int epoch = 0; epoch < o.epochs(); epoch++) {
                shuffle(order, rng);
                for (int s = 0; s < stepsPerEpoch; s++, step++) {
                    int[] idx = java.util.Arrays.copyOfRange(order, s * o.batch(), (s + 1) * o.batch());
                    int[] y = new int[idx.length];
                    for (int i = 0; i < idx.length; i++) y[i] = trainLabels[idx[i]];
                    Var logits = model.forward(Var.constant(train.gather(idx)));
                    Var l = F.crossEntropy(logits, y);
                    model.zeroGrad();
                    l.backward();
                    opt.step(lr[step], o.weightDecay());
                    loss = l.data().item();
                    if (pb != null) {
                        pb.step();
                        pb.setExtraMessage(String.format("epoch %d loss %.4f", epoch + 1, loss));
                    }
                }
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new Result(accuracy(model, test, testLabels), seconds, (double) total * o.batch() / seconds, loss);
    }

    static double accuracy(Mlp model, Idx.Images images, int[] labels) {
        int correct = 0, bs = 1000;
        try (var g = Grad.noGrad()) {
            for (int from = 0; from < images.n(); from += bs) {
                int to = Math.min(images.n(), from + bs);
                Tensor logits = model.forward(Var.constant(images.rows(from, to))).data();
                for (int i = 0; i < to - from; i++) {
                    int best = 0;
                    for (int c = 1; c < 10; c++) if (logits.get(i, c) > logits.get(i, best)) best = c;
                    if (best == labels[from + i]) correct++;
                }
            }
        }
        return (double) correct / images.n();
    }

    /** (x − mean) / std with the training set's pixel statistics, applied to both sets in place. */
    static void standardize(Idx.Images train, Idx.Images test) {
        double s = 0, ss = 0;
        for (float[] img : train.pixels()) for (float v : img) { s += v; ss += (double) v * v; }
        double cnt = (double) train.n() * train.pixelsPerImage(), mean = s / cnt, std = Math.sqrt(ss / cnt - mean * mean);
        for (Idx.Images set : new Idx.Images[]{train, test})
            for (float[] img : set.pixels()) for (int j = 0; j < img.length; j++) img[j] = (float) ((img[j] - mean) / std);
    }

    private static void shuffle(int[] a, Random rng) {
        for (int i = a.length - 1; i > 0; i--) {
            int j = rng.nextInt(i + 1);
            int t = a[i]; a[i] = a[j]; a[j] = t;
        }
    }
}
