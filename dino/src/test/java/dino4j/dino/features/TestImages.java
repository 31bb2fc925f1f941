package dino4j.dino.features;

import dino4j.dino.data.Image;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Synthetic test pictures and the golden weights' location. */
public final class TestImages {
    private TestImages() {}

    public static Path golden(String name) {
        Path p = Path.of(System.getProperty("dino4j.shared", "../shared"), "golden", name);
        return Files.exists(p) ? p : Path.of("/work/shared/golden", name);
    }

    /** A w×h picture with a smooth gradient and a bright square, so features vary over the image. */
    public static BufferedImage picture(int w, int h, int seed) {
        BufferedImage bi = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(seed);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++) {
                boolean sq = x > w / 3 && x < 2 * w / 3 && y > h / 3 && y < 2 * h / 3;
                int red = sq ? 240 : (255 * x / w), green = sq ? 200 : (255 * y / h), blue = (seed * 40 + r.nextInt(30)) & 255;
                bi.setRGB(x, y, (red << 16) | (green << 8) | blue);
            }
        return bi;
    }

    public static Path png(Path dir, String name, int w, int h, int seed) throws IOException {
        Path p = dir.resolve(name);
        Files.createDirectories(p.getParent());
        ImageIO.write(picture(w, h, seed), "png", p.toFile());
        return p;
    }

    public static Image image(int w, int h, int seed) {
        return dino4j.dino.data.ImageFolderDataset.toImage(picture(w, h, seed));
    }
}
