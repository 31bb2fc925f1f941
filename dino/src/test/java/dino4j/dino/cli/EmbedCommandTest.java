package dino4j.dino.cli;

import dino4j.dino.features.TestImages;
import dino4j.dino.model.Features;
import dino4j.tensor.io.Safetensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import javax.imageio.ImageIO;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class EmbedCommandTest {
    @TempDir Path tmp;

    private record Run(int rc, String err) {}

    private static Run run(String... args) {
        StringWriter err = new StringWriter();
        CommandLine cl = new CommandLine(new Main());
        cl.setErr(new PrintWriter(err));
        int rc = cl.execute(args);
        return new Run(rc, err.toString());
    }

    @Test
    void embedAndPcaEndToEnd() throws Exception {
        String w = TestImages.golden("vit_tiny_weights.safetensors").toString();
        Path a = TestImages.png(tmp, "a.png", 72, 40, 1), b = TestImages.png(tmp, "b.png", 50, 50, 2);
        Path out = tmp.resolve("out/e.safetensors");
        assertEquals(0, run("embed", "--weights", w, "--resize", "48", "--no-progress", "--out", out.toString(), a.toString(), b.toString()).rc());
        Safetensors.Contents c = Safetensors.read(out);
        assertArrayEquals(new int[]{2, 9, 128}, c.get(Features.PATCH).shape());

        Path png = tmp.resolve("map.png");
        assertEquals(0, run("pca", "--weights", w, "--height", "32", "--query", "10,10", "--out", png.toString(), a.toString()).rc());
        var pic = ImageIO.read(png.toFile());
        assertEquals(32, pic.getHeight());
        assertEquals(3 * 48, pic.getWidth());                       // 72·32/(40·16) = 3.6 → 3 patches = 48 px, three panels
    }

    @Test
    void clearErrors() throws Exception {
        String w = TestImages.golden("vit_tiny_weights.safetensors").toString();
        Path a = TestImages.png(tmp, "a.png", 40, 40, 1);
        Run r = run("embed", "--weights", w, "--resize", "big", a.toString());
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("--resize must be"), r.err());
        r = run("embed", "--weights", tmp.resolve("missing.safetensors").toString(), a.toString());
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("weights not found"), r.err());
        Files.writeString(tmp.resolve("bad.jpg"), "xx");
        r = run("embed", "--weights", w, "--out", tmp.resolve("x.safetensors").toString(), tmp.resolve("bad.jpg").toString());
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("bad.jpg"), r.err());
        r = run("pca", "--weights", w, "--query", "1;2", a.toString());
        assertNotEquals(0, r.rc());
        assertTrue(r.err().contains("--query must be X,Y"), r.err());
    }
}
