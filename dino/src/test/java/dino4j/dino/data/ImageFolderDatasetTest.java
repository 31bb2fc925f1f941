package dino4j.dino.data;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class ImageFolderDatasetTest {
    /** 6×4 image: left half (x < 3) colour a, right half colour b. */
    static BufferedImage twoColour(int type, int a, int b) {
        BufferedImage im = new BufferedImage(6, 4, type);
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 6; x++) im.setRGB(x, y, x < 3 ? a : b);
        return im;
    }

    static void write(BufferedImage im, String fmt, Path p) throws IOException {
        Files.createDirectories(p.getParent());
        assertTrue(ImageIO.write(im, fmt, p.toFile()), "no ImageIO writer for " + fmt);
    }

    @Test void readsAllFormatsWithLabelsInSortedOrder(@TempDir Path dir) throws Exception {
        int red = 0xFF0000, blue = 0x0000FF, green = 0x00FF00;
        write(twoColour(BufferedImage.TYPE_INT_RGB, red, blue), "png", dir.resolve("cats/b.png"));
        write(twoColour(BufferedImage.TYPE_INT_RGB, red, green), "bmp", dir.resolve("cats/a.BMP"));
        write(twoColour(BufferedImage.TYPE_INT_RGB, blue, green), "gif", dir.resolve("dogs/sub/c.gif"));
        write(twoColour(BufferedImage.TYPE_INT_RGB, 0x808080, 0x808080), "jpg", dir.resolve("dogs/d.jpeg"));
        BufferedImage gray = new BufferedImage(5, 3, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 3; y++) for (int x = 0; x < 5; x++) gray.getRaster().setSample(x, y, 0, 40 * x + y);
        write(gray, "png", dir.resolve("ants/g.png"));
        Files.writeString(dir.resolve("cats/notes.txt"), "ignored");

        ImageFolderDataset ds = ImageFolderDataset.open(dir);
        assertEquals(5, ds.size());
        assertEquals(List.of("ants", "cats", "dogs"), ds.classNames());
        List<String> rel = ds.files().stream().map(p -> dir.relativize(p).toString().replace('\\', '/')).toList();
        assertEquals(List.of("ants/g.png", "cats/a.BMP", "cats/b.png", "dogs/d.jpeg", "dogs/sub/c.gif"), rel);
        assertArrayEquals(new int[]{0, 1, 1, 2, 2}, new int[]{ds.label(0), ds.label(1), ds.label(2), ds.label(3), ds.label(4)});

        // grayscale PNG: raw grey values replicated to 3 equal channels
        Image g = ds.get(0);
        assertEquals(3, g.c());
        assertEquals(3, g.h());
        assertEquals(5, g.w());
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < 3; y++) for (int x = 0; x < 5; x++) assertEquals((40 * x + y) / 255f, g.get(ch, y, x), 1e-7f);
        // lossless formats: exact colours, CHW layout
        assertPixel(ds.get(1), 0, 0, 1, 0, 0);   // bmp left red
        assertPixel(ds.get(1), 0, 5, 0, 1, 0);   // bmp right green
        assertPixel(ds.get(2), 3, 0, 1, 0, 0);   // png left red
        assertPixel(ds.get(2), 3, 5, 0, 0, 1);   // png right blue
        assertPixel(ds.get(4), 1, 1, 0, 0, 1);   // gif left blue
        assertPixel(ds.get(4), 1, 4, 0, 1, 0);   // gif right green
        Image j = ds.get(3);                     // jpeg: lossy, uniform grey ≈ 128/255
        for (float v : j.chw()) assertEquals(128 / 255f, v, 0.03f);
        ds.verify();
    }

    static void assertPixel(Image im, int y, int x, float r, float g, float b) {
        assertEquals(r, im.get(0, y, x), 1e-6f);
        assertEquals(g, im.get(1, y, x), 1e-6f);
        assertEquals(b, im.get(2, y, x), 1e-6f);
    }

    @Test void corruptFileErrorNamesIt(@TempDir Path dir) throws Exception {
        write(twoColour(BufferedImage.TYPE_INT_RGB, 0xFF0000, 0x0000FF), "png", dir.resolve("ok.png"));
        Path bad = dir.resolve("broken.png");
        Files.write(bad, new byte[]{(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3, 4, 5, 6, 7});
        Path junk = dir.resolve("junk.jpg");
        Files.writeString(junk, "this is not a jpeg");
        ImageFolderDataset ds = ImageFolderDataset.open(dir);
        assertEquals(3, ds.size());
        assertFalse(ds.hasLabels());                       // flat folder: unlabelled
        assertEquals(-1, ds.label(0));
        assertEquals(List.of(bad, junk, dir.resolve("ok.png")), ds.files());
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ds.get(0));
        assertTrue(e.getMessage().contains("broken.png"), e.getMessage());
        UncheckedIOException e2 = assertThrows(UncheckedIOException.class, () -> ds.get(1));
        assertTrue(e2.getMessage().contains("junk.jpg"), e2.getMessage());
        IOException v = assertThrows(IOException.class, ds::verify);
        assertTrue(v.getMessage().contains("broken.png"), v.getMessage());
        assertEquals(6, ds.get(2).w());
        IOException empty = assertThrows(IOException.class, () -> ImageFolderDataset.open(Files.createDirectory(dir.resolve("empty"))));
        assertTrue(empty.getMessage().contains("empty"));
    }

    @Test void idxDatasetReplicatesChannels() {
        float[][] px = {{0f, 0.5f, 1f, 0.25f}, {1f, 1f, 0f, 0f}};
        IdxDataset ds = new IdxDataset(new Idx.Images(2, 2, 2, px), new int[]{3, 7});
        assertEquals(2, ds.size());
        assertEquals(7, ds.label(1));
        assertEquals(8, ds.numClasses());
        Image im = ds.get(0);
        assertEquals(3, im.c());
        for (int ch = 0; ch < 3; ch++) assertEquals(0.25f, im.get(ch, 1, 1));
        assertEquals(-1, new IdxDataset(new Idx.Images(2, 2, 2, px), null).label(0));
    }
}
