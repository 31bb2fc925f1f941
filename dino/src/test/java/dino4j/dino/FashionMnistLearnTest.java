package dino4j.dino;

import dino4j.dino.data.Idx;
import dino4j.dino.demo.FashionMnistMlp;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * An honest learning test: a 784→256→10 GELU MLP on standardized pixels, trained with AdamW (lr 1e-3, batch 128, 3 epochs) on the
 * full Fashion-MNIST training set must reach ≥ 85% test accuracy. Skipped when the dataset (Debian package
 * dataset-fashion-mnist, or -Ddino4j.fashionMnist=DIR) is not installed.
 */
class FashionMnistLearnTest {
    static final Path DIR = Path.of(System.getProperty("dino4j.fashionMnist", "/usr/share/datasets/fashion-mnist"));

    /** The IDX reader on small synthetic files: raw and gzip, and errors that name the file. */
    @Test void idxReaderRawGzipAndErrors(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        java.io.ByteArrayOutputStream bo = new java.io.ByteArrayOutputStream();
        java.io.DataOutputStream d = new java.io.DataOutputStream(bo);
        d.writeInt(0x803); d.writeInt(2); d.writeInt(2); d.writeInt(3);
        for (int i = 0; i < 12; i++) d.writeByte(i == 11 ? 255 : i);
        Path raw = dir.resolve("img-idx3-ubyte"), gz = dir.resolve("img-idx3-ubyte.gz");
        Files.write(raw, bo.toByteArray());
        try (var os = new java.util.zip.GZIPOutputStream(Files.newOutputStream(gz))) { os.write(bo.toByteArray()); }
        for (Path p : new Path[]{raw, gz}) {
            Idx.Images im = Idx.readImages(p);
            assertEquals(2, im.n());
            assertEquals(2, im.rows());
            assertEquals(3, im.cols());
            assertEquals(1 / 255f, im.pixels()[0][1]);
            assertEquals(1f, im.pixels()[1][5]);
            assertArrayEquals(new int[]{2, 6}, im.tensor().shape());
            assertEquals(7 / 255f, (float) im.gather(new int[]{1}).get(0, 1));
        }
        Path lab = dir.resolve("lab");
        Files.write(lab, new byte[]{0, 0, 8, 1, 0, 0, 0, 3, 9, 0, 4});
        assertArrayEquals(new int[]{9, 0, 4}, Idx.readLabels(lab));
        var e1 = assertThrows(java.io.IOException.class, () -> Idx.readLabels(raw));
        assertTrue(e1.getMessage().contains(raw.toString()) && e1.getMessage().contains("0x803"), e1.getMessage());
        Path trunc = dir.resolve("trunc");
        Files.write(trunc, java.util.Arrays.copyOf(bo.toByteArray(), 20));
        var e2 = assertThrows(java.io.IOException.class, () -> Idx.readImages(trunc));
        assertTrue(e2.getMessage().contains(trunc.toString()) && e2.getMessage().contains("truncated"), e2.getMessage());
        var e3 = assertThrows(java.io.IOException.class, () -> Idx.readImages(dir.resolve("missing.gz")));
        assertTrue(e3.getMessage().contains("missing.gz"), e3.getMessage());
    }

    @Test void mlpLearnsFashionMnist() throws Exception {
        assumeTrue(FashionMnistMlp.available(DIR), "Fashion-MNIST not installed at " + DIR);
        var o = FashionMnistMlp.Options.defaults();
        var r = FashionMnistMlp.train(new FashionMnistMlp.Options(DIR, o.epochs(), o.batch(), o.hidden(), o.lr(), o.weightDecay(), 0, false));
        System.out.printf("fashion-mnist: test accuracy %.4f after %.1f s (%.0f images/s), final loss %.4f%n",
                r.testAccuracy(), r.seconds(), r.imagesPerSecond(), r.finalLoss());
        assertTrue(r.testAccuracy() >= 0.85, "test accuracy " + r.testAccuracy() + " < 0.85");
    }
}
