package dino4j.dino.cli;

import dino4j.dino.data.DatasetPaths;
import dino4j.dino.model.Backbone;
import dino4j.dino.model.Checkpoints;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** What the k-NN and linear probes of a checkpoint share: its backbone on the chosen device, the labelled data, the image side. */
record ProbeTarget(Backbone backbone, Path dataPath, DatasetPaths.Labelled labelled, int side) {
    static ProbeTarget open(Path weights, String model, Path data, Integer size, String device) throws IOException {
        if (!Files.exists(weights)) throw new java.io.FileNotFoundException("--weights " + weights + ": no such file or folder");
        Path dataPath = data != null ? data : DatasetPaths.bundledFashion();
        DatasetPaths.Labelled labelled = DatasetPaths.openLabelled(dataPath);
        if (labelled == null)
            throw new IllegalArgumentException("--data " + dataPath + " has no labels (need IDX train/t10k image and label files, or train/ and val/ class folders)");
        Backbone backbone = Checkpoints.loadBackbone(weights, model);
        int side = size != null ? size : backbone.patchSize() <= 4 ? 8 * backbone.patchSize() : 224;
        if (side % backbone.patchSize() != 0)
            throw new IllegalArgumentException("--size " + side + " must be a multiple of the patch size " + backbone.patchSize());
        DeviceChoice.place(backbone, device);
        return new ProbeTarget(backbone, dataPath, labelled, side);
    }
}
