package dino4j.dino.data;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** IDX images (MNIST / Fashion-MNIST) as an {@link ImageDataset}: 1-channel planes replicated to 3 channels. */
public final class IdxDataset implements ImageDataset {
    private final Idx.Images images;
    private final int[] labels;
    private final int channels;
    private final List<String> classNames;

    /** {@code labels} may be null (unlabelled); otherwise one per image. */
    public IdxDataset(Idx.Images images, int[] labels) { this(images, labels, 3); }

    public IdxDataset(Idx.Images images, int[] labels, int channels) {
        if (labels != null && labels.length != images.n())
            throw new IllegalArgumentException(images.n() + " images but " + labels.length + " labels");
        if (channels != 1 && channels != 3) throw new IllegalArgumentException("channels must be 1 or 3, got " + channels);
        this.images = images;
        this.labels = labels;
        this.channels = channels;
        List<String> names = new ArrayList<>();
        if (labels != null) {
            int max = -1;
            for (int l : labels) max = Math.max(max, l);
            for (int i = 0; i <= max; i++) names.add(Integer.toString(i));
        }
        this.classNames = List.copyOf(names);
    }

    /** Reads an image file and (optionally null) label file. */
    public static IdxDataset open(Path imagesFile, Path labelsFile) throws IOException {
        Idx.Images im = Idx.readImages(imagesFile);
        int[] lb = labelsFile == null ? null : Idx.readLabels(labelsFile);
        if (lb != null && lb.length != im.n())
            throw new IOException(labelsFile + ": " + lb.length + " labels but " + imagesFile + " has " + im.n() + " images");
        return new IdxDataset(im, lb);
    }

    public Idx.Images images() { return images; }

    @Override public int size() { return images.n(); }

    @Override public Image get(int index) {
        int p = images.pixelsPerImage();
        float[] src = images.pixels()[index];
        float[] out = new float[channels * p];
        for (int k = 0; k < channels; k++) System.arraycopy(src, 0, out, k * p, p);
        return new Image(out, channels, images.rows(), images.cols());
    }

    @Override public int label(int index) { return labels == null ? -1 : labels[index]; }

    @Override public List<String> classNames() { return classNames; }
}
