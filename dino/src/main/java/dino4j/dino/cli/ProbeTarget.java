package dino4j.dino.cli;

import dino4j.dino.data.DatasetPaths;
import dino4j.dino.eval.PixelBaseline;
import dino4j.dino.features.Preprocess;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Checkpoints;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the k-NN and linear probes of a checkpoint share: its backbone on the chosen device, the labelled data, the image side. */
record ProbeTarget(Backbone backbone, Path dataPath, DatasetPaths.Labelled labelled, int side, Preprocess.MeanStd meanStd, int[] counts) {

    /** The --weights value that selects the raw-pixel baseline. */
    static final String PIXELS = "pixels";
    /** What the pixel baseline's images get instead of --mean-std: nothing, so its features are the pixels in [0, 1]. */
    static final Preprocess.MeanStd RAW = new Preprocess.MeanStd("none", new float[]{0, 0, 0}, new float[]{1, 1, 1});

    /** The probe commands' common options (a picocli mixin). */
    static final class Options {
        @Option(names = "--weights", required = true, description = "checkpoint: official .pth, .safetensors, a Hugging Face folder, or runs/X/checkpoints/last.safetensors; "
                + "or 'pixels': the raw pixels as features, the baseline a backbone should beat (at the data's own size unless --size)")
        Path weights;
        @Option(names = "--model", description = "architecture preset; inferred from the keys when omitted")
        String model;
        @Option(names = "--data", description = "labelled data: a folder with IDX train/t10k files, or with train/ and val/ (or test/) class folders (default: the bundled Fashion-MNIST subset)")
        Path data;
        @Option(names = "--size", description = "images are resized to this square side (default: 8 patches for patch size 4, else 224; pixels: the data's size)")
        Integer size;
        @Option(names = "--eval-images", paramLabel = "REF,QUERY", description = "reference and query image counts, or 'all' (default: ${DEFAULT-VALUE})")
        String evalImages = "all";
        @Option(names = "--mean-std", defaultValue = "lvd", description = "normalisation: lvd (ImageNet values, as in pretrain) or sat. Default: ${DEFAULT-VALUE}")
        String meanStd;
        @Option(names = "--device", defaultValue = "auto", description = "auto, cpu or cuda. Default: ${DEFAULT-VALUE}") String device;

        /** Checks the options, loads the backbone and places it on the device; errors name the option or file. */
        ProbeTarget open() throws IOException {
            Preprocess.MeanStd ms = Preprocess.MeanStd.parse(meanStd);
            int[] counts = PretrainCommand.evalImages(evalImages);
            boolean pixels = weights.toString().equals(PIXELS);
            if (pixels && model != null) throw new IllegalArgumentException("--model does not apply to --weights " + PIXELS);
            if (!pixels && !Files.exists(weights)) throw new java.io.FileNotFoundException("--weights " + weights + ": no such file or folder");
            Path dataPath = data != null ? data : DatasetPaths.bundledFashion();
            DatasetPaths.Labelled labelled = DatasetPaths.openLabelled(dataPath);
            if (labelled == null)
                throw new IllegalArgumentException("--data " + dataPath + " has no labels (need IDX train/t10k image and label files, or train/ and val/ class folders)");
            if (pixels) {
                int side = size != null ? size : nativeSide(labelled, dataPath);
                if (side < 1) throw new IllegalArgumentException("--size must be positive, got " + side);
                return new ProbeTarget(new PixelBaseline(side), dataPath, labelled, side, RAW, counts);
            }
            Backbone backbone = Checkpoints.loadBackbone(weights, model);
            int side = size != null ? size : backbone.patchSize() <= 4 ? 8 * backbone.patchSize() : 224;
            if (side % backbone.patchSize() != 0)
                throw new IllegalArgumentException("--size " + side + " must be a multiple of the patch size " + backbone.patchSize());
            DeviceChoice.place(backbone, device);
            return new ProbeTarget(backbone, dataPath, labelled, side, ms, counts);
        }

        /** The side of the first reference image, when it is square; otherwise --size is needed. */
        private static int nativeSide(DatasetPaths.Labelled labelled, Path dataPath) {
            var img = labelled.train().get(0);
            if (img.h() != img.w())
                throw new IllegalArgumentException("--weights " + PIXELS + ": the images of " + dataPath + " are not square (" + img.w() + "×" + img.h()
                        + "); give --size");
            return img.h();
        }
    }
}
