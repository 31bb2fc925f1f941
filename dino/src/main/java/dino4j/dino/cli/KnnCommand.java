package dino4j.dino.cli;

import dino4j.dino.eval.KnnFeatures;
import dino4j.dino.features.Preprocess;
import dino4j.dino.ssl.KnnMonitor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code dino4j knn}: the k-NN accuracy of a checkpoint's features on labelled data (DINO protocol, spec §6.1). */
@Command(name = "knn", mixinStandardHelpOptions = true, description = {"k-NN classification accuracy of a backbone's features on labelled data (weighted",
        "k-NN, cosine similarity, DINO protocol). The weights may be an official or Hugging Face checkpoint, an",
        "exported backbone or a pretrain checkpoint (its teacher is evaluated)."})
final class KnnCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, description = "checkpoint: official .pth, .safetensors, a Hugging Face folder, or runs/X/checkpoints/last.safetensors")
    Path weights;
    @Option(names = "--model", description = "architecture preset; inferred from the keys when omitted")
    String model;
    @Option(names = "--data", description = "labelled data: a folder with IDX train/t10k files, or with train/ and val/ (or test/) class folders (default: the bundled Fashion-MNIST subset)")
    Path data;
    @Option(names = "--size", description = "images are resized to this square side (default: 8 patches for patch size 4, else 224)")
    Integer size;
    @Option(names = "--eval-images", paramLabel = "REF,QUERY", description = "reference and query image counts, or 'all' (default: ${DEFAULT-VALUE})")
    String evalImages = "all";
    @Option(names = "--features", paramLabel = "F", description = "cls (the DINO protocol), patch-mean or cls+patch-mean (default: ${DEFAULT-VALUE})")
    String features = "cls";
    @Option(names = "--k", description = "neighbours (default: ${DEFAULT-VALUE})") int k = 20;
    @Option(names = "--temperature", description = "vote temperature T, weights exp(sim / T) (default: ${DEFAULT-VALUE})") double temperature = 0.07;
    @Option(names = "--mean-std", defaultValue = "lvd", description = "normalisation: lvd (ImageNet values, as in pretrain) or sat. Default: ${DEFAULT-VALUE}")
    String meanStd;
    @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda. Default: ${DEFAULT-VALUE}") String device;

    @Override public Integer call() throws Exception {
        KnnFeatures f = KnnFeatures.parse("--features", features);   // option errors before any heavy work
        Preprocess.MeanStd ms = Preprocess.MeanStd.parse(meanStd);
        if (k < 1) throw new IllegalArgumentException("--k must be at least 1, got " + k);
        if (!(temperature > 0)) throw new IllegalArgumentException("--temperature must be positive, got " + temperature);
        int[] counts = PretrainCommand.evalImages(evalImages);
        ProbeTarget t = ProbeTarget.open(weights, model, data, size, device);
        long t0 = System.nanoTime();
        KnnMonitor knn = new KnnMonitor(t.labelled().train(), t.labelled().test(), counts[0], counts[1], t.side(),
                ms.mean(), ms.std(), k, temperature, f);
        double acc = knn.evaluate(t.backbone());
        System.out.println(String.format(Locale.ROOT, "k-NN top-1 %.2f %% (%s; %s, %d px, from %s) in %.1f s",
                100 * acc, knn.describe(), t.backbone().describe(), t.side(), t.dataPath(), (System.nanoTime() - t0) / 1e9));
        return 0;
    }
}
