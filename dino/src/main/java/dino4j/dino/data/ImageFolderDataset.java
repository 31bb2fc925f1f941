package dino4j.dino.data;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.IndexColorModel;
import java.awt.image.Raster;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * A folder of images (PNG, JPEG, BMP, GIF; searched recursively), read with {@code javax.imageio}.
 * <ul>
 *   <li>Order: files sorted by their path relative to the root (components compared as strings), so
 *       the same tree gives the same indices everywhere.</li>
 *   <li>Labels: when every image lies inside a sub-folder of the root (ImageFolder layout
 *       {@code root/<class>/.../img.png}), the first path component is the class, classes sorted by
 *       name and numbered from 0; otherwise the dataset is unlabelled (label −1).</li>
 *   <li>Pixels: decoded lazily on {@link #get}; grey-level images (8/16-bit) read from the raster and
 *       replicated to 3 channels, everything else via sRGB {@code getRGB} (alpha dropped, like PIL
 *       {@code convert("RGB")}); values scaled to [0, 1].</li>
 *   <li>Errors name the file: an unreadable/corrupt/unsupported file throws {@link UncheckedIOException}
 *       from {@link #get}; {@link #verify()} decodes everything up front.</li>
 * </ul>
 */
public final class ImageFolderDataset implements ImageDataset {
    public static final List<String> EXTENSIONS = List.of("png", "jpg", "jpeg", "bmp", "gif");

    private final Path root;
    private final List<Path> files;
    private final int[] labels;
    private final List<String> classNames;

    private ImageFolderDataset(Path root, List<Path> files, int[] labels, List<String> classNames) {
        this.root = root;
        this.files = files;
        this.labels = labels;
        this.classNames = classNames;
    }

    /** Scans {@code root} recursively for image files (by extension, case-insensitive). */
    public static ImageFolderDataset open(Path root) throws IOException {
        if (!Files.isDirectory(root)) throw new IOException(root + ": not a directory");
        List<Path> rel = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(Files::isRegularFile).filter(ImageFolderDataset::isImageName).forEach(p -> rel.add(root.relativize(p)));
        }
        if (rel.isEmpty()) throw new IOException(root + ": no image files (" + String.join("/", EXTENSIONS) + ") found");
        rel.sort(ImageFolderDataset::comparePaths);
        boolean allNested = rel.stream().allMatch(p -> p.getNameCount() > 1);
        int[] labels = new int[rel.size()];
        List<String> names = List.of();
        if (allNested) {
            Map<String, Integer> idx = new TreeMap<>();
            for (Path p : rel) idx.put(p.getName(0).toString(), 0);
            int k = 0;
            for (var e : idx.entrySet()) e.setValue(k++);
            names = List.copyOf(idx.keySet());
            for (int i = 0; i < rel.size(); i++) labels[i] = idx.get(rel.get(i).getName(0).toString());
        } else {
            java.util.Arrays.fill(labels, -1);
        }
        List<Path> abs = new ArrayList<>(rel.size());
        for (Path p : rel) abs.add(root.resolve(p));
        return new ImageFolderDataset(root, List.copyOf(abs), labels, names);
    }

    private static boolean isImageName(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot >= 0 && EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private static int comparePaths(Path a, Path b) {
        int n = Math.min(a.getNameCount(), b.getNameCount());
        for (int i = 0; i < n; i++) {
            int c = a.getName(i).toString().compareTo(b.getName(i).toString());
            if (c != 0) return c;
        }
        return Integer.compare(a.getNameCount(), b.getNameCount());
    }

    public Path root() { return root; }

    public List<Path> files() { return files; }

    public Path file(int index) { return files.get(index); }

    @Override public int size() { return files.size(); }

    @Override public int label(int index) { return labels[index]; }

    @Override public List<String> classNames() { return classNames; }

    @Override public Image get(int index) {
        try {
            return read(files.get(index));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes every file; throws naming the first unreadable one. */
    public void verify() throws IOException {
        for (Path p : files) read(p);
    }

    /** Reads one image file as 3-channel float CHW in [0, 1]; the exception message names the file. */
    public static Image read(Path file) throws IOException {
        BufferedImage bi;
        try (InputStream in = Files.newInputStream(file)) {
            bi = ImageIO.read(in);
        } catch (IOException | RuntimeException e) {
            throw new IOException(file + ": cannot decode image: " + e, e);
        }
        if (bi == null) throw new IOException(file + ": not a readable image (no ImageIO decoder accepted it; corrupt or unsupported format)");
        try {
            return toImage(bi);
        } catch (RuntimeException e) {
            throw new IOException(file + ": cannot convert decoded image: " + e, e);
        }
    }

    /** BufferedImage → 3-channel float CHW in [0, 1]. */
    public static Image toImage(BufferedImage bi) {
        int h = bi.getHeight(), w = bi.getWidth(), p = h * w;
        float[] out = new float[3 * p];
        ColorModel cm = bi.getColorModel();
        Raster r = bi.getRaster();
        if (!(cm instanceof IndexColorModel) && cm.getNumColorComponents() == 1 && r.getNumBands() >= 1) {
            // grey level: raw samples (getRGB would apply a linear-grey → sRGB gamma conversion)
            int bits = cm.getComponentSize(0);
            double scale = 1.0 / ((1L << bits) - 1);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++) out[y * w + x] = (float) (r.getSample(x, y, 0) * scale);
            System.arraycopy(out, 0, out, p, p);
            System.arraycopy(out, 0, out, 2 * p, p);
        } else {
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                bi.getRGB(0, y, w, 1, row, 0, w);
                for (int x = 0; x < w; x++) {
                    int v = row[x], i = y * w + x;
                    out[i] = ((v >> 16) & 0xff) / 255f;
                    out[p + i] = ((v >> 8) & 0xff) / 255f;
                    out[2 * p + i] = (v & 0xff) / 255f;
                }
            }
        }
        return new Image(out, 3, h, w);
    }
}
