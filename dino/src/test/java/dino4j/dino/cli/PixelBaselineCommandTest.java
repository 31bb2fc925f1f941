package dino4j.dino.cli;

import dino4j.dino.eval.Knn;
import dino4j.tensor.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/** `knn` and `linear` with --weights pixels: the raw-pixel baseline, and knn's per-class table. */
class PixelBaselineCommandTest {
    static final int SIDE = 12;

    /** IDX files of SIDE² images: class c has a bright 3×3 block at a class-specific place (±1 pixel) on noise. */
    static float[][] writeIdx(Path dir, String prefix, int n, Random r, int[] labels) throws IOException {
        float[][] pixels = new float[n][SIDE * SIDE];
        try (var o = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-images-idx3-ubyte")))) {
            o.writeInt(0x803); o.writeInt(n); o.writeInt(SIDE); o.writeInt(SIDE);
            for (int i = 0; i < n; i++) {
                int c = labels[i], bx = 1 + (c % 3) * 3 + r.nextInt(2), by = 1 + (c / 3) * 3 + r.nextInt(2);
                for (int y = 0; y < SIDE; y++)
                    for (int x = 0; x < SIDE; x++) {
                        boolean block = x >= bx && x < bx + 3 && y >= by && y < by + 3;
                        int v = block ? 150 + r.nextInt(106) : r.nextInt(180);
                        o.writeByte(v);
                        pixels[i][y * SIDE + x] = v / 255f;
                    }
            }
        }
        try (var o = new DataOutputStream(Files.newOutputStream(dir.resolve(prefix + "-labels-idx1-ubyte")))) {
            o.writeInt(0x801); o.writeInt(n);
            for (int l : labels) o.writeByte(l);
        }
        return pixels;
    }

    static String capture(CommandLine cl, String... args) {
        java.io.PrintStream old = System.out;
        var bytes = new java.io.ByteArrayOutputStream();
        System.setOut(new java.io.PrintStream(bytes, true));
        try {
            assertEquals(0, cl.execute(args), bytes::toString);
        } finally {
            System.setOut(old);
        }
        return bytes.toString();
    }

    @Test
    void knnOnPixelsEqualsKnnOnTheRawValuesAndListsEveryClass(@TempDir Path dir) throws Exception {
        Random r = new Random(7);
        int nTr = 200, nTe = 90, classes = 9;
        int[] yTr = new int[nTr], yTe = new int[nTe];
        for (int i = 0; i < nTr; i++) yTr[i] = i % classes;
        for (int i = 0; i < nTe; i++) yTe[i] = (i * 7) % classes;
        float[][] tr = writeIdx(dir, "train", nTr, r, yTr), te = writeIdx(dir, "t10k", nTe, r, yTe);
        Knn.Result want = Knn.classify(flat(tr), yTr, flat(te), yTe, 20, 0.07);
        assertTrue(want.top1() > 0.3 && want.top1() < 1, "the data should be learnable but not trivial: " + want.top1());

        String printed = capture(new CommandLine(new KnnCommand()), "--weights", "pixels", "--data", dir.toString(), "--per-class");
        assertTrue(printed.contains(String.format(Locale.ROOT, "k-NN top-1 %.2f %%", 100 * want.top1())), printed);
        assertTrue(printed.contains("raw pixels (12×12×3") && printed.contains(SIDE + " px"), printed);
        for (int c = 0; c < classes; c++)
            assertTrue(printed.contains(String.format(Locale.ROOT, "%-18s %8d %10.2f %%", Integer.toString(c), want.queries(c), 100 * want.classAccuracy(c))),
                    "class " + c + " in\n" + printed);

        // --center subtracts the reference images' mean first (the "mean-centred" pixel anchor)
        Knn.Result centred = Knn.classify(flat(tr), yTr, flat(te), yTe, new Knn.Protocol(20, 0.07, true));
        String c = capture(new CommandLine(new KnnCommand()), "--weights", "pixels", "--data", dir.toString(), "--center");
        assertTrue(c.contains(String.format(Locale.ROOT, "k-NN top-1 %.2f %%", 100 * centred.top1())) && c.contains("mean-centred"), c);

        // --size resizes first; a linear probe reads the same pixels
        assertTrue(capture(new CommandLine(new KnnCommand()), "--weights", "pixels", "--data", dir.toString(), "--size", "8").contains("8 px"));
        String lin = capture(new CommandLine(new LinearCommand()), "--weights", "pixels", "--data", dir.toString(), "--epochs", "3", "--lr", "0.01", "--wd", "0", "--features", "cls");
        assertTrue(lin.contains("linear top-1") && lin.contains("432 wide"), lin);
    }

    @Test
    void pixelsRefuseAModelAndMissingWeightsAreNamed(@TempDir Path dir) throws Exception {
        Random r = new Random(8);
        int[] y = new int[20];
        for (int i = 0; i < y.length; i++) y[i] = i % 4;
        writeIdx(dir, "train", 20, r, y);
        writeIdx(dir, "t10k", 20, r, y);
        var err = new java.io.StringWriter();
        var cl = new CommandLine(new KnnCommand());
        cl.setErr(new java.io.PrintWriter(err));
        assertNotEquals(0, cl.execute("--weights", "pixels", "--model", "vits16", "--data", dir.toString()));
        assertTrue(err.toString().contains("--model"), err.toString());
        err.getBuffer().setLength(0);
        assertNotEquals(0, cl.execute("--weights", dir.resolve("nope.safetensors").toString(), "--data", dir.toString()));
        assertTrue(err.toString().contains("nope.safetensors"), err.toString());
    }

    static Tensor flat(float[][] x) {
        float[] f = new float[x.length * x[0].length];
        for (int i = 0; i < x.length; i++) System.arraycopy(x[i], 0, f, i * x[0].length, x[0].length);
        return Tensor.of(f, x.length, x[0].length);
    }
}
