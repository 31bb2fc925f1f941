package dino4j.dino.cli;

import dino4j.dino.eval.Knn;
import dino4j.dino.eval.KnnFeatures;
import dino4j.dino.ssl.FeatureMonitor;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code dino4j knn}: the k-NN accuracy of a checkpoint's features on labelled data (DINO protocol, spec §6.1). */
@Command(name = "knn", mixinStandardHelpOptions = true, description = {"k-NN classification accuracy of a backbone's features on labelled data (weighted",
        "k-NN, cosine similarity, DINO protocol). The weights may be an official or Hugging Face checkpoint, an",
        "exported backbone or a pretrain checkpoint (its teacher is evaluated)."})
final class KnnCommand implements Callable<Integer> {
    @Mixin ProbeTarget.Options probe;
    @Option(names = "--features", paramLabel = "F", description = "cls (the DINO protocol), patch-mean or cls+patch-mean (default: ${DEFAULT-VALUE})")
    String features = "cls";
    @Option(names = "--k", description = "neighbours (default: ${DEFAULT-VALUE})") int k = 20;
    @Option(names = "--temperature", description = "vote temperature T, weights exp(sim / T) (default: ${DEFAULT-VALUE})") double temperature = 0.07;
    @Option(names = "--per-class", description = "also print each class's accuracy and the class its queries are most often taken for") boolean perClass;
    @Option(names = "--center", description = "subtract the reference images' mean feature from every vector before the cosine (not DINO's protocol)") boolean center;

    @Override public Integer call() throws Exception {
        KnnFeatures f = KnnFeatures.parse("--features", features);   // option errors before any heavy work
        if (k < 1) throw new IllegalArgumentException("--k must be at least 1, got " + k);
        if (!(temperature > 0)) throw new IllegalArgumentException("--temperature must be positive, got " + temperature);
        Knn.Protocol protocol = new Knn.Protocol(k, temperature, center);
        ProbeTarget t = probe.open();
        long t0 = System.nanoTime();
        FeatureMonitor knn = FeatureMonitor.knn(t.labelled().train(), t.labelled().test(), t.counts()[0], t.counts()[1], t.side(),
                t.meanStd().mean(), t.meanStd().std(), protocol, f);
        FeatureMonitor.Eval e = knn.evaluate(t.backbone());
        System.out.println(String.format(Locale.ROOT, "k-NN top-1 %.2f %% (%s; %s, %d px, from %s) in %.1f s; features' %s",
                100 * e.knnTop1(), knn.describe(), t.backbone().describe(), t.side(), t.dataPath(), (System.nanoTime() - t0) / 1e9,
                e.rankText()));
        if (perClass) System.out.print(perClassTable(e.knn(), t.labelled().test().classNames()));
        return 0;
    }

    /** One line per class: its query count, its accuracy and the wrong class its queries go to most often. */
    static String perClassTable(Knn.Result r, java.util.List<String> names) {
        StringBuilder sb = new StringBuilder("class               queries   k-NN top-1   most often taken for\n");
        for (int c = 0; c < r.classes(); c++) {
            int n = r.queries(c);
            if (n == 0) continue;
            int w = r.mostConfusedWith(c);
            String wrong = w < 0 ? "-" : String.format(Locale.ROOT, "%s (%.1f %%)", name(names, w), 100.0 * r.confusion()[c][w] / n);
            sb.append(String.format(Locale.ROOT, "%-18s %8d %10.2f %%   %s%n", name(names, c), n, 100 * r.classAccuracy(c), wrong));
        }
        return sb.toString();
    }

    private static String name(java.util.List<String> names, int c) {
        return c < names.size() && !names.get(c).equals(Integer.toString(c)) ? c + " " + names.get(c) : Integer.toString(c);
    }
}
