package dino4j.dino.cli;

import dino4j.dino.data.Image;
import dino4j.dino.data.ImageFolderDataset;
import dino4j.dino.features.FeatureImages;
import dino4j.dino.features.PcaMap;
import dino4j.dino.features.Preprocess;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Checkpoints;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code dino4j pca}: the §7 PCA picture of an image's dense features, optionally with a query-patch similarity map. */
@Command(name = "pca", mixinStandardHelpOptions = true, description = "PCA map of dense DINOv3 features (3 whitened components, RGB = sigmoid(2*projection)): writes a PNG with the resized image on the left and the map on the right; --query X,Y adds the cosine-similarity map of that patch.")
final class PcaCommand implements Callable<Integer> {
    @Option(names = "--weights", required = true, description = "checkpoint: official .pth, .safetensors or a Hugging Face folder")
    Path weights;
    @Option(names = "--model", description = "architecture preset; inferred from the keys when omitted")
    String model;
    @Option(names = "--out", defaultValue = "pca.png", description = "output PNG. Default: ${DEFAULT-VALUE}")
    Path out;
    @Option(names = "--height", defaultValue = "448", description = "resized height, a multiple of the patch size; width proportional, "
            + "rounded down to a multiple. Default: ${DEFAULT-VALUE}")
    int height;
    @Option(names = "--fg-threshold", description = "fit the PCA on foreground patches only: first PC (min-max scaled to [0,1]) > T, e.g. 0.5")
    Double fgThreshold;
    @Option(names = "--fg-invert", description = "with --fg-threshold: take the other side of the first PC as foreground")
    boolean fgInvert;
    @Option(names = "--query", description = "X,Y pixel in the original image: add its patch's cosine-similarity map")
    String query;
    @Option(names = "--device", defaultValue = "auto", description = "auto (the GPU when CUDA and our kernels are there), cpu or cuda. Default: ${DEFAULT-VALUE}")
    String device;

    @Option(names = "--mean-std", defaultValue = "lvd", description = "normalisation: lvd or sat. Default: ${DEFAULT-VALUE}")
    String meanStd;
    @Parameters(index = "0", paramLabel = "IMAGE")
    Path image;

    @Override public Integer call() throws Exception {
        int[] q = query == null ? null : parseQuery(query);
        Preprocess.MeanStd ms = Preprocess.MeanStd.parse(meanStd);
        if (!Files.exists(weights)) throw new java.io.FileNotFoundException("weights not found: " + weights);
        if (!Files.isRegularFile(image)) throw new java.io.FileNotFoundException("image not found: " + image);
        Image img = ImageFolderDataset.read(image);
        Backbone backbone = Checkpoints.loadBackbone(weights, model);
        DeviceChoice.place(backbone, device);
        long t0 = System.nanoTime();
        PcaMap.Result r;
        try {
            r = PcaMap.compute(backbone, img, new PcaMap.Options(height, ms, fgThreshold, fgInvert, q));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(image + ": " + e.getMessage(), e);
        }
        var pic = PcaMap.render(r);
        FeatureImages.writePng(pic, out);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.println(String.format(Locale.ROOT, "pca %s: %dx%d -> %dx%d, %dx%d patches (%d foreground), PC variances %.3g/%.3g/%.3g%s; %.2f s -> %s (%dx%d)",
                image, img.w(), img.h(), r.image().w(), r.image().h(), r.gridW(), r.gridH(), r.foreground(),
                r.variances()[0], r.variances()[1], r.variances()[2],
                q == null ? "" : String.format(Locale.ROOT, ", query (%d,%d) -> patch (%d,%d)", q[0], q[1], r.queryPatch() % r.gridW(), r.queryPatch() / r.gridW()),
                s, out, pic.getWidth(), pic.getHeight()));
        return 0;
    }

    static int[] parseQuery(String s) {
        String[] p = s.split(",");
        try {
            if (p.length == 2) return new int[]{Integer.parseInt(p[0].trim()), Integer.parseInt(p[1].trim())};
        } catch (NumberFormatException ignored) {}
        throw new IllegalArgumentException("--query must be X,Y (integer pixel coordinates in the original image), got '" + s + "'");
    }
}
