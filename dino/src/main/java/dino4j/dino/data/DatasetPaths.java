package dino4j.dino.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Turns a --data / --eval-data path into datasets: IDX files (Fashion-MNIST, MNIST) or image folders. */
public final class DatasetPaths {
    private DatasetPaths() {}

    /** A labelled train/test pair for k-NN evaluation. */
    public record Labelled(ImageDataset train, ImageDataset test) {}

    /** The Fashion-MNIST subset that ships in the repository (dino/data/fashion-mnist-8k). */
    public static Path bundledFashion() {
        String home = System.getProperty("dino4j.home");
        for (Path root : new Path[]{home == null ? null : Path.of(home), Path.of("."), Path.of("..")}) {
            if (root == null) continue;
            Path p = root.resolve("dino").resolve("data").resolve("fashion-mnist-8k");
            if (Files.isDirectory(p)) return p;
        }
        throw new IllegalStateException("the bundled Fashion-MNIST subset (dino/data/fashion-mnist-8k) was not found; pass --data");
    }

    private static Path idx(Path dir, String prefix, String kind) {
        for (String n : new String[]{prefix + "-" + kind + "-ubyte.gz", prefix + "-" + kind + "-ubyte", prefix + "-" + kind.replace('-', '.') + "-ubyte"}) {
            Path p = dir.resolve(n);
            if (Files.exists(p)) return p;
        }
        return null;
    }

    /** Training images: a folder with IDX train files, an IDX images file, or an image folder (recursive). */
    public static ImageDataset openTrain(Path path) throws IOException {
        if (!Files.exists(path)) throw new IOException(path + ": no such file or folder (--data)");
        if (Files.isDirectory(path)) {
            Path img = idx(path, "train", "images-idx3");
            if (img != null) return IdxDataset.open(img, idx(path, "train", "labels-idx1"));
            return ImageFolderDataset.open(path);
        }
        String n = path.getFileName().toString();
        if (n.contains("idx3")) return IdxDataset.open(path, null);
        throw new IOException(path + ": --data must be a folder of images or an IDX images file (…-images-idx3-ubyte[.gz])");
    }

    /** A labelled train/test pair, or null when the path has no labels. */
    public static Labelled openLabelled(Path path) throws IOException {
        if (!Files.isDirectory(path)) return null;
        Path trI = idx(path, "train", "images-idx3"), trL = idx(path, "train", "labels-idx1");
        Path teI = idx(path, "t10k", "images-idx3"), teL = idx(path, "t10k", "labels-idx1");
        if (trI != null && trL != null && teI != null && teL != null)
            return new Labelled(IdxDataset.open(trI, trL), IdxDataset.open(teI, teL));
        Path tr = path.resolve("train"), va = Files.isDirectory(path.resolve("val")) ? path.resolve("val") : path.resolve("test");
        if (Files.isDirectory(tr) && Files.isDirectory(va)) {
            ImageFolderDataset a = ImageFolderDataset.open(tr), b = ImageFolderDataset.open(va);
            if (a.hasLabels() && b.hasLabels()) return new Labelled(a, b);
        }
        return null;
    }
}
